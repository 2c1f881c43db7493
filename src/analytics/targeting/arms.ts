/**
 * The arms file of `memberlens target`: which campaign to learn from, and for each offer the touches'
 * `offer` text that marks it and what it costs (contact, coupon face value, points at their liability
 * value). Read with zod, every problem placed by file, line and field.
 * @module
 */
import { z } from 'zod'
import { parseYamlWith } from '../../core/yaml-input.js'

const armSchema = z
  .object({
    /** The touches' `offer` text of this arm in the campaign. */
    offer: z.string().min(1),
    /** Cost per member contacted (message, or the care call itself), CNY. */
    contact_cost: z.number().nonnegative().default(0),
    /** The coupon this arm hands out: its `orders.coupon_id` and face value (CNY). */
    coupon_id: z.string().min(1).optional(),
    coupon_value: z.number().nonnegative().default(0),
    /** Points: multiplier on the usual earn rate, points earned per CNY, and liability value per point. */
    points_multiplier: z.number().min(1).default(1),
    points_per_yuan: z.number().nonnegative().default(1),
    point_value: z.number().nonnegative().default(0.01),
  })
  .strict()
  .refine((a) => a.coupon_value === 0 || a.coupon_id !== undefined, {
    message: 'coupon_value needs coupon_id (to measure redemptions)',
    path: ['coupon_id'],
  })

export const armsFileSchema = z
  .object({
    /** The randomised campaign (touches.campaign_id) to learn from; default: the latest that has every arm. */
    campaign: z.string().min(1).optional(),
    /** Outcome window after the campaign: retained = bought within it (days). */
    horizon_days: z.number().int().min(7).max(365).default(90),
    /** The arm the "highest risk" and "random" comparison policies send. Default: the first arm. */
    baseline_arm: z.string().min(1).optional(),
    arms: z.record(z.string().regex(/^[a-z0-9_]+$/, 'lowercase letters, digits and _'), armSchema),
  })
  .strict()
  .refine((f) => Object.keys(f.arms).length > 0, { message: 'at least one arm', path: ['arms'] })
  .refine((f) => f.baseline_arm === undefined || f.baseline_arm in f.arms, {
    message: 'must name one of the arms',
    path: ['baseline_arm'],
  })

export type ArmsFile = z.infer<typeof armsFileSchema>
export type ArmConfig = ArmsFile['arms'][string]

/** Parses an arms file (YAML or JSON text); `file` names it in errors. */
export function parseArmsFile(text: string, file: string): ArmsFile {
  return parseYamlWith(armsFileSchema, text, file)
}

/**
 * Expected cost of sending `arm` to one member: contact + coupon face value × P(redeem) + extra points ×
 * liability value per point × expected spend in the window (P(buy | arm) × order value).
 */
export function expectedArmCost(
  arm: ArmConfig,
  redeem: number,
  buy: number,
  orderValue: number,
): number {
  const points = (arm.points_multiplier - 1) * arm.points_per_yuan * arm.point_value
  return arm.contact_cost + arm.coupon_value * redeem + points * buy * orderValue
}
