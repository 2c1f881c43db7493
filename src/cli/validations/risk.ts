/**
 * Parses `memberlens risk` flags.
 * @module
 */
import { z } from 'zod'
import { IDENTITY_TYPES } from '../../core/schema.js'
import { CHURN_CLASSES } from '../../analytics/risk/early-warning.js'
import { RISK_EXPORT_FORMATS } from '../../analytics/risk/export.js'
import { RISK_ORDERS } from '../../analytics/risk/risk.js'
import { langFlag } from '../lang.js'

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')

/** A churn class; `price_sensitive` is accepted for `price-sensitive`. */
export const churnClassFlag = z
  .string()
  .transform((s) => s.trim().toLowerCase().replace(/_/g, '-'))
  .pipe(z.enum(CHURN_CLASSES))

export const riskTrainFlagsSchema = z
  .object({
    db: z.string().min(1),
    horizon: z.coerce.number().int().min(7).max(730).default(90),
    asOf: day.optional(),
    l2: z.coerce.number().positive().max(100).optional(),
    lang: langFlag,
    json: z.boolean().default(false),
  })
  .strict()
export type RiskTrainFlags = z.infer<typeof riskTrainFlagsSchema>

export const riskScoreFlagsSchema = z
  .object({
    db: z.string().min(1),
    run: z.string().optional(),
    asOf: day.optional(),
    earlyWarning: z.string().min(1).optional(),
    tz: z.string().min(1),
    reasons: z.coerce.number().int().min(1).max(16).default(3),
    top: z.coerce.number().int().min(0).max(10_000).default(10),
    lang: langFlag,
    json: z.boolean().default(false),
  })
  .strict()
export type RiskScoreFlags = z.infer<typeof riskScoreFlagsSchema>

export const riskListFlagsSchema = z
  .object({
    db: z.string().min(1),
    top: z.coerce.number().int().positive().max(10_000_000).default(100),
    class: churnClassFlag.optional(),
    order: z.enum(RISK_ORDERS).default('score'),
    minScore: z.coerce.number().min(0).max(1).optional(),
    lang: langFlag,
    json: z.boolean().default(false),
    csv: z.boolean().default(false),
  })
  .strict()
export type RiskListFlags = z.infer<typeof riskListFlagsSchema>

export const riskExportFlagsSchema = z
  .object({
    db: z.string().min(1),
    class: churnClassFlag,
    format: z.enum(RISK_EXPORT_FORMATS).default('csv'),
    out: z.string().min(1).optional(),
    minScore: z.coerce.number().min(0).max(1).optional(),
    top: z.coerce.number().int().positive().max(100_000_000).optional(),
    ids: z.array(z.enum(IDENTITY_TYPES)).optional(),
  })
  .strict()
export type RiskExportFlags = z.infer<typeof riskExportFlagsSchema>

export const riskReasonsFlagsSchema = z
  .object({
    db: z.string().min(1),
    run: z.string().min(1).optional(),
    evaluate: z.boolean().default(false),
    truth: z.string().min(1).optional(),
    json: z.boolean().default(false),
    lang: langFlag.optional(),
  })
  .strict()
export type RiskReasonsFlags = z.infer<typeof riskReasonsFlagsSchema>
