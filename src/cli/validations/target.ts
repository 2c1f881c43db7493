/**
 * Parses `memberlens target` flags.
 * @module
 */
import { z } from 'zod'
import { TARGET_EXPORT_FORMATS } from '../../analytics/targeting/export.js'
import { UPLIFT_LEARNERS } from '../../models/uplift.js'
import { langFlag } from '../lang.js'

export const targetFlagsSchema = z
  .object({
    db: z.string().min(1),
    arms: z.string().min(1),
    budget: z.coerce.number().positive('a positive amount (CNY)'),
    learner: z.enum(UPLIFT_LEARNERS as unknown as ['t-learner', 'x-learner']).default('x-learner'),
    asOf: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
      .optional(),
    bootstrap: z.coerce.number().int().min(0).max(1000).default(50),
    seed: z.coerce.number().int().min(0).default(1),
    evaluate: z.boolean().default(false),
    truth: z.string().min(1).optional(),
    out: z.string().min(1).optional(),
    format: z.enum(TARGET_EXPORT_FORMATS).default('csv'),
    top: z.coerce.number().int().min(0).max(10_000).default(10),
    lang: langFlag,
    json: z.boolean().default(false),
  })
  .strict()
export type TargetFlags = z.infer<typeof targetFlagsSchema>
