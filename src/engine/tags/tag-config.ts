/**
 * Member tags (会员标签): groups of tags, each tag either computed by a rule over per-member measures and
 * attributes, or given by hand (a tag without `when`). A group may be mutually exclusive: a member then holds
 * at most one of its tags in a period.
 *
 * A rule is a list of conditions that must all hold. A condition is one of:
 * - a threshold on a measure: `{ measure: net_revenue, days: 90, op: '>=', value: 1000 }`;
 * - a quantile of a measure among the members that have a value: `{ measure: predicted_clv, top: 0.2 }`
 *   (the members whose cumulative share from the highest value down is at most 0.2; tied values stay
 *   together) or `bottom: 0.5` (from the lowest value up);
 * - an attribute among values: `{ attribute: registration_channel, in: [app, mini_program] }`.
 * @module
 */
import { z } from 'zod'
import { parseYamlWith } from '../../core/yaml-input.js'

/**
 * Per-member measures a rule may use, as of the end of the period. Windowed ones take `days` (the window that
 * ends at the end of the period; without it, all history before then). Measure ids follow the metric catalog
 * where the meaning is the catalog's, per member.
 */
export const TAG_MEASURES = {
  net_revenue: { windowed: true, en: 'net revenue', zh: '消费金额' },
  orders: { windowed: true, en: 'orders', zh: '订单数' },
  aov: { windowed: true, en: 'average order value', zh: '客单价' },
  returned_amount: { windowed: true, en: 'returned amount', zh: '退货金额' },
  discount_share: { windowed: true, en: 'share of orders with a discount', zh: '优惠订单占比' },
  days_since_last_purchase: {
    windowed: false,
    en: 'days since last purchase',
    zh: '距上次购买天数',
  },
  tenure_days: { windowed: false, en: 'days since registration', zh: '注册天数' },
  predicted_clv: { windowed: false, en: 'predicted CLV', zh: '预测 CLV' },
  p_alive: { windowed: false, en: 'P(alive)', zh: '活跃概率' },
  risk_score: { windowed: false, en: 'churn-risk score', zh: '流失风险分' },
} as const
export type TagMeasure = keyof typeof TAG_MEASURES
export const TAG_MEASURE_IDS = Object.keys(TAG_MEASURES) as TagMeasure[]

/**
 * Member attributes a rule may use; `attributes.KEY` reads a key of the members' attributes JSON.
 * `top_channel` and `top_category` take `days` like windowed measures.
 */
export const TAG_ATTRIBUTES = {
  registration_channel: { windowed: false, en: 'registration channel', zh: '注册渠道' },
  region: { windowed: false, en: 'region', zh: '地区' },
  city: { windowed: false, en: 'city', zh: '城市' },
  gender: { windowed: false, en: 'gender', zh: '性别' },
  lifecycle_stage: { windowed: false, en: 'lifecycle stage', zh: '生命周期阶段' },
  churn_class: { windowed: false, en: 'churn class', zh: '流失类型' },
  top_channel: { windowed: true, en: 'channel with the most purchases', zh: '主购渠道' },
  top_category: { windowed: true, en: 'category with the most spend', zh: '偏好品类' },
} as const
export type TagAttribute = keyof typeof TAG_ATTRIBUTES
export const TAG_ATTRIBUTE_IDS = Object.keys(TAG_ATTRIBUTES) as TagAttribute[]
const ATTRIBUTE_KEY_RE = /^attributes\.([A-Za-z0-9_.-]{1,100})$/

export const TAG_OPS = ['>=', '>', '<=', '<', '='] as const
export type TagOp = (typeof TAG_OPS)[number]

/** Group and tag ids: what segment filters and files name (`group:tag`). */
export const TAG_ID_RE = /^[a-z0-9][a-z0-9_-]{0,49}$/
const id = z.string().regex(TAG_ID_RE, 'lower-case letters, digits, _ and - (up to 50)')

