/** Drivers: which related metrics move with retention. */
import { t, lang } from '../i18n'
import { api, app, chart, clear, el, loading, type Name } from '../ui'

// Drivers: which related metrics move with retention.
export async function drivers(): Promise<void> {
  loading()
  const d = await api<{
    core: string
    groups: number
    r2: number | null
    drivers: { metric: string; name: Name; r: number; ci: [number, number]; importance: number }[]
  }>('/api/v1/drivers?core=period_retention&from=2025-11&to=2026-10')
  clear()
  app.append(el('h1', {}, `${t('driversOf')} ${t('retention')} (${d.groups} ${t('groups')})`))
  const box = el('div', { class: 'chart', id: 'drivers-chart' })
  app.append(box)
  const rows = [...d.drivers].reverse()
  chart(box, {
    tooltip: { trigger: 'axis' },
    grid: { left: 200, right: 30, top: 20, bottom: 30 },
    xAxis: { type: 'value', min: -1, max: 1 },
    yAxis: { type: 'category', data: rows.map((x) => x.name[lang()]) },
    series: [{ type: 'bar', name: 'r', data: rows.map((x) => Number(x.r.toFixed(3))) }],
  })
}
