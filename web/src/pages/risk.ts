/**
 * Risk and win-back: members and predicted CLV at risk per churn class with the class's win-back playbook,
 * the mix of reasons and early-warning signals, the score distribution, the early-warning list with its
 * reasons, a CSV export of a churn class for campaign tools, and the latest uplift targeting run (Qini per
 * offer on held-out randomised members, the budgeted plan).
 */
import type { components } from '../generated/api'
import { t } from '../i18n'
import {
  app,
  chartBox,
  clear,
  client,
  coded,
  download,
  drawLater,
  el,
  emptyNotice,
  field,
  fill,
  format,
  loading,
  ok,
  select,
  table,
  tooltipValue,
  valueAxis,
} from '../ui'

type Mix = NonNullable<components['schemas']['RiskMix']>

const CLASSES = [
  'high-value-at-risk',
  'service-dissatisfied',
  'price-sensitive',
  'disengaged',
] as const
type ChurnClass = (typeof CLASSES)[number]

/** A code's label in the page's language (the code itself when there is none). */
const label = coded

/** Downloads one churn class as CSV. */
const exportClass = (churnClass: string, minScore: number): Promise<void> =>
  download(`/api/v1/risk-export?churnClass=${churnClass}&minScore=${minScore}`, `${churnClass}.csv`)

