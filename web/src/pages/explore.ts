/**
 * Metrics explorer: any metric over any range, by a dimension, for the members with a value of a member field
 * (region, channel, tier, …) chosen among the values the data holds, as a chart and a table.
 */
import { t, lang } from '../i18n'
import { app, clear, client, el, format, loading, ok, showError } from '../ui'
import { dimensionValues, optionText } from '../values'
import { drawSeries } from './overview'

/** The member fields a filter can name (`where`), the region first. */
const FILTER_DIMENSIONS = [
  'region',
  'city',
  'registration_channel',
  'gender',
  'cohort',
  'tier',
] as const

/** `YYYY-MM` shifted by `n` months. */
function shiftMonth(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number]
  const i = y * 12 + (m - 1) + n
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`
}

/** The splits the explorer offers, of those the catalog allows for a metric. */
const SPLITS = [
  'registration_channel',
  'region',
  'cohort',
  'order_channel',
  'lifecycle_stage',
  'rfm_segment',
  'tier',
] as const

// Metrics explorer: any metrics, range, grain and dimension, as a chart and a table. An alert's link opens it
// as `#/explore?metric=<id>&period=<YYYY-MM>` (and `&where=<field>=<value>` for a rule with a filter): that
// metric over the year up to that month.
export async function explore(): Promise<void> {
  loading()
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '')
  const [{ metrics }, latest] = await Promise.all([
    ok(client.GET('/api/v1/metrics')),
    ok(client.GET('/api/v1/overview')),
  ])
  const period = params.get('period') ?? ''
  const end = /^\d{4}-\d{2}$/.test(period)
    ? period
    : (latest.overview?.month.slice(0, 7) ?? new Date().toISOString().slice(0, 7))
  clear()
  const metricSelect = el(
    'select',
    { id: 'explore-metric', 'aria-label': t('metric') },
    ...metrics.map((m) => el('option', { value: m.id }, m.name[lang()])),
  )
  const wanted = params.get('metric') ?? ''
  metricSelect.value = metrics.some((m) => m.id === wanted) ? wanted : 'net_revenue'
  const from = el('input', {
    id: 'explore-from',
    type: 'month',
    value: shiftMonth(end, /^\d{4}-\d{2}$/.test(period) ? -11 : -9),
    'aria-label': t('from'),
  })
  const to = el('input', {
    id: 'explore-to',
    type: 'month',
    value: end,
    'aria-label': t('to'),
  })
  const by = el('select', { id: 'explore-by', 'aria-label': t('dimension') })
  // The splits the chosen metric allows (the catalog's `dimensions`): net revenue, for one, has no order
  // channel, and offering it would only earn a refusal. A split the new metric lacks falls back to none.
  const offerSplits = () => {
    const allowed = metrics.find((x) => x.id === metricSelect.value)?.dimensions ?? []
    const current = by.value
    by.replaceChildren(
      ...['', ...SPLITS.filter((d) => allowed.includes(d))].map((d) =>
        el('option', { value: d }, d === '' ? t('allMembers') : t(`dim.${d}`)),
      ),
    )
    by.value = [...by.options].some((o) => o.value === current) ? current : ''
  }
  offerSplits()
  metricSelect.addEventListener('change', offerSplits)
  // The filter: a member field, and one of the values the data holds for it (with the members who have it).
  const [wantedDim, wantedValue] = (params.get('where') ?? '').split(/=(.*)/s, 2) as [
    string,
    string | undefined,
  ]
  const whereDim = el(
    'select',
    { id: 'explore-where-dim', 'aria-label': t('filterBy') },
    ...FILTER_DIMENSIONS.map((d) => el('option', { value: d }, t(`dim.${d}`))),
  )
  whereDim.value = (FILTER_DIMENSIONS as readonly string[]).includes(wantedDim)
    ? wantedDim
    : 'region'
  const whereValue = el('select', { id: 'explore-where', 'aria-label': t('filterValue') })
  const fillValues = async (keep?: string) => {
    const v = await dimensionValues(whereDim.value)
    whereValue.replaceChildren(
      el('option', { value: '' }, v.values.length === 0 ? t('noValues') : t('allValues')),
      ...v.values.map((x) => el('option', { value: x.value }, optionText(x))),
    )
    whereValue.title = v.note ?? ''
    whereValue.value = keep !== undefined && v.values.some((x) => x.value === keep) ? keep : ''
  }
  await fillValues(wantedValue)
  whereDim.addEventListener('change', () => void fillValues().catch(showError))
  const out = el('div', { class: 'chart', id: 'explore-chart' })
  const tableBox = el('div', { id: 'explore-table' })
  const run = async () => {
    const m = metricSelect.value
    const where = whereValue.value ? `${whereDim.value}=${whereValue.value}` : undefined
    tableBox.replaceChildren(el('p', { class: 'loading' }, t('loading')))
    const r = await ok(
      client.GET('/api/v1/metrics/query', {
        params: {
          query: { metrics: m, from: from.value, to: to.value, by: by.value || undefined, where },
        },
      }),
    )
    drawSeries(out, r, m, by.value)
    const unit = r.columns[0]?.unit ?? ''
    const rows = r.rows.map((x) =>
      el(
        'tr',
        {},
        el('td', {}, x.label),
        ...(by.value ? [el('td', {}, x.dims[by.value] ?? t('noValue'))] : []),
        el('td', { class: 'num' }, format(x.values[m], unit)),
      ),
    )
    tableBox.replaceChildren(
      r.rows.length === 0
        ? el('p', {}, t('empty'))
        : el(
            'table',
            {},
            el(
              'thead',
              {},
              el(
                'tr',
                {},
                el('th', {}, t('period')),
                ...(by.value ? [el('th', {}, t(`dim.${by.value}`))] : []),
                el('th', {}, r.columns[0]?.name[lang()] ?? m),
              ),
            ),
            el('tbody', {}, ...rows),
          ),
    )
  }
  // A refused query shows the server's reason in place of the table; the controls stay to change it.
  const show = () =>
    run().catch((e: unknown) =>
      tableBox.replaceChildren(
        el(
          'p',
          { class: 'notice error', role: 'alert' },
          `${t('error')}: ${e instanceof Error ? e.message : String(e)}`,
        ),
      ),
    )
  const button = el('button', { id: 'explore-run', type: 'button' }, t('show'))
  button.addEventListener('click', () => void show())
  app.append(
    el('h1', {}, t('nav.explore')),
    el(
      'div',
      { class: 'controls' },
      el('label', {}, t('metric'), metricSelect),
      el('label', {}, t('from'), from),
      el('label', {}, t('to'), to),
      el('label', {}, t('dimension'), by),
      el('label', {}, t('filterBy'), whereDim),
      el('label', {}, t('filterValue'), whereValue),
      button,
    ),
    out,
    tableBox,
  )
  await show()
}
