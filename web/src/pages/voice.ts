/**
 * Voice of the member and experiments: NPS and CSAT per period (optionally split by a dimension), complaint
 * and return rates, return reasons, churn after a complaint; and the report of one experiment.
 */
import type { operations } from '../generated/api'
import { t } from '../i18n'
import {
  app,
  chartBox,
  clear,
  client,
  coded,
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
  type Answer,
} from '../ui'

type Voice = Answer<'/api/v1/voice'>
type Report = Answer<'/api/v1/experiments/{id}'>
type MetricResult = Report['goal']
type Interval = MetricResult['arms'][number]['ci']
type ExperimentMetric = NonNullable<
  NonNullable<operations['getExperimentReport']['parameters']['query']>['metric']
>

const ci = (c: Interval, unit: string) => `[${format(c[0], unit)}, ${format(c[1], unit)}]`

/** An arm's name: the usual control and treatment in words, any other as the experiment names it. */
const arm = (a: string) => coded('arm', a)

/** A Holm-adjusted p-value as shown (none when the comparison has no p-value). */
const holm = (p: number | null) =>
  p !== null && p < 0.001 ? '< 0.001' : `= ${format(p, 'p_value')}`

/**
 * The report's verdict in the page's language, from its parts (the same rules as the server's `verdict`):
 * a broken assignment first; else each variant's effect on the goal, and each guardrail it worsens.
 */
function verdictText(r: Report): string {
  if (r.srm.mismatch) return t('verdict.srm').replace('{p}', (r.srm.pValue ?? NaN).toExponential(2))
  const goal = named(r.goal.name, r.goal.metric)
  const parts = r.goal.comparisons.map((c) => {
    const up = (c.effect.difference ?? 0) > 0
    const good = r.goal.higherIsBetter === up
    return (c.significant ? t(up ? 'verdict.raises' : 'verdict.lowers') : t('verdict.noChange'))
      .replace('{arm}', arm(c.arm))
      .replace('{metric}', goal)
      .replace('{outcome}', t(good ? 'verdict.win' : 'verdict.loss'))
      .replace('{p}', holm(c.pAdjusted))
  })
  const harms = r.guardrails.flatMap((g) =>
    g.comparisons
      .filter((c) => c.harmful)
      .map((c) =>
        t('verdict.harm').replace('{arm}', arm(c.arm)).replace('{metric}', named(g.name, g.metric)),
      ),
  )
  return [...parts, ...harms].join(t('verdict.separator'))
}

/** Unit of an experiment metric's values. */
const metricUnit = (m: MetricResult) =>
  m.kind === 'proportion' || m.metric.endsWith('_rate') ? 'ratio' : 'currency'