export async function riskPage(): Promise<void> {
  loading()
  const first = await ok(client.GET('/api/v1/risk-mix'))
  clear()
  app.append(el('h1', {}, t('nav.risk')))
  if (first.risk === null) {
    app.append(emptyNotice(t('noRiskRun')))
    return
  }
  const threshold = select(
    'risk-threshold',
    t('riskThreshold'),
    ['0.3', '0.5', '0.7', '0.9'].map((x) => [x, `≥ ${Math.round(Number(x) * 100)}%`]),
    '0.5',
  )
  const mixBox = el('div', { id: 'risk-mix' })
  const listBox = el('div', { id: 'risk-list-box' })
  const klass = select('risk-class', t('churnClass'), [
    ['', t('allClasses')],
    ...CLASSES.map((c) => [c, label('class', c)] as const),
  ])

  const drawMix = (preloaded?: Mix) =>
    fill(mixBox, async () => {
      const m =
        preloaded ??
        (
          await ok(
            client.GET('/api/v1/risk-mix', {
              params: { query: { threshold: Number(threshold.value) } },
            }),
          )
        ).risk
      if (m === null) return [emptyNotice(t('noRiskRun'))]
      const kpis = table(
        'risk-kpis',
        t('riskSummary'),
        [t('measure'), t('valueCol')],
        [
          [t('membersScored'), format(m.members, 'members')],
          [t('membersAtRisk'), format(m.atRisk, 'members')],
          [
            t('clvAtRisk'),
            m.clvAtRisk === null ? t('noClvRunShort') : format(m.clvAtRisk, 'currency'),
          ],
        ],
        [1],
      )
      const classChart = chartBox('risk-class-chart', t('churnReasonMix'))
      drawLater(classChart, {
        tooltip: { trigger: 'axis', valueFormatter: tooltipValue('members') },
        legend: { top: 0 },
        grid: { left: 170, right: 70, top: 30, bottom: 30 },
        xAxis: [valueAxis('members', { name: t('members') })],
        yAxis: { type: 'category', data: m.classes.map((c) => label('class', c.churnClass)) },
        series: [
          { type: 'bar', name: t('membersAtRisk'), data: m.classes.map((c) => c.atRisk) },
          {
            type: 'bar',
            name: t('members'),
            data: m.classes.map((c) => c.members),
            itemStyle: { color: '#bcccdc' },
          },
        ],
      })
      const reasons = chartBox('risk-reasons-chart', t('reasonMix'))
      const top = m.reasons.slice(0, 10).reverse()
      drawLater(reasons, {
        tooltip: { trigger: 'axis', valueFormatter: tooltipValue('members') },
        grid: { left: 200, right: 30, top: 10, bottom: 30 },
        xAxis: valueAxis('members', { name: t('members') }),
        yAxis: { type: 'category', data: top.map((r) => label('reason', r.code)) },
        series: [{ type: 'bar', data: top.map((r) => r.members), itemStyle: { color: '#e8590c' } }],
      })
      const scores = chartBox('risk-score-chart', t('scoreDistribution'))
      drawLater(scores, {
        tooltip: { trigger: 'axis', valueFormatter: tooltipValue('members') },
        grid: { left: 60, right: 20, top: 20, bottom: 40 },
        xAxis: {
          type: 'category',
          name: t('riskScore'),
          nameLocation: 'middle',
          nameGap: 25,
          data: m.scoreBins.map((_, i) => `${i * 10}–${i * 10 + 10}%`),
        },
        yAxis: valueAxis('members', { name: t('members') }),
        series: [{ type: 'bar', data: m.scoreBins }],
      })
      const classRows = m.classes.map((c) => {
        const button = el(
          'button',
          {
            type: 'button',
            class: 'export',
            'data-class': c.churnClass,
            'aria-label': `${t('exportCsv')}: ${label('class', c.churnClass)}`,
          },
          t('exportCsv'),
        )
        button.addEventListener(
          'click',
          () => void exportClass(c.churnClass, Number(threshold.value)),
        )
        return [
          label('class', c.churnClass),
          format(c.atRisk, 'members'),
          format(c.members, 'members'),
          format(c.meanScore, 'ratio'),
          format(c.clvAtRisk, 'currency'),
          label('playbook', c.churnClass),
          button,
        ]
      })
      const signalRows = m.signals.map((s) => [
        label('signal', s.code),
        format(s.members, 'members'),
      ])
      return [
        el('div', { class: 'two' }, el('div', {}, kpis), el('div', {}, classChart)),
        el('h2', {}, t('playbooks')),
        table(
          'risk-class-table',
          t('playbooks'),
          [
            t('churnClass'),
            t('membersAtRisk'),
            t('members'),
            t('meanScore'),
            t('clvAtRisk'),
            t('playbook'),
            t('export'),
          ],
          classRows,
          [1, 2, 3, 4],
        ),
        el(
          'div',
          { class: 'two' },
          el('div', {}, el('h2', {}, t('scoreDistribution')), scores),
          el('div', {}, el('h2', {}, t('reasonMix')), reasons),
        ),
        el('h2', {}, t('signalMix')),
        signalRows.length === 0
          ? emptyNotice()
          : table(
              'risk-signal-table',
              t('signalMix'),
              [t('signal'), t('membersAtRisk')],
              signalRows,
              [1],
            ),
      ]
    })

  const drawList = () =>
    fill(listBox, async () => {
      const l = await ok(
        client.GET('/api/v1/risk', {
          params: {
            query: {
              limit: 50,
              minScore: Number(threshold.value),
              order: first.risk?.clvRunId ? 'clv_at_risk' : 'score',
              // The select offers the classes and '' (all).
              churnClass: (klass.value || undefined) as ChurnClass | undefined,
            },
          },
        }),
      )
      if (l.members.length === 0) return [emptyNotice()]
      return [
        table(
          'risk-list',
          t('earlyWarning'),
          [
            t('member'),
            t('riskScore'),
            t('churnClass'),
            t('reasons'),
            t('signals'),
            t('clv'),
            t('clvAtRisk'),
            t('playbook'),
          ],
          l.members.map((x) => [
            el('a', { href: `#/member/${x.memberId}` }, String(x.memberId)),
            format(x.score, 'ratio'),
            label('class', x.churnClass),
            x.reasons.map((r) => label('reason', r)).join(', '),
            x.signals.map((s) => label('signal', s)).join(', '),
            format(x.clv, 'currency'),
            format(x.clvAtRisk, 'currency'),
            label('playbook', x.churnClass),
          ]),
          [1, 5, 6],
        ),
      ]
    })

  threshold.addEventListener('change', () => void Promise.all([drawMix(), drawList()]))
  klass.addEventListener('change', () => void drawList())
  app.append(
    el(
      'p',
      { class: 'hint' },
      `${t('riskRun')} `,
      el('code', { class: 'id' }, first.risk.runId),
      first.risk.asOf === null ? '' : ` · ${t('scoresAsOf').replace('{date}', first.risk.asOf)}`,
    ),
    el('div', { class: 'controls' }, field(t('riskThreshold'), threshold)),
    mixBox,
    el('h2', {}, t('earlyWarning')),
    el('div', { class: 'controls' }, field(t('churnClass'), klass)),
    listBox,
  )
  const upliftBox = el('div', { id: 'risk-uplift' })
  app.append(el('h2', {}, t('upliftTargeting')), upliftBox)
  await Promise.all([drawMix(first.risk), drawList(), fill(upliftBox, upliftSection)])
}

