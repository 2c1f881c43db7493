/**
 * Loyalty "what if": the program design lab on the Loyalty page. Shows the server's program and its main rule
 * parameters (earn rate, expiry, caps, tier thresholds) in a small editor — or takes a whole pasted program —
 * backtests the proposal over the history (`POST /api/v1/loyalty/backtest`; nothing is written) and shows the
 * difference: a table of the totals and tiers, a chart of points issued and the liability by month, and, when the
 * proposal sets budgets, the day each would have been reached and the points beyond it.
 */
import type { components } from '../generated/api'
import { ApiError } from '../api-error'
import { lang, t } from '../i18n'
import {
  chartBox,
  client,
  drawLater,
  el,
  field,
  fill,
  format,
  ok,
  table,
  tooltipValue,
  valueAxis,
} from '../ui'

type Backtest = components['schemas']['LoyaltyBacktest']
type Delta = components['schemas']['LoyaltyBacktestDelta']

/** A deep copy of the program with the value at `path` replaced (objects along the path are created). */
function withValue(program: unknown, path: readonly (string | number)[], value: unknown): unknown {
  const copy: unknown = structuredClone(program)
  let node = copy as Record<string | number, unknown>
  path.slice(0, -1).forEach((key) => {
    const next = node[key]
    if (typeof next !== 'object' || next === null) node[key] = {}
    node = node[key] as Record<string | number, unknown>
  })
  const last = path[path.length - 1] as string | number
  if (value === undefined) delete node[last]
  else node[last] = value
  return copy
}

const numberInput = (id: string, value: string | number | null, step = '1') =>
  el('input', { id, type: 'number', min: '0', step, value: value === null ? '' : String(value) })

/** The what-if section: opened on demand, since a backtest replays the whole history. */
export function whatIfSection(): HTMLElement {
  const open = el('button', { id: 'whatif-open', type: 'button' }, t('whatIfOpen'))
  const box = el('div', { id: 'whatif' })
  const section = el(
    'section',
    { class: 'whatif' },
    el('h2', {}, t('whatIfTitle')),
    el('p', { class: 'hint' }, t('whatIfHint')),
    open,
    box,
  )
  open.addEventListener('click', () => {
    open.remove()
    void fill(box, async () => {
      try {
        return editor(await ok(client.POST('/api/v1/loyalty/backtest', { body: {} })))
      } catch (e) {
        // A server started without a loyalty program has nothing to compare against: say how to start one.
        if (e instanceof ApiError && e.status === 503)
          return [el('p', { class: 'notice empty', role: 'status' }, t('whatIfNoProgram'))]
        throw e
      }
    })
  })
  return section
}

