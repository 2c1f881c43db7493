/**
 * Parses `memberlens experiments`, `effects` and `voice` flags.
 * @module
 */
import { z } from 'zod'
import { EXPERIMENT_METRIC_IDS } from '../../analytics/experiments/metrics.js'
import { VOICE_DIMENSIONS, VOICE_GRAINS } from '../../duckdb/voice/feedback-queries.js'
import { FEEDBACK_KINDS } from '../../core/schema.js'
import { langFlag } from '../lang.js'
import { isCalendarDate } from './retention.js'

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
  .refine(isCalendarDate, 'a date YYYY-MM-DD')
const days = z.coerce.number().int().min(1).max(3660)
const metric = z.enum(EXPERIMENT_METRIC_IDS as [string, ...string[]])
const list = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== ''),
    )
    .pipe(z.array(item))

export const experimentsListFlagsSchema = z
  .object({ db: z.string().min(1), json: z.boolean().default(false), lang: langFlag })
  .strict()

export const experimentsReportFlagsSchema = z
  .object({
    db: z.string().min(1),
    json: z.boolean().default(false),
    lang: langFlag,
    metric: metric.default('conversion'),
    guardrails: list(metric).optional(),
    control: z.string().optional(),
    window: days.default(30),
    pre: days.optional(),
    retentionFrom: z.coerce.number().int().min(0).max(3660).optional(),
    retentionTo: days.optional(),
    level: z.coerce.number().gt(0.5).lt(1).default(0.95),
    cuped: z.boolean().default(true),
    weights: list(z.string().regex(/^\d+(\.\d+)?$/)).optional(),
  })
  .strict()
export type ExperimentsReportFlags = z.infer<typeof experimentsReportFlagsSchema>

export const experimentsPlanFlagsSchema = z
  .object({
    db: z.string().min(1),
    json: z.boolean().default(false),
    lang: langFlag,
    metric: metric.default('conversion'),
    population: z.enum(['new-members', 'active-members', 'experiment']).default('new-members'),
    experiment: z.string().optional(),
    lookback: days.default(90),
    window: days.default(30),
    mde: z.coerce.number().gt(0).max(10).default(0.05),
    alpha: z.coerce.number().gt(0).lt(0.5).default(0.05),
    power: z.coerce.number().gt(0.5).lt(1).default(0.8),
    arms: z.coerce.number().int().min(2).max(20).default(2),
    cuped: z.boolean().default(true),
  })
  .strict()
export type ExperimentsPlanFlags = z.infer<typeof experimentsPlanFlagsSchema>

export const effectsFlagsSchema = z
  .object({
    db: z.string().min(1),
    json: z.boolean().default(false),
    lang: langFlag,
    metrics: list(metric).optional(),
    window: days.default(30),
    pre: days.default(90),
    design: z.enum(['auto', 'holdout', 'matched']).default('auto'),
    level: z.coerce.number().gt(0.5).lt(1).default(0.95),
    list: z.boolean().default(false),
  })
  .strict()
export type EffectsFlags = z.infer<typeof effectsFlagsSchema>

const voiceBase = {
  db: z.string().min(1),
  json: z.boolean().default(false),
  lang: langFlag,
  from: day.optional(),
  to: day.optional(),
}

export const voiceSummaryFlagsSchema = z
  .object({
    ...voiceBase,
    grain: z.enum(VOICE_GRAINS).default('month'),
    by: z.enum(VOICE_DIMENSIONS).optional(),
    churnDays: days.default(90),
  })
  .strict()
export type VoiceSummaryFlags = z.infer<typeof voiceSummaryFlagsSchema>

export const voiceTopicsFlagsSchema = z
  .object({
    ...voiceBase,
    kinds: list(z.enum(FEEDBACK_KINDS as unknown as [string, ...string[]])).optional(),
    topics: z.string().optional(),
  })
  .strict()
export type VoiceTopicsFlags = z.infer<typeof voiceTopicsFlagsSchema>

export const voiceRiskFlagsSchema = z
  .object({
    ...voiceBase,
    limit: z.coerce.number().int().min(1).max(100_000).default(20),
    topics: z.string().optional(),
  })
  .strict()
export type VoiceRiskFlags = z.infer<typeof voiceRiskFlagsSchema>

/** A topic keyword file: `{ topics: { name: { zh: [...], en: [...] } } }` (YAML or JSON). */
export const topicFileSchema = z
  .object({
    topics: z.record(
      z.string().regex(/^[a-z][a-z0-9_]*$/),
      z
        .object({
          zh: z.array(z.string().min(1)).default([]),
          en: z.array(z.string().min(1)).default([]),
        })
        .strict(),
    ),
  })
  .strict()
