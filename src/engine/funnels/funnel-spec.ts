/**
 * A funnel (key-event completion, 关键事件完成率): ordered steps, each an event type with optional property
 * filters, completed within a conversion window from the first step.
 * @module
 */
import { z } from 'zod'
import { dimensionSchema } from '../cohorts/dimension.js'
import { ISO_INSTANT_RE } from '../cohorts/time-sql.js'

const PROPERTY_KEY_RE = /^[A-Za-z0-9_.-]{1,100}$/

export const funnelStepSchema = z
  .object({
    eventType: z.string().min(1).max(100),
    /** Property filters: the event's `properties` JSON must hold each key with this value (compared as text). */
    where: z
      .record(
        z.string().regex(PROPERTY_KEY_RE, 'property keys are letters, digits, _ . -'),
        z.union([z.string(), z.number(), z.boolean()]),
      )
      .optional(),
    label: z.string().max(100).optional(),
  })
  .strict()
export type FunnelStep = z.infer<typeof funnelStepSchema>

const instant = z.string().regex(ISO_INSTANT_RE, 'expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS')

export const funnelSpecSchema = z
  .object({
    steps: z.array(funnelStepSchema).min(2).max(20),
    /** Every later step must happen within this many days of the member's first step. */
    windowDays: z.number().positive().max(3650).default(7),
    /** First steps in [from, to). */
    from: instant,
    to: instant,
    dimension: dimensionSchema.optional(),
  })
  .strict()
export type FunnelSpec = z.infer<typeof funnelSpecSchema>
export type FunnelSpecInput = z.input<typeof funnelSpecSchema>

/** Parses `checkout_step[step=1]` / `add_to_cart` shorthand (CLI): an event type with key=value filters. */
export function parseStepShorthand(text: string): FunnelStep {
  const m = /^([^[\]]+)(?:\[(.*)\])?$/.exec(text.trim())
  if (!m) throw new Error(`invalid step ${JSON.stringify(text)}`)
  const where: Record<string, string> = {}
  for (const pair of (m[2] ?? '').split(',').filter((p) => p.trim() !== '')) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new Error(`invalid filter ${JSON.stringify(pair)} (expected key=value)`)
    where[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim()
  }
  return funnelStepSchema.parse({
    eventType: (m[1] as string).trim(),
    ...(m[2] === undefined ? {} : { where }),
    label: text.trim(),
  })
}