/** The current program, the editor and the place of the result. */
function editor(first: Backtest): (Node | string)[] {
  const p = first.parameters
  const rate = numberInput('whatif-rate', p.pointsPerUnit, '0.0001')
  const expiry = numberInput(
    'whatif-expiry',
    p.expiryPolicy === 'end_of_month'
      ? p.expiryMonths
      : p.expiryPolicy === 'days'
        ? p.expiryDays
        : null,
  )
  const perOrder = numberInput('whatif-cap-order', p.perOrderCap)
  const perDay = numberInput('whatif-cap-day', p.perDayCap)
  const thresholds = p.tiers.map((tier, i) =>
    numberInput(`whatif-tier-${i}`, tier.threshold, '0.01'),
  )
  const pasted = el('textarea', {
    id: 'whatif-program',
    rows: '6',
    placeholder: t('whatIfPastePlaceholder'),
    'aria-label': t('whatIfPaste'),
  })
  const run = el('button', { id: 'whatif-run', type: 'button' }, t('whatIfRun'))
  const result = el('div', { id: 'whatif-result' })
  const tierName = (tier: (typeof p.tiers)[number]) =>
    lang() === 'zh' ? (tier.nameZh ?? tier.name) : tier.name
  const expiryLabel =
    p.expiryPolicy === 'end_of_month'
      ? t('whatIfExpiryMonths')
      : p.expiryPolicy === 'days'
        ? t('whatIfExpiryDays')
        : t('whatIfExpiryNever')

  /** The proposed program: the pasted text, or the current program with the editor's values. */
  const proposal = (): string | Record<string, unknown> => {
    if (pasted.value.trim() !== '') return pasted.value
    let next: unknown = withValue(first.program, ['earn', 'spend', 'points_per_unit'], rate.value)
    if (p.expiryPolicy !== 'never' && expiry.value !== '')
      next = withValue(
        next,
        ['expiry', p.expiryPolicy === 'days' ? 'days' : 'months'],
        Number(expiry.value),
      )
    const cap = (v: string) => (v === '' ? undefined : Number(v))
    next = withValue(next, ['earn', 'caps', 'per_order'], cap(perOrder.value))
    next = withValue(next, ['earn', 'caps', 'per_day'], cap(perDay.value))
    thresholds.forEach((input, i) => {
      next = withValue(next, ['tiers', 'levels', i, 'threshold'], input.value)
    })
    return next as Record<string, unknown>
  }
  run.addEventListener('click', () => {
    void fill(result, async () =>
      diffView(
        await ok(client.POST('/api/v1/loyalty/backtest', { body: { program: proposal() } })),
      ),
    )
  })
  const current = table(
    'whatif-current',
    t('whatIfCurrent'),
    [t('measure'), t('valueCol')],
    [
      [t('whatIfProgram'), first.current.program],
      [t('pointsIssued'), format(first.current.total.issued, 'points')],
      [
        t('whatIfLiabilityEnd'),
        format(first.current.total.liabilityAmount, 'currency', first.current.currency),
      ],
      [t('whatIfForecastBreakageRate'), format(first.current.breakage.forecastRate, 'ratio')],
    ],
    [1],
  )
  return [
    el('h3', {}, t('whatIfCurrent')),
    current,
    el('h3', {}, t('whatIfEdit')),
    el(
      'div',
      { class: 'controls' },
      field(t('whatIfRate'), rate),
      p.expiryPolicy === 'never'
        ? el('span', { class: 'hint' }, expiryLabel)
        : field(expiryLabel, expiry),
      field(t('whatIfCapOrder'), perOrder),
      field(t('whatIfCapDay'), perDay),
      ...p.tiers.map((tier, i) =>
        field(`${t('whatIfThreshold')}: ${tierName(tier)}`, thresholds[i] as HTMLInputElement),
      ),
    ),
    field(t('whatIfPaste'), pasted),
    el('div', { class: 'controls' }, run),
    result,
  ]
}