/** The latest targeting run: Qini per offer on held-out members and the budgeted plan. */
async function upliftSection(): Promise<Node[]> {
  const { targeting: r } = await ok(client.GET('/api/v1/targeting'))
  if (r === null) return [emptyNotice(t('noTargetingRun'))]
  const stat = (v: number) => v.toFixed(4)
  const upliftAt = (q: (typeof r.qini)[number], share: number) =>
    format(q.upliftAt.find((u) => u.share === share)?.uplift ?? null, 'ratio')
  const withInterval = (
    i: { estimate: number; low: number | null; high: number | null },
    unit: string,
  ) =>
    i.low === null || i.high === null
      ? format(i.estimate, unit)
      : `${format(i.estimate, unit)} (${format(i.low, unit)} … ${format(i.high, unit)})`
  const p = r.policy
  return [
    el(
      'p',
      { class: 'hint' },
      `${t('targetingRun')} `,
      el('code', { class: 'id' }, r.runId),
      ` · ${t('targetingCampaign')
        .replace('{campaign}', r.campaignId)
        .replace('{start}', r.campaignStart.slice(0, 10))
        .replace('{days}', String(r.horizonDays))
        .replace('{asOf}', r.asOf)}`,
    ),
    el('h3', {}, t('qiniPerArm')),
    table(
      'risk-qini',
      t('qiniPerArm'),
      [
        t('offerArm'),
        t('upliftLearner'),
        t('qiniCoefficient'),
        t('auuc'),
        t('randomAuuc'),
        t('upliftTop10'),
        t('upliftTop30'),
      ],
      r.qini.map((q) => [
        el('code', { class: 'id' }, q.arm),
        coded('learner', q.learner),
        stat(q.qini),
        stat(q.auuc),
        stat(q.randomAuuc),
        upliftAt(q, 0.1),
        upliftAt(q, 0.3),
      ]),
      [2, 3, 4, 5, 6],
    ),
    el('h3', {}, t('targetingPlan')),
    el(
      'p',
      { class: 'hint', id: 'risk-plan-learner' },
      t('planLearner').replace('{learner}', coded('learner', r.learner)),
    ),
    table(
      'risk-targeting-plan',
      t('targetingPlan'),
      [t('measure'), t('valueCol')],
      [
        [t('budget'), format(r.budget, 'currency')],
        [t('membersTargeted'), format(p.members, 'members')],
        [t('incrementalRetained'), withInterval(p.retained, 'members')],
        [t('incrementalRevenue'), withInterval(p.revenue, 'currency')],
        [t('expectedCost'), withInterval(p.cost, 'currency')],
        [t('netValue'), withInterval(p.net, 'currency')],
        [
          t('roi'),
          p.roi === null
            ? format(null, 'ratio')
            : `${p.roi.estimate.toFixed(2)}×` +
              (p.roi.low === null || p.roi.high === null
                ? ''
                : ` (${p.roi.low.toFixed(2)}× … ${p.roi.high.toFixed(2)}×)`),
        ],
      ],
      [1],
    ),
  ]
}
