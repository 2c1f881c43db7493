/**
 * Alert rules and the alerts they fired, in a JSON file beside the database (`memberlens.alerts.json`),
 * written atomically and re-read when it changes, so `memberlens alerts …` and a running server share it.
 * The newest {@link MAX_EVENTS} alerts are kept.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import type { Clock } from '../core/clock.js'
import { JsonFile } from './json-file.js'
import { NotFoundError } from '../core/errors.js'
import {
  alertRuleInputSchema,
  alertRuleSchema,
  type AlertRule,
  type AlertRuleInput,
} from './alert-rule.js'

export const MAX_EVENTS = 1000
export const ALERT_TRIGGERS = ['ingest', 'schedule', 'manual'] as const
export type AlertTrigger = (typeof ALERT_TRIGGERS)[number]

export const alertEventSchema = z.object({
  /** `<rule id>:<period>`: a rule fires once per period. */
  id: z.string(),
  ruleId: z.string(),
  ruleName: z.string(),
  metric: z.string(),
  period: z.string(),
  label: z.string(),
  value: z.number().nullable(),
  change: z.object({ pop: z.number().nullable(), yoy: z.number().nullable() }),
  status: z.string().nullable(),
  message: z.string(),
  firedAt: z.string(),
  trigger: z.enum(ALERT_TRIGGERS),
  /** The dashboard page charting the metric (`/#/explore?metric=…&period=…`). */
  link: z.string(),
  /** What the anomaly detector saw (anomaly rules): the baseline, its comparators, residual and z-score. */
  anomaly: z
    .object({
      expected: z.number().nullable(),
      residualKind: z.enum(['log', 'difference']),
      residual: z.number().nullable(),
      z: z.number().nullable(),
      comparators: z.array(
        z.object({
          yearsBack: z.number(),
          period: z.string(),
          value: z.number().nullable(),
          event: z.string().nullable(),
        }),
      ),
    })
    .nullable()
    .optional(),
  /**
   * The exact decomposition of the metric's change in the period (as `memberlens explain-change` and
   * `/api/v1/tree/decomposition`), for metrics that are a product or sum of others; null otherwise.
   */
  explanation: z.record(z.string(), z.unknown()).nullable().optional(),
  delivery: z
    .object({
      url: z.string(),
      delivered: z.boolean(),
      attempts: z.number(),
      error: z.string().nullable(),
    })
    .nullable(),
})
export type AlertEvent = z.infer<typeof alertEventSchema>

const fileSchema = z
  .object({ rules: z.array(alertRuleSchema), events: z.array(alertEventSchema) })
  .strict()
type AlertFile = z.infer<typeof fileSchema>

export class AlertStore {
  private readonly file: JsonFile<AlertFile>

  constructor(
    readonly path: string,
    private readonly clock: Clock,
  ) {
    this.file = new JsonFile(
      path,
      fileSchema,
      () => ({ rules: [], events: [] }),
      'a memberlens alerts file',
    )
  }

  private read(): AlertFile {
    return this.file.read()
  }

  private update<T>(fn: (data: AlertFile) => { data: AlertFile; value: T }): Promise<T> {
    return this.file.update(fn)
  }

  rules(): AlertRule[] {
    return this.read().rules
  }

  getRule(id: string): AlertRule {
    const r = this.rules().find((x) => x.id === id)
    if (!r) throw new NotFoundError(`no alert rule ${id}`)
    return r
  }

  addRule(input: AlertRuleInput): Promise<AlertRule> {
    const rule: AlertRule = {
      ...alertRuleInputSchema.parse(input),
      id: randomBytes(4).toString('hex'),
      createdAt: this.clock.now().toISOString(),
    }
    return this.update((d) => ({ data: { ...d, rules: [...d.rules, rule] }, value: rule }))
  }

  /**
   * Adds rules, replacing a stored rule of the same name in place (same id and creation time). Returns the
   * stored rules, and which were new.
   */
  importRules(inputs: readonly AlertRuleInput[]): Promise<{ rule: AlertRule; added: boolean }[]> {
    const parsed = inputs.map((i) => alertRuleInputSchema.parse(i))
    return this.update((d) => {
      const rules = [...d.rules]
      const out: { rule: AlertRule; added: boolean }[] = []
      for (const input of parsed) {
        const at = rules.findIndex((r) => r.name === input.name)
        const old = at < 0 ? undefined : rules[at]
        const rule: AlertRule = {
          ...input,
          id: old?.id ?? randomBytes(4).toString('hex'),
          createdAt: old?.createdAt ?? this.clock.now().toISOString(),
        }
        if (at < 0) rules.push(rule)
        else rules[at] = rule
        out.push({ rule, added: at < 0 })
      }
      return { data: { ...d, rules }, value: out }
    })
  }

  removeRule(id: string): Promise<AlertRule> {
    return this.update((d) => {
      const rule = d.rules.find((r) => r.id === id)
      if (!rule) throw new NotFoundError(`no alert rule ${id}`)
      return { data: { ...d, rules: d.rules.filter((r) => r.id !== id) }, value: rule }
    })
  }

  /** Alerts newest first. */
  events(options: { limit?: number; ruleId?: string } = {}): AlertEvent[] {
    return this.read()
      .events.filter((e) => options.ruleId === undefined || e.ruleId === options.ruleId)
      .slice(0, options.limit ?? 100)
  }

  hasEvent(id: string): boolean {
    return this.read().events.some((e) => e.id === id)
  }

  /** Adds new alerts (ignoring ids already stored) and returns those added. */
  addEvents(events: readonly AlertEvent[]): Promise<AlertEvent[]> {
    return this.update((d) => {
      const seen = new Set(d.events.map((e) => e.id))
      const fresh = events.filter((e) => !seen.has(e.id))
      return {
        data: { ...d, events: [...fresh.slice().reverse(), ...d.events].slice(0, MAX_EVENTS) },
        value: fresh,
      }
    })
  }

  /** Replaces a stored alert (its delivery outcome). */
  updateEvent(event: AlertEvent): Promise<void> {
    return this.update((d) => ({
      data: { ...d, events: d.events.map((e) => (e.id === event.id ? event : e)) },
      value: undefined,
    }))
  }
}
