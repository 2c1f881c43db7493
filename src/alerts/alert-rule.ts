/**
 * Alert rules: a metric (any catalog metric, or a metric-tree node, which is keyed by its metric) and a
 * condition — a threshold on the value, a relative change against the previous period or the same period last
 * year, or the node's status turning off track. `checkRule` is pure: it turns one observation into a firing
 * message or nothing.
 * @module
 */
import { z } from 'zod'
import { InputError } from '../core/errors.js'
import { parseYamlWith } from '../core/yaml-input.js'
import { GRAINS } from '../engine/dialects/dialect.js'
import { DEFAULT_ALIGN_EVENTS, type AnomalyPoint } from './anomaly.js'

export const THRESHOLD_OPS = ['>', '>=', '<', '<='] as const
export const CHANGE_AGAINST = ['previous', 'last_year'] as const
export const CHANGE_DIRECTIONS = ['up', 'down', 'either'] as const

export const alertConditionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('threshold'), op: z.enum(THRESHOLD_OPS), value: z.number() }).strict(),
  z
    .object({
      kind: z.literal('change'),
      against: z.enum(CHANGE_AGAINST),
      direction: z.enum(CHANGE_DIRECTIONS).default('either'),
      /** Fires when the change is at least this many percent (10 = ±10 %). */
      percent: z.number().positive().max(10_000),
    })
    .strict(),
  z.object({ kind: z.literal('off_track') }).strict(),
  z
    .object({
      kind: z.literal('anomaly'),
      /** Fires when the robust z-score of the residual against the calendar-matched baseline reaches this. */
      z: z.number().positive().max(100).default(4.5),
      direction: z.enum(CHANGE_DIRECTIONS).default('either'),
      /** Earlier years in the baseline. */
      years: z.number().int().min(1).max(5).default(3),
      /** Retail-calendar events aligned on, in priority order (ids as in `memberlens calendar`). */
      events: z
        .array(z.string().regex(/^[a-z0-9_]{1,64}$/, 'an event id (see memberlens calendar)'))
        .max(30)
        .default([...DEFAULT_ALIGN_EVENTS]),
      /** Residuals before the period from which the noise is estimated (default by grain). */
      window: z.number().int().min(6).max(400).optional(),
    })
    .strict(),
])
export type AlertCondition = z.infer<typeof alertConditionSchema>

export const alertRuleInputSchema = z
  .object({
    name: z.string().min(1).max(200),
    metric: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,63}$/, 'a metric id (see GET /api/v1/metrics) or a tree node'),
    condition: alertConditionSchema,
    grain: z.enum(GRAINS).default('month'),
    /** Filters as in metric queries (`region=浙江`); values are data. Not used by `off_track`. */
    where: z.array(z.string().min(1).max(500)).max(10).default([]),
    /** Where to POST the alert; default: the server's webhook. */
    webhook: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .optional(),
    enabled: z.boolean().default(true),
  })
  .strict()
export type AlertRuleInput = z.input<typeof alertRuleInputSchema>

export const alertRuleSchema = alertRuleInputSchema.extend({
  id: z.string().regex(/^[0-9a-f]{8}$/),
  createdAt: z.string(),
})
export type AlertRule = z.infer<typeof alertRuleSchema>

/**
 * An alert rules file: `rules:` a list of rules as the API takes them. Imported rules replace the stored rule
 * of the same name (keeping its id), so that thresholds are changed by editing the file and importing it again.
 */
export const alertRulesFileSchema = z
  .object({ rules: z.array(alertRuleInputSchema).min(1) })
  .strict()

/** Reads an alert rules file (YAML); errors name the file, line, field and reason. */
export function parseAlertRulesFile(text: string, file: string): AlertRuleInput[] {
  const parsed = parseYamlWith(alertRulesFileSchema, text, file)
  const seen = new Set<string>()
  for (const r of parsed.rules) {
    if (seen.has(r.name))
      throw InputError.single({
        file,
        field: 'rules.name',
        value: r.name,
        reason: 'two rules have this name',
      })
    seen.add(r.name)
  }
  return parsed.rules
}

/** What an evaluation saw for one rule in one period. */
export interface Observation {
  readonly period: string
  readonly label: string
  readonly value: number | null
  /** Ratio change against the previous period and last year (−0.05 = −5 %). */
  readonly change: { readonly pop: number | null; readonly yoy: number | null }
  /** Tree status now and in the previous period (off_track rules only). */
  readonly status?: string
  readonly previousStatus?: string
  /** The detector's view of the period (anomaly rules only). */
  readonly anomaly?: AnomalyPoint
}

const pct = (r: number) => `${r >= 0 ? '+' : ''}${(r * 100).toFixed(1)}%`

/** The firing message for an observation, or undefined when the condition does not hold. */
export function checkRule(rule: AlertRule, o: Observation): string | undefined {
  const c = rule.condition
  switch (c.kind) {
    case 'threshold': {
      if (o.value === null) return undefined
      const hit =
        c.op === '>'
          ? o.value > c.value
          : c.op === '>='
            ? o.value >= c.value
            : c.op === '<'
              ? o.value < c.value
              : o.value <= c.value
      return hit ? `${rule.metric} is ${o.value} in ${o.label} (${c.op} ${c.value})` : undefined
    }
    case 'change': {
      const r = c.against === 'previous' ? o.change.pop : o.change.yoy
      if (r === null || !Number.isFinite(r)) return undefined
      const limit = c.percent / 100
      const hit =
        c.direction === 'up'
          ? r >= limit
          : c.direction === 'down'
            ? r <= -limit
            : Math.abs(r) >= limit
      const vs = c.against === 'previous' ? 'the previous period' : 'last year'
      return hit ? `${rule.metric} changed ${pct(r)} in ${o.label} against ${vs}` : undefined
    }
    case 'off_track':
      return o.status === 'off_track' && o.previousStatus !== 'off_track'
        ? `${rule.metric} turned off track in ${o.label} (was ${o.previousStatus ?? 'unknown'})`
        : undefined
    case 'anomaly': {
      const a = o.anomaly
      if (!a?.fired || a.z === null || a.expected === null || o.value === null) return undefined
      return `${rule.metric} is ${round(o.value)} in ${o.label}, ${a.z < 0 ? 'below' : 'above'} the ${round(a.expected)} expected for this point of the season and calendar (robust z ${a.z.toFixed(1)}, threshold ${c.z})`
    }
    default: {
      const _exhaustive: never = c
      return _exhaustive
    }
  }
}

const round = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3))
