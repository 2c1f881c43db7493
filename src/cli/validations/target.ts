/**
 * Parses `memberlens target` and `memberlens target-simulate` flags.
 * @module
 */
import { z } from 'zod'
import { CHURN_CLASSES } from '../../analytics/risk/early-warning.js'
import { TARGET_EXPORT_FORMATS } from '../../analytics/targeting/export.js'
import { UPLIFT_LEARNERS } from '../../models/uplift.js'
import { langFlag } from '../lang.js'

/** The flags both commands share: the database, the arms file, the uplift model and its bootstrap. */
const modelFlags = {
  db: z.string().min(1),
  arms: z.string().min(1),
  learner: z
    .enum(UPLIFT_LEARNERS as unknown as ['t-learner', 'x-learner', 'bring-back'])
    .default('bring-back'),
  asOf: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
    .optional(),
  bootstrap: z.coerce.number().int().min(0).max(1000).default(50),
  seed: z.coerce.number().int().min(0).default(1),
  lang: langFlag,
  json: z.boolean().default(false),
}

export const targetFlagsSchema = z
  .object({
    ...modelFlags,
    budget: z.coerce.number().positive('a positive amount (CNY)'),
    evaluate: z.boolean().default(false),
    truth: z.string().min(1).optional(),
    out: z.string().min(1).optional(),
    format: z.enum(TARGET_EXPORT_FORMATS).default('csv'),
    top: z.coerce.number().int().min(0).max(10_000).default(10),
  })
  .strict()
export type TargetFlags = z.infer<typeof targetFlagsSchema>

/** The segments `target-simulate` sends an arm to: every buyer, or a churn class. */
export const SIMULATION_SEGMENTS = ['all', ...CHURN_CLASSES] as const

export const targetSimulateFlagsSchema = z
  .object({
    ...modelFlags,
    arm: z.string().min(1),
    segment: z.enum(SIMULATION_SEGMENTS).default('all'),
  })
  .strict()
