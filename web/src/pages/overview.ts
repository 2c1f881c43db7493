/**
 * Overview: for a month picked from the data's own (by default its last complete month), the key figures of
 * the member base with their change against the previous month (环比) and the same month last year (同比),
 * the metric tree as cards (each core metric's change rates folded into its card), and a metric's trend by
 * any dimension.
 */
import { markEvents } from '../events'
import { t, lang } from '../i18n'
import type { components } from '../generated/api'
import { info } from '../glossary'
import {
  app,
  chart,
  charts,
  clear,
  client,
  coded,
  el,
  emptyNotice,
  fill,
  format,
  loading,
  ok,
  showError,
  tooltipValue,
  valueAxis,
} from '../ui'

type TreeNode = components['schemas']['MetricTreeNode']
type ChangeByDimension = components['schemas']['ChangeByDimension']
type ChangePart = components['schemas']['ChangePart']
/** A metric query's answer (GET /api/v1/metrics/query). */
export type MetricResult = components['schemas']['MetricResult']

/** The key figures, in the order a manager reads them (catalog metric ids). */
const KEY_FIGURES = [
  'members_total',
  'active_members',
  'buyers',
  'orders',
  'net_revenue',
  'repurchase_rate',
  'nps',
] as const

/** `YYYY-MM` shifted by `n` months. */
function shiftMonth(month: string, n: number): string {
  const i = Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1 + n
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`
}

/** Every month from `first` to `last` (YYYY-MM), newest first. */
function monthsBetween(first: string, last: string): string[] {
  const out: string[] = []
  for (let m = last; m >= first && out.length < 600; m = shiftMonth(m, -1)) out.push(m)
  return out
}

// Overview: key figures and the metric tree for a month, and a node's trend by any dimension. The month can
// be named in the link: `#/overview?period=YYYY-MM`.
export async function overview(): Promise<void> {
  loading()
  const o = (await ok(client.GET('/api/v1/overview'))).overview
  clear()
  const title = el('h1', {}, t('nav.overview'))
  if (o === null) {
    app.append(title, emptyNotice(t('noActivity')))
    return
  }
  // The picker offers the data's months: from its first activity to its last complete month.
  const latest = o.month.slice(0, 7)
  const first = (o.allTime.firstActivity ?? o.month).slice(0, 7)
  const months = monthsBetween(first < latest ? first : latest, latest)
  const picker = el(
    'select',
    { id: 'overview-period', 'aria-label': t('periodPicker') },
    ...months.map((m) => el('option', { value: m }, m)),
  )
  const wanted = new URLSearchParams(location.hash.split('?')[1] ?? '').get('period') ?? ''
  picker.value = months.includes(wanted) ? wanted : latest
  const body = el('div', { id: 'overview-body' })
  app.append(
    title,
    el('div', { class: 'controls' }, el('label', {}, t('periodPicker'), picker)),
    body,
  )
  const draw = () => fill(body, () => monthView(picker.value, title))
  picker.addEventListener('change', () => void draw())
  await draw()
}

/** The key figures, the tree and the trend chart of one month. */
async function monthView(month: string, title: HTMLElement): Promise<HTMLElement[]> {
  const [tree, figures, moved] = await Promise.all([
    ok(client.GET('/api/v1/tree', { params: { query: { period: month } } })),
    ok(
      client.GET('/api/v1/metrics/query', {
        params: {
          query: { metrics: KEY_FIGURES.join(','), from: shiftMonth(month, -12), to: month },
        },
      }),
    ),
    ok(
      client.GET('/api/v1/tree/decomposition/{metric}', {
        params: {
          path: { metric: 'net_revenue' },
          query: { period: month, by: 'region,registration_channel' },
        },
      }),
    ),
  ])
  title.textContent = `${tree.goal.name[lang()]} — ${tree.label}`
  const trend = el('div', { class: 'chart', id: 'trend-chart', 'aria-label': t('trendChart') })
  const dimSelect = el(
    'select',
    { id: 'trend-dim', 'aria-label': t('dimension') },
    ...['', 'registration_channel', 'region', 'cohort'].map((d) =>
      el('option', { value: d }, d === '' ? t('allMembers') : t(`dim.${d}`)),
    ),
  )
  let selected = tree.nodes[0]?.metric ?? 'net_revenue'
  const drawTrend = async () => {
    const by = dimSelect.value
    const r = await ok(
      client.GET('/api/v1/metrics/query', {
        params: {
          query: {
            metrics: selected,
            from: shiftMonth(month, -11),
            to: month,
            by: by || undefined,
          },
        },
      }),
    )
    drawSeries(trend, r, selected, by)
  }
  const pick = (metric: string) => () => {
    selected = metric
    void drawTrend().catch(showError)
  }
  const key = el(
    'section',
    { class: 'group key-figures', id: 'key-figures', 'aria-label': t('keyFigures') },
    el('h2', {}, t('keyFigures')),
    el(
      'div',
      { class: 'cards' },
      ...KEY_FIGURES.map((id) => keyFigure(id, month, figures, pick(id))),
    ),
  )
  const groups = tree.nodes.map((core) => {
    const cards = el('div', { class: 'cards' })
    // The core metric's change rates (the tree's trend nodes) are part of its card, not cards of their own.
    const trends = core.children.filter((n) => n.role === 'trend')
    cards.append(card(core, trends, pick(core.metric)))
    for (const n of core.children.filter((x) => x.role !== 'trend'))
      cards.append(card(n, [], pick(n.metric)))
    return el('section', { class: 'group', 'aria-label': core.name[lang()] }, cards)
  })
  dimSelect.addEventListener('change', () => void drawTrend().catch(showError))
  requestAnimationFrame(() => void drawTrend().catch(showError))
  const why = whyChanged(moved)
  return [
    key,
    ...(why === null ? [] : [why]),
    ...groups,
    el('h2', {}, t('trendByDimension')),
    el('div', { class: 'controls' }, el('label', {}, t('dimension'), dimSelect)),
    trend,
  ]
}

const signedPoints = (points: number): string => {
  const text = Math.abs(points * 100).toFixed(1)
  return `${Number(text) === 0 ? '' : points < 0 ? '\u2212' : '+'}${text}`
}

/** "Buyers −5.1 pts" (a part of a change, in points of the change rate above it). */
function partText(p: ChangePart): string {
  return p.points === null
    ? `${p.name[lang()]} ${format(p.contribution, 'money')}`
    : `${p.name[lang()]} ${signedPoints(p.points)} ${t('change.pts')}`
}

/**
 * Why net revenue moved against the previous month: its exact split into buyers, frequency and AOV, and the
 * region and channel where the change is furthest from their share ("largest: 浙江 · app buyers −25.8 pts").
 * Null when the month or the one before has no value.
 */
function whyChanged(e: ChangeByDimension): HTMLElement | null {
  const split = e.pop
  if (split === null || split.rate === null) return null
  const rate = `${signedPoints(split.rate)}%`
  const vs = t('change.vsPrevious')
  const head = lang() === 'zh' ? `${e.name.zh} ${vs} ${rate}` : `${e.name.en} ${rate} ${vs}`
  const parts = split.parts.map(partText).join(lang() === 'zh' ? '，' : ', ')
  const largest = e.drills.pop?.largest
  const where =
    largest === null || largest === undefined
      ? ''
      : `${lang() === 'zh' ? '；' : '; '}${t('change.largest')}${lang() === 'zh' ? '：' : ': '}${largest.path
          .map((p) =>
            p.value === null
              ? '–'
              : p.dimension === 'registration_channel'
                ? coded('channel', p.value)
                : p.value,
          )
          .join(' · ')}${largest.part === null ? '' : ` ${partText(largest.part)}`}`
  return el(
    'section',
    { class: 'group why-changed', id: 'why-changed', 'aria-label': t('change.title') },
    el('h2', {}, t('change.title')),
    el('p', {}, `${head}${lang() === 'zh' ? '：' : ': '}${parts}${where}`),
  )
}

/**
 * A key figure of the month: its value, and its change against the previous month and the same month last
 * year — relative for counts and money, in percentage points for rates, in points for scores (NPS). A month
 * without data shows "–" and no change, never 0.
 */
function keyFigure(id: string, month: string, r: MetricResult, onClick: () => void): HTMLElement {
  const col = r.columns.find((c) => c.key === id)
  const unit = col?.unit ?? ''
  const at = (m: string): number | null =>
    r.rows.find((x) => x.period.slice(0, 7) === m)?.values[id] ?? null
  const value = at(month)
  const changeUnit = unit === 'ratio' ? 'pp' : unit === 'score' ? 'score_delta' : 'change'
  const change = (before: number | null): number | null => {
    if (value === null || before === null) return null
    if (changeUnit !== 'change') return value - before
    return before === 0 ? null : value / before - 1
  }
  const delta = (label: string, d: number | null, kind: string) =>
    el(
      'span',
      {
        class: `delta ${d === null || d === 0 ? 'flat' : d > 0 ? 'up' : 'down'}`,
        'data-change': kind,
      },
      `${label} ${format(d, changeUnit)}`,
    )
  const name = col?.name[lang()] ?? id
  const c = el(
    'article',
    {
      class: 'card key',
      tabindex: '0',
      'data-metric': id,
      'aria-label': `${name}: ${format(value, unit)}`,
    },
    el('div', { class: 'name' }, name, ' ', info(id)),
    el('div', { class: 'value' }, format(value, unit)),
    el(
      'div',
      { class: 'meta' },
      delta(t('pop'), change(at(shiftMonth(month, -1))), 'pop'),
      ' · ',
      delta(t('yoy'), change(at(shiftMonth(month, -12))), 'yoy'),
    ),
  )
  c.addEventListener('click', onClick)
  c.addEventListener('keydown', (e) => e.key === 'Enter' && onClick())
  return c
}

/** A node of the tree; `trends` are its change-rate nodes, shown as its 环比/同比 with their own status. */
function card(n: TreeNode, trends: readonly TreeNode[], onClick: () => void): HTMLElement {
  const name = n.name[lang()]
  const spark = el('div', { class: 'spark' })
  const changeOf = (kind: 'pop' | 'yoy') => {
    const node = trends.find((x) => x.key.endsWith(`:${kind}`))
    return el(
      'span',
      { class: 'delta', 'data-change': kind },
      `${t(kind)} ${format(n.change[kind], 'change')}`,
      node
        ? el(
            'span',
            { class: `status ${node.status}`, title: `${t('target')} ${t('noDecline')}` },
            t(`status.${node.status}`),
          )
        : '',
    )
  }
  const c = el(
    'article',
    {
      class: `card ${n.role} ${n.status}`,
      tabindex: '0',
      'data-metric': n.key,
      'aria-label': `${name}: ${format(n.value, n.unit)}`,
    },
    el(
      'div',
      { class: 'name' },
      name,
      ' ',
      info(n.metric),
      ' ',
      el('span', { class: `status ${n.status}` }, t(`status.${n.status}`)),
    ),
    el('div', { class: 'value' }, format(n.value, n.unit)),
    el(
      'div',
      { class: 'meta' },
      n.targetText ? `${t('target')} ${format(n.target, n.unit)}` : t('noTarget'),
    ),
    el('div', { class: 'meta changes' }, changeOf('pop'), ' · ', changeOf('yoy')),
    spark,
  )
  c.addEventListener('click', onClick)
  c.addEventListener('keydown', (e) => e.key === 'Enter' && onClick())
  requestAnimationFrame(() =>
    chart(spark, {
      grid: { left: 2, right: 2, top: 4, bottom: 4 },
      xAxis: { type: 'category', show: false, data: n.series.map((_, i) => i) },
      yAxis: { type: 'value', show: false, scale: true },
      series: [
        { type: 'line', data: n.series, symbol: 'none', smooth: true, lineStyle: { width: 2 } },
      ],
    }),
  )
  return c
}

export function drawSeries(container: HTMLElement, r: MetricResult, key: string, by: string): void {
  const labels = [...new Set(r.rows.map((x) => x.label))]
  const groups = by ? [...new Set(r.rows.map((x) => x.dims[by] ?? t('noValue')))] : ['']
  const col = r.columns.find((c) => c.key === key)
  const existing = charts.find((c) => c.getDom() === container)
  const c = existing ?? chart(container, {})
  c.setOption(
    {
      animation: false,
      tooltip: {
        trigger: 'axis',
        valueFormatter: tooltipValue(col?.unit ?? ''),
      },
      legend: { top: 0 },
      grid: { left: 70, right: 20, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: labels },
      yAxis: valueAxis(col?.unit ?? '', { name: col?.name[lang()] ?? key }),
      series: groups.map((g) => ({
        name: by ? g : (col?.name[lang()] ?? key),
        type: 'line',
        data: labels.map(
          (l) =>
            r.rows.find((x) => x.label === l && (!by || (x.dims[by] ?? t('noValue')) === g))
              ?.values[key] ?? null,
        ),
      })),
    },
    { notMerge: true },
  )
  markEvents(c, labels)
}