export async function voicePage(): Promise<void> {
  loading()
  const first = await ok(client.GET('/api/v1/voice'))
  clear()
  const from = el('input', { id: 'voice-from', type: 'date', value: first.range.from })
  const to = el('input', { id: 'voice-to', type: 'date', value: first.range.to })
  const grain = select('voice-grain', t('grain'), [
    ['month', t('grain.month')],
    ['quarter', t('grain.quarter')],
  ])
  const by = select(
    'voice-by',
    t('dimension'),
    ['', 'channel', 'registration_channel', 'region'].map((d) => [
      d,
      d === '' ? t('allMembers') : t(`dim.${d === 'channel' ? 'feedback_channel' : d}`),
    ]),
  )
  const run = el('button', { id: 'voice-run', type: 'button' }, t('show'))
  const voiceBox = el('div', { id: 'voice' })
  const experimentBox = el('div', { id: 'experiments' })

  const drawVoice = (preloaded?: Voice) =>
    fill(voiceBox, async () => {
      const v =
        preloaded ??
        (await ok(
          client.GET('/api/v1/voice', {
            params: {
              // The selects offer only these values ('' is every member).
              query: {
                from: from.value,
                to: to.value,
                grain: grain.value as 'month' | 'quarter',
                by: (by.value || undefined) as NonNullable<Voice['by']> | undefined,
              },
            },
          }),
        ))
      if (v.satisfaction.length === 0 && v.service.length === 0) return [emptyNotice()]
      const periods = [...new Set(v.satisfaction.map((x) => x.period))].sort()
      const dims = [...new Set(v.satisfaction.map((x) => x.dimension))]
      const at = (p: string, d: string) =>
        v.satisfaction.find((x) => x.period === p && x.dimension === d)
      const npsChart = chartBox('voice-nps-chart', t('npsTrend'))
      drawLater(npsChart, {
        tooltip: { trigger: 'axis' },
        legend: { top: 0, type: 'scroll' },
        grid: { left: 60, right: 60, top: 50, bottom: 30 },
        xAxis: { type: 'category', data: periods.map((p) => p.slice(0, 7)) },
        yAxis: [
          { type: 'value', name: 'NPS', min: -100, max: 100 },
          ...(v.by ? [] : [valueAxis('ratio', { name: 'CSAT', min: 0, max: 1 })]),
        ],
        series: [
          ...dims.map((d) => ({
            name: v.by ? `NPS · ${d}` : 'NPS',
            type: 'line',
            tooltip: { valueFormatter: tooltipValue('score') },
            data: periods.map((p) => round(at(p, d)?.nps.nps)),
          })),
          ...(v.by
            ? []
            : [
                {
                  name: 'CSAT',
                  type: 'line',
                  yAxisIndex: 1,
                  lineStyle: { type: 'dashed' },
                  tooltip: { valueFormatter: tooltipValue('ratio') },
                  data: periods.map((p) => at(p, 'all')?.csat.rate ?? null),
                },
              ]),
        ],
      })
      const serviceChart = chartBox('voice-service-chart', t('complaintsReturns'))
      drawLater(serviceChart, {
        tooltip: { trigger: 'axis', valueFormatter: tooltipValue('ratio') },
        legend: { top: 0 },
        grid: { left: 60, right: 20, top: 40, bottom: 30 },
        xAxis: { type: 'category', data: v.service.map((s) => s.period.slice(0, 7)) },
        yAxis: valueAxis('ratio', { name: '%' }),
        series: [
          {
            name: t('complaintRate'),
            type: 'line',
            data: v.service.map((s) => s.complaintRate.rate),
          },
          {
            name: t('returnRateOrders'),
            type: 'line',
            data: v.service.map((s) => s.returnRateOrders.rate),
          },
          {
            name: t('returnRateAmount'),
            type: 'line',
            data: v.service.map((s) => s.returnRateAmount),
          },
        ],
      })
      const totals = table(
        'voice-total-table',
        t('voiceTotals'),
        [
          v.by ? t(`dim.${v.by === 'channel' ? 'feedback_channel' : v.by}`) : t('period'),
          'NPS',
          t('ci95'),
          t('answers'),
          'CSAT',
          t('reviewMean'),
          t('negativeReviews'),
        ],
        v.total.map((x) => [
          v.by ? x.dimension : `${v.range.from} – ${v.range.to}`,
          format(x.nps.nps, 'score'),
          ci(x.nps.ci, 'score'),
          format(x.nps.n, 'members'),
          format(x.csat.rate, 'ratio'),
          format(x.review.mean, 'score'),
          format(x.negativeReviews.rate, 'ratio'),
        ]),
        [1, 3, 4, 5, 6],
      )
      const reasons =
        v.returnReasons.length === 0
          ? emptyNotice()
          : table(
              'voice-reasons-table',
              t('returnReasons'),
              [t('reason'), t('returns'), t('amount')],
              v.returnReasons.map((r) => [
                r.reason,
                format(r.returns, 'members'),
                format(r.amount, 'currency'),
              ]),
              [1, 2],
            )
      const cc = v.complaintChurn
      const churn = cc
        ? el(
            'p',
            { id: 'complaint-churn', class: 'notice' },
            t('complaintChurn')
              .replace('{days}', String(cc.churnDays))
              .replace('{treated}', format(cc.treatedMean, 'ratio'))
              .replace('{comparison}', format(cc.comparisonMean, 'ratio'))
              .replace('{n}', format(cc.treatedMatched, 'members'))
              .replace('{ci}', `${format(cc.ci[0], 'change')} … ${format(cc.ci[1], 'change')}`),
          )
        : ''
      return [
        el('h2', {}, t('npsTrend')),
        npsChart,
        el('h2', {}, t('voiceTotals')),
        totals,
        el('h2', {}, t('complaintsReturns')),
        serviceChart,
        churn,
        el('h2', {}, t('returnReasons')),
        reasons,
      ]
    })

  const drawExperiments = () =>
    fill(experimentBox, async () => {
      const list = await ok(client.GET('/api/v1/experiments'))
      if (list.experiments.length === 0) return [emptyNotice(t('noExperiments'))]
      const which = select(
        'experiment-id',
        t('experiment'),
        list.experiments.map((e) => [
          e.experimentId,
          `${e.experimentId} (${format(e.members, 'members')})`,
        ]),
      )
      const metric = select(
        'experiment-metric',
        t('goalMetric'),
        list.metrics.map((m) => [m, t(`xm.${m}`)]),
        'conversion',
      )
      const report = el('div', { id: 'experiment-report' })
      const show = () =>
        fill(report, async () => {
          const r = await ok(
            client.GET('/api/v1/experiments/{id}', {
              params: {
                path: { id: which.value },
                query: { metric: metric.value as ExperimentMetric },
              },
            }),
          )
          const box = chartBox('experiment-chart', t('experimentArms'))
          const unit = metricUnit(r.goal)
          drawLater(box, {
            tooltip: { trigger: 'axis', valueFormatter: tooltipValue(unit) },
            grid: { left: 70, right: 20, top: 20, bottom: 30 },
            xAxis: { type: 'category', data: r.goal.arms.map((a) => arm(a.arm)) },
            yAxis: valueAxis(unit),
            series: [
              {
                type: 'bar',
                name: named(r.goal.name, r.goal.metric),
                data: r.goal.arms.map((a) => a.value),
              },
            ],
          })
          const metrics = [r.goal, ...r.guardrails]
          const rows = metrics.flatMap((m) =>
            m.comparisons.map((c) => [
              named(m.name, m.metric) + (m === r.goal ? '' : ` (${t('guardrail')})`),
              `${arm(c.arm)} − ${arm(r.control)}`,
              format(c.effect.difference, metricUnit(m)),
              ci(c.effect.ci, metricUnit(m)),
              format(c.effect.relativeLift, 'change'),
              c.pAdjusted !== null && c.pAdjusted < 0.001
                ? '< 0.001'
                : format(c.pAdjusted, 'p_value'),
              c.harmful ? t('harmful') : c.significant ? t('significant') : t('notSignificant'),
            ]),
          )
          return [
            el(
              'p',
              { class: r.srm.mismatch ? 'notice error' : 'notice', id: 'experiment-verdict' },
              verdictText(r),
            ),
            box,
            table(
              'experiment-effects',
              t('experimentEffects'),
              [
                t('metric'),
                t('comparison'),
                t('difference'),
                t('ci95'),
                t('lift'),
                t('pHolm'),
                t('result'),
              ],
              rows,
              [2, 4, 5],
            ),
          ]
        })
      which.addEventListener('change', () => void show())
      metric.addEventListener('change', () => void show())
      await show()
      return [
        el(
          'div',
          { class: 'controls' },
          field(t('experiment'), which),
          field(t('goalMetric'), metric),
        ),
        report,
      ]
    })

  run.addEventListener('click', () => void drawVoice())
  grain.addEventListener('change', () => void drawVoice())
  by.addEventListener('change', () => void drawVoice())
  app.append(
    el('h1', {}, t('nav.voice')),
    el(
      'div',
      { class: 'controls' },
      field(t('fromDate'), from),
      field(t('toDate'), to),
      field(t('grain'), grain),
      field(t('dimension'), by),
      run,
    ),
    voiceBox,
    el('h2', {}, t('experiments')),
    experimentBox,
  )
  await Promise.all([drawVoice(first), drawExperiments()])
}

const round = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10) / 10
