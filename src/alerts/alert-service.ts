/**
 * Evaluates the alert rules on the member database and delivers what fires: stored in the alert list and
 * POSTed as JSON to a webhook, retried with exponential back-off. A rule fires at most once per period.
 *
 * The period evaluated is the last complete period of the data at the rule's grain; metric values and
 * their change come from the metric engine (`metric`, `metric:pop`, `metric:yoy`), tree statuses from the
 * metric tree for that period and the one before.
 * @module
 */
import { createHash } from 'node:crypto'
import { FORMULAS, explainChange } from '../analytics/reporting/change-explanation.js'
import type { Clock } from '../core/clock.js'
import { InputError } from '../core/errors.js'
import type { DuckDbDriver } from '../duckdb/driver.js'
import type { Grain } from '../engine/dialects/dialect.js'
import {
  addPeriods,
  dataSpan,
  lastCompletePeriod,
  periodLabel,
  periodStart,
  runMetrics,
} from '../engine/metrics/run.js'
import {
  DEFAULT_TREE,
  evaluateTree,
  type TreeConfigInput,
  type TreeNode,
} from '../engine/metrics/tree.js'
import { checkRule, type AlertCondition, type AlertRule, type Observation } from './alert-rule.js'
import {
  detectAnomalies,
  lookbackPeriods,
  type AnomalyPoint,
  type AnomalySettings,
} from './anomaly.js'
import type { AlertEvent, AlertStore, AlertTrigger } from './alert-store.js'

export interface WebhookOptions {
  /** Tries per alert (default 4). */
  readonly attempts?: number
  /** First back-off in ms, doubled after each failure (default 500). */
  readonly backoffMs?: number
  /** Per-try timeout in ms (default 5000). */
  readonly timeoutMs?: number
}

export interface AlertServiceOptions {
  readonly driver: DuckDbDriver
  readonly store: AlertStore
  readonly clock: Clock
  /** Default webhook for rules without their own. */
  readonly webhookUrl?: string
  readonly webhook?: WebhookOptions
  readonly tree?: TreeConfigInput
  /** The project time zone in which periods are counted (default UTC). */
  readonly timezone?: string
  /** Runs evaluation queries under the caller's limits (time limit, write serialisation). */
  readonly run?: <T>(fn: () => Promise<T>) => Promise<T>
  readonly log?: (e: unknown) => void
  readonly sleep?: (ms: number) => Promise<void>
}

export interface RuleOutcome {
  readonly ruleId: string
  readonly observation: Observation | null
  readonly fired: boolean
  readonly error: string | null
}

/** One node's backtest: how often the detector would have fired, per quarter. */
export interface BacktestNode {
  readonly metric: string
  readonly quarters: readonly {
    readonly quarter: string
    /** Periods with a z-score (enough history to judge). */
    readonly evaluated: number
    readonly fired: number
    /** Labels of the periods that fired. */
    readonly periods: readonly string[]
  }[]
  readonly fired: number
  readonly evaluated: number
}

export interface BacktestResult {
  readonly ruleId: string
  readonly grain: Grain
  readonly from: string
  readonly to: string
  readonly nodes: readonly BacktestNode[]
}

type AnomalyCondition = Extract<AlertCondition, { kind: 'anomaly' }>

const settingsOf = (c: AnomalyCondition): AnomalySettings => ({
  z: c.z,
  direction: c.direction,
  years: c.years,
  events: c.events,
  ...(c.window === undefined ? {} : { window: c.window }),
})

/**
 * The minute within each `everyMinutes` cycle at which a rule is evaluated: a hash of its id, so that the
 * rules of a server spread over the cycle instead of all running on one tick, and each keeps its slot.
 */
export function ruleOffsetMinutes(ruleId: string, everyMinutes: number): number {
  if (everyMinutes <= 1) return 0
  return createHash('sha256').update(ruleId).digest().readUInt32BE(0) % everyMinutes
}

/** Whether a rule's slot falls on the minute of `now` (cycles counted from the Unix epoch). */
export function isRuleDue(ruleId: string, now: Date, everyMinutes: number): boolean {
  const minute = Math.floor(now.getTime() / 60_000)
  return minute % Math.max(1, everyMinutes) === ruleOffsetMinutes(ruleId, everyMinutes)
}

const flatten = (nodes: readonly TreeNode[]): TreeNode[] =>
  nodes.flatMap((n) => [n, ...flatten(n.children)])

