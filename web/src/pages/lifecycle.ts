/**
 * Lifecycle: stage sizes at the end of each period, the flows between the stages of two dates as a Sankey
 * chart, and the recommended action per stage.
 */
import type { components } from '../generated/api'
import { lang, t } from '../i18n'
import {
  addMonths,
  app,
  chartBox,
  clear,
  client,
  drawLater,
  el,
  emptyNotice,
  field,
  fill,
  format,
  loading,
  named,
  ok,
  select,
  table,
  tooltipValue,
  valueAxis,
} from '../ui'

type Stage = components['schemas']['LifecycleStage']

/** One colour per stage (the first for members not yet registered). */
const PALETTE = [
  '#bcccdc',
  '#9fb3c8',
  '#74c0fc',
  '#2f9e44',
  '#1971c2',
  '#f59f00',
  '#e8590c',
  '#c92a2a',
  '#7048e8',
]

const stageLabel = (stages: Stage[], s: string) =>
  s === 'not_registered' ? t('notRegistered') : named(stages.find((x) => x.stage === s)?.name, s)

/** The action in the page's language (the API gives it in English). */
const actionText = (s: Stage) => (lang() === 'zh' ? t(`action.${s.stage}`) : s.action)

export async function lifecyclePage(): Promise<void> {
  loading()
  // The flows endpoint without dates answers for the last three months of data: it sets the defaults.
  const initial = await ok(client.GET('/api/v1/lifecycle/flows'))
  clear()
  const end = initial.to.slice(0, 7)
  const sizesFrom = el('input', {
    id: 'lifecycle-from',
    type: 'month',
    value: addMonths(initial.to, -12).slice(0, 7),
  })
  const sizesTo = el('input', { id: 'lifecycle-to', type: 'month', value: end })
  const grain = select(
    'lifecycle-grain',
    t('grain'),
    [
      ['month', t('grain.month')],
      ['quarter', t('grain.quarter')],
    ],
    'month',
  )
  const flowFrom = el('input', { id: 'flow-from', type: 'date', value: initial.from })
  const flowTo = el('input', { id: 'flow-to', type: 'date', value: initial.to })
  const sizesBox = el('div', { id: 'lifecycle-sizes' })
  const flowsBox = el('div', { id: 'lifecycle-flows' })

  const drawSizes = () =>
    fill(sizesBox, async () => {
      const r = await ok(
        client.GET('/api/v1/lifecycle/sizes', {
          params: {
            // The select offers only these two.
            query: {
              from: sizesFrom.value,
              to: sizesTo.value,
              grain: grain.value as 'month' | 'quarter',
            },
          },
        }),
      )
      if (r.periods.length === 0) return [emptyNotice()]
      const box = chartBox('lifecycle-sizes-chart', t('stageSizesChart'))
      drawLater(box, {
        tooltip: { trigger: 'axis', valueFormatter: tooltipValue('members') },
        legend: { top: 0, type: 'scroll' },
        grid: { left: 60, right: 20, top: 40, bottom: 30 },
        xAxis: { type: 'category', data: r.periods.map((p) => p.periodStart.slice(0, 7)) },
        yAxis: valueAxis('members', { name: t('members') }),
        series: r.stages.map((s, i) => ({
          name: named(s.name, s.stage),
          type: 'bar',
          itemStyle: { color: PALETTE[i + 1] },
          stack: 'stages',
          data: r.periods.map((p) => p.sizes[s.stage] ?? 0),
        })),
      })
      const last = r.periods[r.periods.length - 1]
      const actions = table(
        'lifecycle-actions',
        t('stageActions'),
        [t('stage'), `${t('members')} (${last?.asOf ?? ''})`, t('recommendedAction')],
        r.stages.map((s) => [
          named(s.name, s.stage),
          format(last?.sizes[s.stage] ?? 0, 'members'),
          actionText(s),
        ]),
        [1],
      )
      return [box, el('h2', {}, t('stageActions')), actions]
    })

  const drawFlows = () =>
    fill(flowsBox, async () => {
      const r = await ok(
        client.GET('/api/v1/lifecycle/flows', {
          params: { query: { from: flowFrom.value, to: flowTo.value } },
        }),
      )
      if (r.flows.length === 0) return [emptyNotice()]
      // Each stage appears twice, once per date (so the chart has no cycles), in the same colour.
      const colour = (s: string) =>
        PALETTE[Math.max(0, r.stages.findIndex((x) => x.stage === s) + 1) % PALETTE.length]
      const nodes = [
        ...new Map([
          ...r.flows.map((f) => [`a:${f.from}`, f.from] as const),
          ...r.flows.map((f) => [`b:${f.to}`, f.to] as const),
        ]),
      ].map(([name, stage]) => ({ name, itemStyle: { color: colour(stage) } }))
      const box = chartBox('lifecycle-sankey', `${t('flowsChart')}: ${r.from} → ${r.to}`, 'tall')
      drawLater(box, {
        tooltip: {
          trigger: 'item',
          formatter: (p: {
            data: { source?: string; target?: string; value?: number; name?: string }
          }) =>
            p.data.source !== undefined
              ? `${stageLabel(r.stages, p.data.source.slice(2))} → ${stageLabel(r.stages, p.data.target?.slice(2) ?? '')}: ${format(p.data.value, 'members')}`
              : stageLabel(r.stages, p.data.name?.slice(2) ?? ''),
        },
        title: [
          { text: r.from, left: 10, top: 0, textStyle: { fontSize: 12 } },
          { text: r.to, right: 10, top: 0, textStyle: { fontSize: 12 } },
        ],
        series: [
          {
            type: 'sankey',
            left: 10,
            right: 150,
            top: 30,
            bottom: 10,
            nodeGap: 10,
            emphasis: { focus: 'adjacency' },
            lineStyle: { color: 'source', opacity: 0.35 },
            label: {
              fontSize: 11,
              formatter: (p: { name: string }) => stageLabel(r.stages, p.name.slice(2)),
            },
            data: nodes,
            links: r.flows.map((f) => ({
              source: `a:${f.from}`,
              target: `b:${f.to}`,
              value: f.members,
            })),
          },
        ],
      })
      const moved = r.flows.filter((f) => f.from !== f.to).sort((a, b) => b.members - a.members)
      const rows = moved
        .slice(0, 12)
        .map((f) => [
          stageLabel(r.stages, f.from),
          stageLabel(r.stages, f.to),
          format(f.members, 'members'),
        ])
      return [
        box,
        el('h2', {}, t('largestFlows')),
        rows.length === 0
          ? emptyNotice()
          : table(
              'lifecycle-flow-table',
              t('largestFlows'),
              [t('fromStage'), t('toStage'), t('members')],
              rows,
              [2],
            ),
      ]
    })

  const showSizes = el('button', { id: 'lifecycle-run', type: 'button' }, t('show'))
  const showFlows = el('button', { id: 'flow-run', type: 'button' }, t('show'))
  showSizes.addEventListener('click', () => void drawSizes())
  grain.addEventListener('change', () => void drawSizes())
  showFlows.addEventListener('click', () => void drawFlows())
  app.append(
    el('h1', {}, t('nav.lifecycle')),
    el('h2', {}, t('stageSizesChart')),
    el(
      'div',
      { class: 'controls' },
      field(t('from'), sizesFrom),
      field(t('to'), sizesTo),
      field(t('grain'), grain),
      showSizes,
    ),
    sizesBox,
    el('h2', {}, t('flowsChart')),
    el(
      'div',
      { class: 'controls' },
      field(t('fromDate'), flowFrom),
      field(t('toDate'), flowTo),
      showFlows,
    ),
    flowsBox,
  )
  await Promise.all([drawSizes(), drawFlows()])
}
