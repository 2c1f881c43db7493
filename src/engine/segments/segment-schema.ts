/**
 * Saved segments: a name and a validated filter over member attributes, lifecycle stage, RFM segment,
 * cohort, member tags, churn risk, predicted CLV and P(alive). All conditions must hold (AND); a list inside one condition matches any of its values (OR).
 * @module
 */
import { z } from 'zod'
import { GENDERS } from '../../core/schema.js'
import { cohortCellSchema } from '../cohorts/cohort-cell-members.js'
import { ISO_INSTANT_RE } from '../cohorts/time-sql.js'
import { LIFECYCLE_STAGES, lifecycleConfigSchema } from '../lifecycle/lifecycle-config.js'
import { RFM_SEGMENTS, rfmConfigSchema } from '../rfm/rfm-config.js'
import { CHURN_CLASS_IDS } from '../tags/score-stores.js'
import { TAG_PERIOD_RE, splitTagKey } from '../tags/tag-config.js'

const instant = z.string().regex(ISO_INSTANT_RE, 'expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS')
const values = z.array(z.string().min(1)).min(1)
/** A closed range: at least one bound. */
const range = (lo: number, hi: number) =>
  z
    .object({
      min: z.number().min(lo).max(hi).optional(),
      max: z.number().min(lo).max(hi).optional(),
    })
    .strict()
    .refine((r) => r.min !== undefined || r.max !== undefined, 'give min, max or both')

export const segmentFilterSchema = z
  .object({
    registrationChannel: values.optional(),
    region: values.optional(),
    city: values.optional(),
    gender: z.array(z.enum(GENDERS)).min(1).optional(),
    /** Registered in [registeredFrom, registeredTo). */
    registeredFrom: instant.optional(),
    registeredTo: instant.optional(),
    /** Keys of the members' `attributes` JSON with the value each must have (compared as text). */
    attributes: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/),
        z.union([z.string(), z.number(), z.boolean()]),
      )
      .optional(),
    /** Members who consented to each channel set to true (false: who did not). */
    consent: z
      .object({ sms: z.boolean(), email: z.boolean(), wechat: z.boolean(), push: z.boolean() })
      .partial()
      .strict()
      .optional(),
    /** Lifecycle stages as of `asOf` (default: the day after the latest activity, when evaluated). */
    lifecycle: z
      .object({
        stages: z.array(z.enum(LIFECYCLE_STAGES)).min(1),
        asOf: instant.optional(),
        config: z.lazy(() => lifecycleConfigSchema.optional()),
      })
      .strict()
      .optional(),
    /** RFM segments as of `asOf` (default as above). */
    rfm: z
      .object({
        segments: z.array(z.enum(RFM_SEGMENTS)).min(1),
        asOf: instant.optional(),
        config: rfmConfigSchema.optional(),
      })
      .strict()
      .optional(),
    /** A cohort cell (see `memberlens cohorts --save-cell`). */
    cohort: cohortCellSchema.optional(),
    memberIds: z.array(z.number().int().nonnegative()).min(1).max(100_000).optional(),
    /**
     * Member tags (`group:tag`) of a period (default: the latest computed): a member must hold one of the
     * listed tags of every group named (AND across groups, OR within a group).
     */
    tags: z
      .object({
        include: z
          .array(
            z
              .string()
              .refine(
                (k) => splitTagKey(k) !== undefined,
                'a tag is written group:tag (lower-case ids)',
              ),
          )
          .min(1),
        period: z.string().regex(TAG_PERIOD_RE, 'expected a month, YYYY-MM').optional(),
      })
      .strict()
      .optional(),
    /** The latest risk scoring: churn classes (any of) and/or a score range (0–1). */
    risk: z
      .object({
        classes: z.array(z.enum(CHURN_CLASS_IDS)).min(1).optional(),
        min: z.number().min(0).max(1).optional(),
        max: z.number().min(0).max(1).optional(),
      })
      .strict()
      .refine(
        (r) => r.classes !== undefined || r.min !== undefined || r.max !== undefined,
        'give classes, min or max',
      )
      .optional(),
    /** Predicted CLV of the latest CLV run, in money: min and/or max (inclusive). */
    clv: range(-1e15, 1e15).optional(),
    /** P(alive) of the latest CLV run (0–1): min and/or max (inclusive). */
    pAlive: range(0, 1).optional(),
  })
  .strict()
export type SegmentFilter = z.infer<typeof segmentFilterSchema>

export const SEGMENT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/

export const segmentDefinitionSchema = z
  .object({
    name: z
      .string()
      .regex(
        SEGMENT_NAME_RE,
        'letters, digits, _ . - (up to 100, starting with a letter or digit)',
      ),
    description: z.string().max(500).optional(),
    filter: segmentFilterSchema,
  })
  .strict()
export type SegmentDefinition = z.infer<typeof segmentDefinitionSchema>
export type SegmentDefinitionInput = z.input<typeof segmentDefinitionSchema>