export const tagConditionSchema = z
  .object({
    measure: z.enum(TAG_MEASURE_IDS as [TagMeasure, ...TagMeasure[]]).optional(),
    attribute: z.string().optional(),
    days: z.number().int().min(1).max(3660).optional(),
    op: z.enum(TAG_OPS).optional(),
    value: z.number().finite().optional(),
    top: z.number().gt(0).max(1).optional(),
    bottom: z.number().gt(0).max(1).optional(),
    /** Compared as text: YAML numbers and booleans (`[42]`, `[true]`) are read as their text. */
    in: z
      .array(z.union([z.string().min(1), z.number(), z.boolean()]).transform(String))
      .min(1)
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const issue = (path: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message })
    if ((c.measure === undefined) === (c.attribute === undefined)) {
      issue('measure', 'a condition names either a measure or an attribute')
      return
    }
    if (c.measure !== undefined) {
      const forms = [
        c.op !== undefined || c.value !== undefined,
        c.top !== undefined,
        c.bottom !== undefined,
      ]
      if (forms.filter(Boolean).length !== 1)
        issue('op', 'a measure condition has either op and value, or top, or bottom')
      else if (forms[0] && (c.op === undefined || c.value === undefined))
        issue(c.op === undefined ? 'op' : 'value', 'a threshold needs both op and value')
      if (c.in !== undefined) issue('in', '`in` goes with an attribute, not a measure')
      if (c.days !== undefined && !TAG_MEASURES[c.measure].windowed)
        issue('days', `${c.measure} has no window; remove days`)
      return
    }
    const a = c.attribute as string
    if (!(a in TAG_ATTRIBUTES) && !ATTRIBUTE_KEY_RE.test(a))
      issue(
        'attribute',
        `unknown attribute ${JSON.stringify(a)}; accepted: ${[...TAG_ATTRIBUTE_IDS, 'attributes.KEY'].join(', ')}`,
      )
    if (c.in === undefined) issue('in', 'an attribute condition needs `in: [values]`')
    for (const k of ['op', 'value', 'top', 'bottom'] as const)
      if (c[k] !== undefined) issue(k, `${k} goes with a measure, not an attribute`)
    if (
      c.days !== undefined &&
      !(a in TAG_ATTRIBUTES && TAG_ATTRIBUTES[a as TagAttribute].windowed)
    )
      issue('days', `${a} has no window; remove days`)
  })
export type TagCondition = z.infer<typeof tagConditionSchema>

export const tagSchema = z
  .object({
    id,
    name: z.string().min(1).max(100),
    name_en: z.string().min(1).max(100).optional(),
    description: z.string().max(500).optional(),
    /** All must hold; without it the tag is given by hand (`memberlens tags import`). */
    when: z.array(tagConditionSchema).min(1).optional(),
  })
  .strict()
export type TagDef = z.infer<typeof tagSchema>

export const tagGroupSchema = z
  .object({
    id,
    name: z.string().min(1).max(100),
    name_en: z.string().min(1).max(100).optional(),
    /** A member holds at most one tag of the group in a period. */
    exclusive: z.boolean().default(false),
    tags: z.array(tagSchema).min(1),
  })
  .strict()
  .superRefine((g, ctx) => {
    const seen = new Set<string>()
    g.tags.forEach((t, i) => {
      if (seen.has(t.id))
        ctx.addIssue({
          code: 'custom',
          path: ['tags', i, 'id'],
          message: `tag ${t.id} appears twice in group ${g.id}`,
        })
      seen.add(t.id)
    })
  })
export type TagGroup = z.infer<typeof tagGroupSchema>

export const tagConfigSchema = z
  .object({ groups: z.array(tagGroupSchema).min(1) })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>()
    c.groups.forEach((g, i) => {
      if (seen.has(g.id))
        ctx.addIssue({
          code: 'custom',
          path: ['groups', i, 'id'],
          message: `group ${g.id} appears twice`,
        })
      seen.add(g.id)
    })
  })
export type TagConfig = z.infer<typeof tagConfigSchema>
export type TagConfigInput = z.input<typeof tagConfigSchema>

/** Reads a tag file's text (named `file` in errors: file, line, field and reason). */
export function parseTagConfig(text: string, file: string): TagConfig {
  return parseYamlWith(tagConfigSchema, text, file)
}

/** `group:tag`, how filters, files and the API name a tag. */
export const tagKey = (group: string, tag: string) => `${group}:${tag}`

/** Splits `group:tag`; undefined when it is not one. */
export function splitTagKey(key: string): { group: string; tag: string } | undefined {
  const [group, tag, ...rest] = key.split(':')
  if (rest.length > 0 || group === undefined || tag === undefined) return undefined
  if (!TAG_ID_RE.test(group) || !TAG_ID_RE.test(tag)) return undefined
  return { group, tag }
}

/** Accepted tag periods: a month, `YYYY-MM`. */
export const TAG_PERIOD_RE = /^\d{4}-(0[1-9]|1[0-2])$/

/** The first day of the month after `period` (`YYYY-MM-DD`): the end of the period, exclusive. */
export function periodEnd(period: string): string {
  const y = Number(period.slice(0, 4))
  const m = Number(period.slice(5, 7))
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`
}