/** The proposal beside the current program: totals, tiers and a chart by month. */
function diffView(r: Backtest): (Node | string)[] {
  const d = r.diff
  const proposed = r.proposed
  if (d === null || proposed === null) return []
  const currency = r.current.currency
  const row = (label: string, x: Delta, unit: string): string[] => [
    label,
    format(x.current, unit, currency),
    format(x.proposed, unit, currency),
    `${x.change > 0 ? '+' : ''}${format(x.change, unit, currency)}`,
    format(x.ratio, 'ratio'),
  ]
  const tt = d.total
  const diffTable = table(
    'whatif-diff',
    t('whatIfDiff'),
    [
      t('measure'),
      t('whatIfCurrentCol'),
      t('whatIfProposedCol'),
      t('whatIfChange'),
      t('whatIfChangePct'),
    ],
    [
      row(t('pointsIssued'), tt.issued, 'points'),
      row(t('whatIfIssuedValue'), tt.issuedAmount, 'currency'),
      row(t('pointsRedeemed'), tt.redeemed, 'points'),
      row(t('pointsExpired'), tt.expired, 'points'),
      row(t('whatIfLiabilityEnd'), tt.liabilityAmount, 'currency'),
      row(t('whatIfForecastBreakage'), tt.forecastBreakagePoints, 'points'),
      row(t('whatIfForecastBreakageAmount'), tt.forecastBreakageAmount, 'currency'),
      row(t('whatIfDeferral'), tt.deferredRevenue, 'currency'),
      row(t('whatIfCapOrderHits'), tt.perOrderCapHits, 'count'),
      row(t('whatIfCapOrderMembers'), tt.perOrderCapMembers, 'members'),
      row(t('whatIfCapDayHits'), tt.perDayCapHits, 'count'),
      row(t('whatIfCapDayMembers'), tt.perDayCapMembers, 'members'),
      row(t('whatIfRefused'), tt.refusedRedemptionPoints, 'points'),
      row(t('upgrades'), tt.upgrades, 'count'),
      row(t('downgrades'), tt.downgrades, 'count'),
    ],
    [1, 2, 3, 4],
  )
  const levels = new Map(r.parameters.tiers.map((x) => [x.id, x]))
  const tierTable = table(
    'whatif-tiers',
    t('whatIfTiers'),
    [
      t('tier'),
      t('whatIfCurrentCol'),
      t('whatIfProposedCol'),
      t('whatIfChange'),
      t('whatIfChangePct'),
    ],
    d.tiers.map((x) => {
      const level = levels.get(x.tier)
      const name =
        level === undefined ? x.tier : lang() === 'zh' ? (level.nameZh ?? level.name) : level.name
      return row(name, x, 'members')
    }),
    [1, 2, 3, 4],
  )
  const budgetTable =
    proposed.budgets.length === 0
      ? null
      : table(
          'whatif-budgets',
          t('whatIfBudgets'),
          [
            t('whatIfBudget'),
            t('whatIfBudgetLimit'),
            t('whatIfBudgetFirstHit'),
            t('whatIfBudgetBeyond'),
            t('whatIfBudgetBeyondAmount'),
            t('whatIfBudgetMonths'),
          ],
          proposed.budgets.map((b) => [
            b.scope === 'global' ? b.id : `${b.id} (${(b.match ?? []).join(', ')})`,
            `${format(b.limit, 'points')} ${b.kind === 'liability' ? t('whatIfBudgetLiability') : t('whatIfBudgetMonthly')}`,
            b.firstHit ?? t('whatIfBudgetNever'),
            format(b.pointsBeyond, 'points'),
            format(b.amountBeyond, 'currency', currency),
            format(b.hits.length, 'count'),
          ]),
          [3, 4, 5],
        )
  const months = d.months.map((m) => m.month)
  const chart = chartBox('whatif-chart', t('whatIfChart'))
  drawLater(chart, {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 80, right: 80, top: 40, bottom: 30 },
    xAxis: { type: 'category', data: months },
    yAxis: [
      valueAxis('points', { name: t('points') }),
      valueAxis('currency', { name: t('liabilityAmount'), position: 'right' }),
    ],
    series: [
      {
        type: 'bar',
        name: `${t('pointsIssued')} · ${t('whatIfCurrentCol')}`,
        data: d.months.map((m) => m.issued.current),
        tooltip: { valueFormatter: tooltipValue('points') },
      },
      {
        type: 'bar',
        name: `${t('pointsIssued')} · ${t('whatIfProposedCol')}`,
        data: d.months.map((m) => m.issued.proposed),
        tooltip: { valueFormatter: tooltipValue('points') },
      },
      {
        type: 'line',
        yAxisIndex: 1,
        name: `${t('liabilityAmount')} · ${t('whatIfCurrentCol')}`,
        data: d.months.map((m) => m.liabilityAmount.current),
        tooltip: { valueFormatter: tooltipValue('currency') },
      },
      {
        type: 'line',
        yAxisIndex: 1,
        name: `${t('liabilityAmount')} · ${t('whatIfProposedCol')}`,
        data: d.months.map((m) => m.liabilityAmount.proposed),
        tooltip: { valueFormatter: tooltipValue('currency') },
      },
    ],
  })
  return [
    el(
      'h3',
      {},
      `${t('whatIfDiff')}: ${proposed.program} · ${r.current.from ?? ''} … ${r.current.to ?? ''}`,
    ),
    diffTable,
    el('h3', {}, t('whatIfChart')),
    chart,
    el('h3', {}, t('whatIfTiers')),
    tierTable,
    ...(budgetTable === null
      ? []
      : [
          el('h3', {}, t('whatIfBudgets')),
          budgetTable,
          el('p', { class: 'hint' }, t('whatIfBudgetsHint')),
        ]),
    el('p', { class: 'hint' }, t('whatIfMethod')),
  ]
}
