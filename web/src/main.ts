/**
 * The memberlens dashboard: pages over the HTTP API, charts with ECharts (SVG renderer), zh-CN and en labels.
 * It reaches the server only through HTTP, with the API key from the URL it was opened with (`#key=…`),
 * kept for the browser session.
 */
import { BarChart, HeatmapChart, LineChart, SankeyChart } from 'echarts/charts'
import {
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components'
import * as echarts from 'echarts/core'
import { SVGRenderer } from 'echarts/renderers'
import { t, setLang, lang, type Lang } from './i18n'
import { lifecyclePage } from './pages/lifecycle'
import { loyaltyPage } from './pages/loyalty'
import { riskPage } from './pages/risk'
import { segmentsPage } from './pages/segments'
import { valuePage } from './pages/value'
import { voicePage } from './pages/voice'
import { api, app, chart, charts, clear, el, format, loading, showError, type Name } from './ui'

echarts.use([
  LineChart,
  BarChart,
  HeatmapChart,
  SankeyChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  TitleComponent,
  MarkLineComponent,
  VisualMapComponent,
  SVGRenderer,
])

interface TreeNode {
  role: 'core' | 'related' | 'trend'
  key: string
  metric: string
  name: Name
  unit: string
  value: number | null
  target: number | null
  targetText: string | null
  status: string
  change: { pop: number | null; yoy: number | null }
  series: (number | null)[]
  children: TreeNode[]
}
interface Tree {
  goal: { name: Name }
  label: string
  period: string
  nodes: TreeNode[]
}
interface MetricDef {
  id: string
  name: Name
  unit: string
  family: string
  dimensions: string[]
}
interface MetricResult {
  by: string[]
  columns: { key: string; unit: string; name: Name }[]
  rows: {
    label: string
    period: string
    dims: Record<string, string | null>
    values: Record<string, number | null>
  }[]
}

// Overview: the metric tree, and a node's trend by any dimension.
async function overview(): Promise<void> {
  loading()
  const tree = await api<Tree>('/api/v1/tree')
  clear()
  app.append(el('h1', {}, `${tree.goal.name[lang()]} — ${tree.label}`))
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
    const to = tree.period.slice(0, 7)
    const from = new Date(Date.UTC(Number(to.slice(0, 4)), Number(to.slice(5, 7)) - 12, 1))
      .toISOString()
      .slice(0, 7)
    const r = await api<MetricResult>(
      `/api/v1/metrics/query?metrics=${selected}&from=${from}&to=${to}${by ? `&by=${by}` : ''}`,
    )
    drawSeries(trend, r, selected, by)
  }
  for (const core of tree.nodes) {
    const group = el('section', { class: 'group', 'aria-label': core.name[lang()] })
    const cards = el('div', { class: 'cards' })
    for (const n of [core, ...core.children])
      cards.append(
        card(n, () => {
          selected = n.metric
          void drawTrend().catch(showError)
        }),
      )
    group.append(cards)
    app.append(group)
  }
  app.append(
    el('h2', {}, t('trendByDimension')),
    el('div', { class: 'controls' }, el('label', {}, t('dimension'), dimSelect)),
    trend,
  )
  dimSelect.addEventListener('change', () => void drawTrend().catch(showError))
  await drawTrend()
}

