/**
 * Evaluates the alert rules on the member database and delivers what fires: stored in the alert list and
 * POSTed as JSON to a webhook, retried with exponential back-off. A rule fires at most once per period.
 *
 * The period evaluated is the last complete period of the data at the rule's grain; metric values and
 * their change come from the metric engine (`metric`, `metric:pop`, `metric:yoy`), tree statuses from the
 * metric tree for that period and the one before.
 * @module
 */
import type { Clock } from '../core/clock.js'
import type { DuckDbDriver } from '../duckdb/driver.js'
import { lastCompletePeriod, runMetrics } from '../engine/metrics/run.js'
import {
  DEFAULT_TREE,
  evaluateTree,
  type TreeConfigInput,
  type TreeNode,
} from '../engine/metrics/tree.js'
import { checkRule, type AlertRule, type Observation } from './alert-rule.js'
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

  /** The outcome of each rule in the latest evaluation. */
  lastOutcomes(): readonly RuleOutcome[] {
    return this.last
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    return this.o.run ? this.o.run(fn) : fn()
  }

  /** What the rule sees in the last complete period, or null when the data has none. */
  async observe(rule: AlertRule): Promise<Observation | null> {
    const { driver } = this.o
    const timezone = this.o.timezone ?? 'UTC'
    const period = await this.run(() => lastCompletePeriod(driver, rule.grain, timezone))
    if (period === undefined) return null
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

  /** Evaluates every enabled rule; stores and delivers the alerts that fire. Returns the new alerts. */
  async evaluate(trigger: AlertTrigger): Promise<AlertEvent[]> {
    const outcomes: RuleOutcome[] = []
    const fired: AlertEvent[] = []
    for (const rule of this.o.store.rules().filter((r) => r.enabled)) {
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
