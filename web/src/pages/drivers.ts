/** Drivers: which related metrics move with retention, over the data's last twelve complete months. */
import { t, lang } from '../i18n'
import { app, chart, clear, client, el, loading, ok, tooltipValue } from '../ui'

export async function drivers(): Promise<void> {
  loading()
  // No dates: the server takes the twelve months ending with the data's last complete one.
  const d = await ok(
    client.GET('/api/v1/drivers', { params: { query: { core: 'period_retention' } } }),
  )
  clear()
  if (d.from === null || d.to === null) {
    app.append(el('h1', {}, `${t('driversOf')} ${t('retention')}`))
    app.append(el('p', { class: 'notice empty' }, t('noActivity')))
    return
  }
  app.append(
    el(
      'h1',
      {},
      `${t('driversOf')} ${t('retention')} · ${d.from.slice(0, 7)} – ${d.to.slice(0, 7)} (${d.groups} ${t('groups')})`,
    ),
  )
  app.append(el('p', { class: 'hint' }, t('driversCaveat')))
  const rows = [...d.drivers].reverse()
  const missing = rows.filter((x) => x.r === null).map((x) => x.name[lang()])
  const box = el('div', { class: 'chart', id: 'drivers-chart' })
  app.append(box)
  chart(box, {
    tooltip: { trigger: 'axis', valueFormatter: tooltipValue('correlation') },
    grid: { left: 200, right: 30, top: 20, bottom: 30 },
    xAxis: { type: 'value', min: -1, max: 1, name: 'r' },
    yAxis: { type: 'category', data: rows.map((x) => x.name[lang()]) },
    series: [
      {
        type: 'bar',
        name: 'r',
        // A metric without a correlation is a gap, not a zero bar.
        data: rows.map((x) => x.r),
      },
    ],
  })
  if (missing.length > 0)
    app.append(el('p', { class: 'hint' }, `${t('noCorrelation')}: ${missing.join(', ')}`))
}
