/**
 * Parses `memberlens clv` flags.
 * @module
 */
import { z } from 'zod'
import { InputError } from '../../core/errors.js'
import { SCORE_ORDERS } from '../../analytics/clv/clv.js'
import { PURCHASE_MODELS } from '../../analytics/clv/models.js'
import { RENEWAL_COHORT_GRAINS } from '../../duckdb/summaries/renewals.js'
import { SPEND_BASES, SUMMARY_ORIGINS, TIME_UNITS } from '../../engine/summaries/repeat-buying.js'
import { IDENTITY_TYPES } from '../../core/schema.js'
import { langFlag } from '../lang.js'
import { engineFlagsShape } from '../engine-options.js'

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')

/** Flags shared by `clv fit` and `clv report`. */
const modelFlags = {
  db: z.string().min(1),
  calibrationEnd: day.optional(),
  unit: z.enum(TIME_UNITS as [string, ...string[]]).default('week'),
  origin: z.enum(SUMMARY_ORIGINS as [string, ...string[]]).default('first-purchase'),
  spend: z.enum(SPEND_BASES as [string, ...string[]]).default('net'),
  model: z.enum(PURCHASE_MODELS as [string, ...string[]]).default('bg-nbd'),
  horizon: z.coerce.number().int().min(1).max(1200).default(12),
  monthDays: z.coerce
    .number()
    .min(28)
    .max(31)
    .default(365.25 / 12),
  discountRate: z.coerce.number().min(0).max(10).default(0.1),
  margin: z.coerce.number().positive().max(1000).default(1),
  lang: langFlag,
  json: z.boolean().default(false),
  /** Comma-separated covariate names, checked by parseCovariates (errors name --covariates). */
  covariates: z.string().optional(),
}

export const clvFitFlagsSchema = z.object({ ...modelFlags, tz: z.string().min(1) }).strict()
export type ClvFitFlags = z.infer<typeof clvFitFlagsSchema>

export const clvReportFlagsSchema = z
  .object({
    ...modelFlags,
    ...engineFlagsShape,
    holdoutEnd: day,
    csv: z.boolean().default(false),
    out: z.string().optional(),
  })
  .strict()
export type ClvReportFlags = z.infer<typeof clvReportFlagsSchema>

export const clvPredictFlagsSchema = z
  .object({
    db: z.string().min(1),
    run: z.string().optional(),
    top: z.coerce.number().int().positive().max(10_000_000).default(20),
    member: z.string().trim().min(1).optional(),
    ids: z.array(z.enum(IDENTITY_TYPES)).optional(),
    horizon: z.string().min(1).optional(),
    churnDays: z.coerce.number().int().min(1).max(36_525).optional(),
    aliveAt: z.string().min(1).optional(),
    order: z.enum(SCORE_ORDERS).default('clv'),
    intervals: z.boolean().default(false),
    level: z.coerce.number().gt(0).lt(1).default(0.9),
    draws: z.coerce.number().int().min(20).max(100_000).default(200),
    seed: z.coerce.number().int().default(1),
    lang: langFlag,
    json: z.boolean().default(false),
    csv: z.boolean().default(false),
  })
  .strict()
export type ClvPredictFlags = z.infer<typeof clvPredictFlagsSchema>

export const clvRenewalsFlagsSchema = z
  .object({
    db: z.string().min(1),
    asOf: day.optional(),
    cohort: z.enum(RENEWAL_COHORT_GRAINS as [string, ...string[]]).default('month'),
    plan: z.string().min(1).optional(),
    horizon: z.coerce.number().int().min(1).max(1200).default(12),
    discountRate: z.coerce.number().min(0).max(10).default(0.1),
    lang: langFlag,
    json: z.boolean().default(false),
    csv: z.boolean().default(false),
  })
  .strict()
export type ClvRenewalsFlags = z.infer<typeof clvRenewalsFlagsSchema>

/** Parses flags with a zod schema; problems become one InputError naming each flag. */
export function parseFlags<T>(schema: z.ZodType<T>, flags: unknown): T {
  const parsed = schema.safeParse(flags)
  if (!parsed.success) {
    throw new InputError(
      'invalid flags',
      parsed.error.issues.map((i) => ({
        field: `--${i.path.map((p) => String(p).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).join('.')}`,
        reason: i.message,
      })),
    )
  }
  return parsed.data
}
