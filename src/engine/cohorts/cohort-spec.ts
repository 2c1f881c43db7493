/**
 * The validated description of a cohort analysis, shared by the retention, bracket and LTV builders.
 * @module
 */
import { z } from 'zod'
import { dimensionSchema } from './dimension.js'
import { ISO_INSTANT_RE } from './time-sql.js'

/** Cohort grains (DOMAIN §2: day, ISO week, month, quarter). */
export const COHORT_GRAINS = ['day', 'week', 'month', 'quarter'] as const
export type CohortGrain = (typeof COHORT_GRAINS)[number]

/** What puts a member into a cohort: registration, or their first purchase. */
export const COHORT_ANCHORS = ['registration', 'first-purchase'] as const
export type CohortAnchor = (typeof COHORT_ANCHORS)[number]

const EVENT_TYPE_RE = /^[A-Za-z0-9_.:-]{1,100}$/

/**
 * What counts as being active: `any` (an event or a purchase), `event` (any event), `purchase` (an order
 * that is not cancelled) or `event:<type>` (one event type).
 */
export const activitySchema = z
  .string()
  .refine(
    (s) =>
      ['any', 'event', 'purchase'].includes(s) ||
      (s.startsWith('event:') && EVENT_TYPE_RE.test(s.slice(6))),
    {
      message: 'expected any, event, purchase or event:<type>',
    },
  )
export type Activity = z.infer<typeof activitySchema>

const instant = z.string().regex(ISO_INSTANT_RE, 'expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS')

/** A cohort analysis. `asOf` is exclusive: data at or after it is ignored and later periods are incomplete. */
export const cohortSpecSchema = z
  .object({
    anchor: z.enum(COHORT_ANCHORS).default('registration'),
    grain: z.enum(COHORT_GRAINS).default('month'),
    activity: activitySchema.default('any'),
    /** Last period index reported (period 0 is the cohort's own period). */
    periods: z.number().int().min(0).max(400).default(12),
    /** Cohorts whose anchor lies in [from, to). */
    from: instant.optional(),
    to: instant.optional(),
    asOf: instant,
    /**
     * The zone in which periods are counted (default UTC). Every time is read as its wall time there, and
     * `asOf`, `from` and `to` are wall times in it too.
     */
    timezone: z.string().min(1).max(64).optional(),
    dimension: dimensionSchema.optional(),
  })
  .strict()
export type CohortSpec = z.infer<typeof cohortSpecSchema>
export type CohortSpecInput = z.input<typeof cohortSpecSchema>
