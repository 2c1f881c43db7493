/** Overview: the metric tree as cards, and a node's trend by any dimension. */
import { t, lang } from '../i18n'
import type { components } from '../generated/api'
import {
  app,
  chart,
  charts,
  clear,
  client,
  el,
  format,
  loading,
  ok,
  showError,
  tooltipValue,
  valueAxis,
} from '../ui'

type TreeNode = components['schemas']['MetricTreeNode']
/** A metric query's answer (GET /api/v1/metrics/query). */
export type MetricResult = components['schemas']['MetricResult']

// Overview: the metric tree, and a node's trend by any dimension.
export async function overview(): Promise<void> {
  loading()
  const tree = await ok(client.GET('/api/v1/tree'))
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
    const r = await ok(
      client.GET('/api/v1/metrics/query', {
        params: { query: { metrics: selected, from, to, by: by || undefined } },
      }),
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
}