function card(n: TreeNode, onClick: () => void): HTMLElement {
  const unit = n.role === 'trend' ? 'change' : n.unit
  const name = n.role === 'trend' ? n.name[lang()] : n.name[lang()]
  const spark = el('div', { class: 'spark' })
  const c = el(
    'article',
    {
      class: `card ${n.role} ${n.status}`,
      tabindex: '0',
      'data-metric': n.key,
      'aria-label': `${name}: ${format(n.value, unit)}`,
    },
    el(
      'div',
      { class: 'name' },
      name,
      ' ',
      el('span', { class: `status ${n.status}` }, t(`status.${n.status}`)),
    ),
    el('div', { class: 'value' }, format(n.value, unit)),
    el(
      'div',
      { class: 'meta' },
      n.targetText
        ? `${t('target')} ${n.role === 'trend' ? t('noDecline') : format(n.target, unit)}`
        : t('noTarget'),
      n.role === 'trend'
        ? ''
        : ` · ${t('pop')} ${format(n.change.pop, 'change')} · ${t('yoy')} ${format(n.change.yoy, 'change')}`,
    ),
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

function drawSeries(container: HTMLElement, r: MetricResult, key: string, by: string): void {
  const labels = [...new Set(r.rows.map((x) => x.label))]
  const groups = by ? [...new Set(r.rows.map((x) => x.dims[by] ?? '(none)'))] : ['']
  const col = r.columns.find((c) => c.key === key)
  const existing = charts.find((c) => c.getDom() === container)
  const c = existing ?? chart(container, {})
  c.setOption(
    {
      animation: false,
      tooltip: {
        trigger: 'axis',
        valueFormatter: (v: unknown) => format(v as number, col?.unit ?? ''),
      },
      legend: { top: 0 },
      grid: { left: 70, right: 20, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: labels },
      yAxis: { type: 'value' },
      series: groups.map((g) => ({
        name: by ? g : (col?.name[lang()] ?? key),
        type: 'line',
        data: labels.map(
          (l) =>
            r.rows.find((x) => x.label === l && (!by || (x.dims[by] ?? '(none)') === g))?.values[
              key
            ] ?? null,
        ),
      })),
    },
    { notMerge: true },
  )
}

// Metrics explorer: any metrics, range, grain and dimension, as a chart and a table.
async function explore(): Promise<void> {
  loading()
  const { metrics } = await api<{ metrics: MetricDef[] }>('/api/v1/metrics')
  clear()
  const metricSelect = el(
    'select',
    { id: 'explore-metric', 'aria-label': t('metric') },
    ...metrics.map((m) => el('option', { value: m.id }, m.name[lang()])),
  )
  metricSelect.value = 'net_revenue'
  const from = el('input', {
    id: 'explore-from',
    type: 'month',
    value: '2026-01',
    'aria-label': t('from'),
  })
  const to = el('input', {
    id: 'explore-to',
    type: 'month',
    value: '2026-10',
    'aria-label': t('to'),
  })
  const by = el(
    'select',
    { id: 'explore-by', 'aria-label': t('dimension') },
    ...['', 'registration_channel', 'region', 'cohort', 'order_channel'].map((d) =>
      el('option', { value: d }, d === '' ? t('allMembers') : t(`dim.${d}`)),
    ),
  )
  const region = el('input', {
    id: 'explore-where',
    placeholder: t('regionFilter'),
    'aria-label': t('regionFilter'),
  })
  const out = el('div', { class: 'chart', id: 'explore-chart' })
  const tableBox = el('div', { id: 'explore-table' })
  const run = async () => {
    const m = metricSelect.value
    const where = region.value.trim()
      ? `&where=${encodeURIComponent(`region=${region.value.trim()}`)}`
      : ''
    tableBox.replaceChildren(el('p', { class: 'loading' }, t('loading')))
    const r = await api<MetricResult>(
      `/api/v1/metrics/query?metrics=${m}&from=${from.value}&to=${to.value}${by.value ? `&by=${by.value}` : ''}${where}`,
    )
    drawSeries(out, r, m, by.value)
    const unit = r.columns[0]?.unit ?? ''
    const rows = r.rows.map((x) =>
      el(
        'tr',
        {},
        el('td', {}, x.label),
        ...(by.value ? [el('td', {}, x.dims[by.value] ?? '(none)')] : []),
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
  const button = el('button', { id: 'explore-run', type: 'button' }, t('show'))
  button.addEventListener('click', () => void run().catch(showError))
  app.append(
    el('h1', {}, t('nav.explore')),
    el(
      'div',
      { class: 'controls' },
      el('label', {}, t('metric'), metricSelect),
      el('label', {}, t('from'), from),
      el('label', {}, t('to'), to),
      el('label', {}, t('dimension'), by),
      el('label', {}, t('regionFilter'), region),
      button,
    ),
    out,
    tableBox,
  )
  await run()
}

// Drivers: which related metrics move with retention.
async function drivers(): Promise<void> {
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

// Member 360: search by member id, phone, email or card.
async function member(query?: string): Promise<void> {
  clear()
  const input = el('input', {
    id: 'member-query',
    placeholder: t('memberSearch'),
    'aria-label': t('memberSearch'),
    value: query ?? '',
  })
  const button = el('button', { id: 'member-search', type: 'button' }, t('search'))
  const result = el('div', { id: 'member-result' })
  const search = async () => {
    result.replaceChildren(el('p', { class: 'loading' }, t('loading')))
    try {
      const p = await api<{
        member: Record<string, unknown>
        identities: Record<string, unknown>[]
        purchases: Record<string, number | string | null>
        clv: { pAlive: number; expectedPurchases: number; clv: number } | null
        masked: boolean
      }>(`/api/v1/members/${encodeURIComponent(input.value.trim())}`)
      const kv = (k: string, v: unknown) =>
        el('tr', {}, el('th', {}, k), el('td', {}, v === null || v === undefined ? '–' : String(v)))
      result.replaceChildren(
        el('h2', {}, `${t('member')} ${String(p.member['memberId'])}`),
        el(
          'table',
          {},
          ...Object.entries(p.member)
            .filter(([, v]) => v !== null)
            .map(([k, v]) => kv(k, v)),
        ),
        el('h2', {}, t('identities') + (p.masked ? ` (${t('masked')})` : '')),
        el(
          'table',
          {},
          ...p.identities.map((i) =>
            kv(
              String(i['identityType']),
              `${String(i['identityValue'])} · ${String(i['firstSeenAt'] ?? '')}`,
            ),
          ),
        ),
        el('h2', {}, t('purchases')),
        el('table', {}, ...Object.entries(p.purchases).map(([k, v]) => kv(k, v))),
        ...(p.clv
          ? [
              el('h2', {}, t('predicted')),
              el(
                'table',
                { id: 'member-clv' },
                kv(t('pAlive'), format(p.clv.pAlive, 'ratio')),
                kv(t('expectedPurchases'), format(p.clv.expectedPurchases, 'per_member')),
                kv(t('clv'), format(p.clv.clv, 'currency')),
              ),
            ]
          : []),
      )
    } catch (e) {
      result.replaceChildren(
        el('p', { class: 'error', role: 'alert' }, e instanceof Error ? e.message : String(e)),
      )
    }
  }
  button.addEventListener('click', () => void search())
  input.addEventListener('keydown', (e) => e.key === 'Enter' && void search())
  app.append(el('h1', {}, t('nav.member')), el('div', { class: 'controls' }, input, button), result)
  if (query) await search()
}

// Retention: the cohort heatmap, lifecycle stage sizes and RFM segments.
async function retention(): Promise<void> {
  loading()
  const [c, l, r] = await Promise.all([
    api<{
      cohorts: { cohort: string; size: number; cells: { period: number; rate: number | null }[] }[]
    }>('/api/v1/cohorts?grain=month&periods=12'),
    api<{
      asOf: string
      stages: { stage: string; members: number; name?: Name; action?: string }[]
    }>('/api/v1/lifecycle'),
    api<{ segments: { segment: string; members: number; name?: Name; revenue?: number }[] }>(
      '/api/v1/rfm',
    ),
  ])
  clear()
  const cohorts = c.cohorts.slice(-18)
  const heat = el('div', { class: 'chart', id: 'cohort-chart', 'aria-label': t('cohortHeatmap') })
  const stages = el('div', { class: 'chart', id: 'stage-chart', 'aria-label': t('lifecycle') })
  app.append(
    el('h1', {}, t('nav.retention')),
    el('h2', {}, t('cohortHeatmap')),
    heat,
    el('h2', {}, `${t('lifecycle')} (${l.asOf})`),
    stages,
  )
  const data: [number, number, number | null][] = []
  cohorts.forEach((co, y) =>
    co.cells.forEach((cell) =>
      data.push([cell.period, y, cell.rate === null ? null : Math.round(cell.rate * 1000) / 10]),
    ),
  )
  chart(heat, {
    tooltip: {},
    grid: { left: 110, right: 20, top: 10, bottom: 60 },
    xAxis: { type: 'category', data: Array.from({ length: 13 }, (_, i) => `+${i}`) },
    yAxis: { type: 'category', data: cohorts.map((x) => `${x.cohort.slice(0, 7)} (${x.size})`) },
    visualMap: {
      min: 0,
      max: 100,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      inRange: { color: ['#f0f4f8', '#2f6fb3'] },
    },
    series: [{ type: 'heatmap', data, label: { show: true, fontSize: 9 } }],
  })
  const stageName = (x: { stage: string; name?: Name }) => x.name?.[lang()] ?? x.stage
  chart(stages, {
    tooltip: { trigger: 'axis' },
    grid: { left: 160, right: 20, top: 10, bottom: 30 },
    xAxis: { type: 'value' },
    yAxis: { type: 'category', data: l.stages.map(stageName) },
    series: [{ type: 'bar', data: l.stages.map((x) => Number(x.members)) }],
  })
  const rows = r.segments.map((x) =>
    el(
      'tr',
      {},
      el('td', {}, x.name?.[lang()] ?? x.segment),
      el('td', { class: 'num' }, format(Number(x.members), 'members')),
      el('td', { class: 'num' }, format(x.revenue ?? null, 'currency')),
    ),
  )
  app.append(
    el('h2', {}, t('rfm')),
    el(
      'table',
      { id: 'rfm-table' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', {}, t('segment')),
          el('th', {}, t('members')),
          el('th', {}, t('revenue')),
        ),
      ),
      el('tbody', {}, ...rows),
    ),
  )
}

const PAGES: Record<string, () => Promise<void>> = {
  overview,
  explore,
  retention,
  lifecycle: lifecyclePage,
  segments: segmentsPage,
  risk: riskPage,
  loyalty: loyaltyPage,
  value: valuePage,
  voice: voicePage,
  drivers,
  member: () => {
    const id = /^#\/member\/(.+)$/.exec(location.hash)?.[1]
    return member(id === undefined ? undefined : decodeURIComponent(id))
  },
}

async function route(): Promise<void> {
  const page = /^#\/(\w+)/.exec(location.hash)?.[1] ?? 'overview'
  document
    .querySelectorAll<HTMLAnchorElement>('header nav a')
    .forEach((a) => a.classList.toggle('active', a.dataset['page'] === page))
  document
    .querySelectorAll<HTMLElement>('[data-i18n]')
    .forEach((e) => (e.textContent = t(e.dataset['i18n'] ?? '')))
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en'
  try {
    await (PAGES[page] ?? overview)()
  } catch (e) {
    showError(e)
  }
}

const langSelect = document.querySelector<HTMLSelectElement>('#lang') as HTMLSelectElement
langSelect.value = lang()
langSelect.addEventListener('change', () => {
  setLang(langSelect.value as Lang)
  void route()
})
window.addEventListener('hashchange', () => void route())
window.addEventListener('resize', () => charts.forEach((c) => c.resize()))
void route()