/** The day before a period's first day (a date inside the previous period). */
const dayBefore = (period: string) =>
  new Date(Date.parse(`${period}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10)

export class AlertService {
  private last: RuleOutcome[] = []

  constructor(private readonly o: AlertServiceOptions) {}

  get store(): AlertStore {
    return this.o.store
  }

  /** The metrics of the metric tree's nodes (core and related), in the tree's order. */
  treeMetrics(): string[] {
    const tree = this.o.tree ?? DEFAULT_TREE
    return [
      ...new Set(tree.core.flatMap((c) => [c.metric, ...(c.related ?? []).map((r) => r.metric)])),
    ]
  }

  /** The outcome of each rule in the latest evaluation. */
  lastOutcomes(): readonly RuleOutcome[] {
    return this.last
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    return this.o.run ? this.o.run(fn) : fn()
  }

  /** The detector's points for `metric` from `from` to `to` (period starts), with the history it needs. */
  private async anomalySeries(
    rule: AlertRule,
    c: AnomalyCondition,
    metric: string,
    from: string,
    to: string,
  ): Promise<AnomalyPoint[]> {
    const settings = settingsOf(c)
    const start = addPeriods(from, rule.grain, -lookbackPeriods(rule.grain, settings))
    const r = await this.run(() =>
      runMetrics(this.o.driver, {
        metrics: [metric],
        from: start,
        to,
        grain: rule.grain,
        by: [],
        where: rule.where,
        timezone: this.o.timezone ?? 'UTC',
      }),
    )
    // A period that starts before the data does (the week of the first order) holds only part of it.
    const span = await this.run(() => dataSpan(this.o.driver, this.o.timezone ?? 'UTC'))
    const series = r.rows
      .filter((row) => span !== undefined && row.period >= span.first)
      .map((row) => ({ period: row.period, value: row.values[metric] ?? null }))
    return detectAnomalies(series, rule.grain, settings, from).filter((p) => p.period <= to)
  }

  /**
   * Replays an anomaly rule's detector over the history (default: all of the data) for its metric, or for
   * each of `metrics` (the tree's nodes), and counts per quarter how often it would have fired.
   */
  async backtest(
    rule: AlertRule,
    options: { from?: string; to?: string; metrics?: readonly string[] } = {},
  ): Promise<BacktestResult> {
    const c = rule.condition
    if (c.kind !== 'anomaly')
      throw InputError.single({
        field: 'rule',
        value: rule.id,
        reason: `is a ${c.kind} rule; only anomaly rules can be backtested`,
      })
    const g = rule.grain
    const timezone = this.o.timezone ?? 'UTC'
    const span = await this.run(() => dataSpan(this.o.driver, timezone))
    const last = await this.run(() => lastCompletePeriod(this.o.driver, g, timezone))
    if (span === undefined || last === undefined)
      throw InputError.single({
        reason: 'the database holds no orders or events yet: load some with `memberlens ingest`',
      })
    const from = periodStart(options.from ?? span.first, g)
    const to = options.to === undefined ? last : periodStart(options.to, g)
    const nodes: BacktestNode[] = []
    for (const metric of options.metrics ?? [rule.metric]) {
      const points = await this.anomalySeries(rule, c, metric, from, to)
      const quarters = new Map<string, { evaluated: number; fired: number; periods: string[] }>()
      for (const p of points) {
        if (p.z === null) continue
        const q = periodLabel(periodStart(p.period, 'quarter'), 'quarter')
        const row = quarters.get(q) ?? { evaluated: 0, fired: 0, periods: [] }
        row.evaluated++
        if (p.fired) {
          row.fired++
          row.periods.push(p.label)
        }
        quarters.set(q, row)
      }
      const list = [...quarters].map(([quarter, v]) => ({ quarter, ...v }))
      nodes.push({
        metric,
        quarters: list,
        fired: list.reduce((n, q) => n + q.fired, 0),
        evaluated: list.reduce((n, q) => n + q.evaluated, 0),
      })
    }
    return { ruleId: rule.id, grain: g, from, to, nodes }
  }

  /** What the rule sees in the last complete period, or null when the data has none. */
  async observe(rule: AlertRule): Promise<Observation | null> {
    const { driver } = this.o
    const timezone = this.o.timezone ?? 'UTC'
    const period = await this.run(() => lastCompletePeriod(driver, rule.grain, timezone))
    if (period === undefined) return null
    if (rule.condition.kind === 'anomaly') {
      const point = (
        await this.anomalySeries(rule, rule.condition, rule.metric, period, period)
      ).at(-1)
      if (point === undefined) return null
      const m = rule.metric
      const r = await this.run(() =>
        runMetrics(driver, {
          metrics: [`${m}:pop`, `${m}:yoy`],
          from: period,
          to: period,
          grain: rule.grain,
          by: [],
          where: rule.where,
          timezone,
        }),
      )
      const row = r.rows.find((x) => x.period === period)
      return {
        period: point.period,
        label: point.label,
        value: point.value,
        change: { pop: row?.values[`${m}:pop`] ?? null, yoy: row?.values[`${m}:yoy`] ?? null },
        anomaly: point,
      }
    }
    if (rule.condition.kind === 'off_track') {
      const tree = this.o.tree ?? DEFAULT_TREE
      const now = await this.run(() => evaluateTree(driver, tree, { period, history: 1, timezone }))
      const before = await this.run(() =>
        evaluateTree(driver, tree, { period: dayBefore(now.period), history: 1, timezone }),
      )
      const node = flatten(now.nodes).find((n) => n.key === rule.metric)
      if (!node) throw new Error(`${rule.metric} is not a node of the metric tree`)
      const prev = flatten(before.nodes).find((n) => n.key === rule.metric)
      return {
        period: now.period,
        label: now.label,
        value: node.value,
        change: node.change,
        status: node.status,
        ...(prev ? { previousStatus: prev.status } : {}),
      }
    }
    const m = rule.metric
    const r = await this.run(() =>
      runMetrics(driver, {
        metrics: [m, `${m}:pop`, `${m}:yoy`],
        from: period,
        to: period,
        grain: rule.grain,
        by: [],
        where: rule.where,
        timezone,
      }),
    )
    const row = r.rows.find((x) => x.period === period) ?? r.rows.at(-1)
    if (!row) return null
    return {
      period: row.period,
      label: row.label,
      value: row.values[m] ?? null,
      change: { pop: row.values[`${m}:pop`] ?? null, yoy: row.values[`${m}:yoy`] ?? null },
    }
  }

  /** The decomposition of the metric's change in the period, for metrics with a formula; else null. */
  private async explanation(
    rule: AlertRule,
    period: string,
  ): Promise<Record<string, unknown> | null> {
    if (FORMULAS[rule.metric] === undefined) return null
    try {
      const e = await this.run(() =>
        explainChange(this.o.driver, rule.metric, {
          period,
          grain: rule.grain,
          where: rule.where,
          timezone: this.o.timezone ?? 'UTC',
        }),
      )
      return { ...e }
    } catch (e) {
      this.o.log?.(e)
      return null
    }
  }

  /**
   * Evaluates every enabled rule (or those `only` accepts: the server passes the rules whose slot is due);
   * stores and delivers the alerts that fire. Returns the new alerts.
   */
  async evaluate(
    trigger: AlertTrigger,
    only: (rule: AlertRule) => boolean = () => true,
  ): Promise<AlertEvent[]> {
    const outcomes: RuleOutcome[] = []
    const fired: AlertEvent[] = []
    for (const rule of this.o.store.rules().filter((r) => r.enabled && only(r))) {
      try {
        const obs = await this.observe(rule)
        const message = obs ? checkRule(rule, obs) : undefined
        outcomes.push({
          ruleId: rule.id,
          observation: obs,
          fired: message !== undefined,
          error: null,
        })
        if (!obs || message === undefined) continue
        const id = `${rule.id}:${obs.period}`
        if (this.o.store.hasEvent(id)) continue
        const url = rule.webhook ?? this.o.webhookUrl
        const a = obs.anomaly
        fired.push({
          id,
          ruleId: rule.id,
          ruleName: rule.name,
          metric: rule.metric,
          period: obs.period,
          label: obs.label,
          value: obs.value,
          change: { pop: obs.change.pop, yoy: obs.change.yoy },
          status: obs.status ?? null,
          message,
          firedAt: this.o.clock.now().toISOString(),
          trigger,
          ...(a === undefined
            ? {}
            : {
                anomaly: {
                  expected: a.expected,
                  residualKind: a.residualKind,
                  residual: a.residual,
                  z: a.z,
                  comparators: [...a.comparators],
                },
              }),
          explanation: await this.explanation(rule, obs.period),
          link: `/#/explore?metric=${encodeURIComponent(rule.metric)}&period=${encodeURIComponent(obs.label)}`,
          delivery: url === undefined ? null : { url, delivered: false, attempts: 0, error: null },
        })
      } catch (e) {
        this.o.log?.(e)
        outcomes.push({
          ruleId: rule.id,
          observation: null,
          fired: false,
          error: e instanceof Error ? e.message : String(e),
        })
      }
    }
    this.last = outcomes
    const added = await this.o.store.addEvents(fired)
    const delivered: AlertEvent[] = []
    for (const event of added) {
      if (event.delivery === null) {
        delivered.push(event)
        continue
      }
      const d = await deliver(event.delivery.url, event, this.o.webhook, this.o.sleep)
      const updated = { ...event, delivery: { url: event.delivery.url, ...d } }
      await this.o.store.updateEvent(updated)
      delivered.push(updated)
    }
    return delivered
  }
}

/**
 * POSTs the alert as JSON until a 2xx answer, up to `attempts` tries with doubling back-off. Never throws:
 * the outcome is recorded on the alert.
 */
export async function deliver(
  url: string,
  event: AlertEvent,
  options: WebhookOptions = {},
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((ok) => setTimeout(ok, ms)),
): Promise<{ delivered: boolean; attempts: number; error: string | null }> {
  const attempts = options.attempts ?? 4
  let wait = options.backoffMs ?? 500
  let error: string | null = null
  for (let i = 1; i <= attempts; i++) {
    try {
      const { delivery: _delivery, ...body } = event
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'memberlens-alerts' },
        body: JSON.stringify({ alert: body }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      })
      await r.body?.cancel()
      if (r.ok) return { delivered: true, attempts: i, error: null }
      error = `HTTP ${r.status}`
    } catch (e) {
      error = e instanceof Error ? e.message : String(e)
    }
    if (i < attempts) {
      await sleep(wait)
      wait *= 2
    }
  }
  return { delivered: false, attempts, error }
}
