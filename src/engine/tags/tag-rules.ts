/**
 * Tag rules as one query: every member registered before the end of the period, the measures and attributes
 * the rules name (one column each, computed once however many rules use it), quantile ranks where a rule asks
 * for one, then one `SELECT` per rule tag. Values and thresholds travel as parameters; operators and column
 * names come from closed sets.
 * @module
 */
import { ident, join, sql, unsafeRaw, type Fragment } from '../sql/fragment.js'
import type { SqlDialect } from '../dialects/dialect.js'
import { daysBetween, normaliseInstant, timestampParam } from '../cohorts/time-sql.js'
import { lifecycleConfigSchema } from '../lifecycle/lifecycle-config.js'
import { buildMemberStagesQuery } from '../lifecycle/lifecycle-stages.js'
import { latestClvScores, latestRiskScores, type ScoreStore } from './score-stores.js'
import type { TagCondition, TagConfig, TagMeasure } from './tag-config.js'

/** One column the rules read: a measure or an attribute, with its window. */
interface Feature {
  readonly key: string
  readonly kind: 'measure' | 'attribute'
  readonly name: string
  readonly days: number | undefined
  /** Whether a rule ranks it (top/bottom). */
  ranked: boolean
}

const featureKey = (c: TagCondition) =>
  `${c.measure !== undefined ? `m:${c.measure}` : `a:${c.attribute ?? ''}`}:${c.days ?? ''}`

/** The stores a configuration's rules read (to check before running). */
export function tagRuleStores(config: TagConfig): ScoreStore[] {
  const out: ScoreStore[] = []
  for (const g of config.groups)
    for (const t of g.tags)
      for (const c of t.when ?? []) {
        if (c.measure === 'predicted_clv' || c.measure === 'p_alive') out.push('clv')
        if (c.measure === 'risk_score' || c.attribute === 'churn_class') out.push('risk')
      }
  return out
}

/** `YYYY-MM-DD HH:MM:SS` of `days` days before the UTC instant `asOf`. */
function daysBefore(asOf: string, days: number): string {
  const t = Date.parse(`${asOf.replace(' ', 'T')}Z`) - days * 86_400_000
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ')
}

/**
 * `(member_id, tag_group, tag)` of every rule tag of `config` as of `asOfInstant` (UTC `YYYY-MM-DD
 * HH:MM:SS`, exclusive), for the members registered before it.
 */
export function buildRuleTagsQuery(
  dialect: SqlDialect,
  config: TagConfig,
  asOfInstant: string,
): Fragment | undefined {
  const asOfText = normaliseInstant(asOfInstant)
  const hi = timestampParam(asOfText)
  const features = new Map<string, Feature>()
  for (const g of config.groups)
    for (const t of g.tags)
      for (const c of t.when ?? []) {
        const key = featureKey(c)
        const f = features.get(key) ?? {
          key,
          kind: c.measure !== undefined ? ('measure' as const) : ('attribute' as const),
          name: (c.measure ?? c.attribute) as string,
          days: c.days,
          ranked: false,
        }
        if (c.top !== undefined || c.bottom !== undefined) f.ranked = true
        features.set(key, f)
      }
  const rules = config.groups.flatMap((g) =>
    g.tags
      .filter((t) => t.when !== undefined)
      .map((t) => ({ group: g.id, tag: t.id, when: t.when ?? [] })),
  )
  if (rules.length === 0) return undefined

  const list = [...features.values()]
  const col = (i: number) => ident(`v${i}`)
  const ctes: Fragment[] = []
  const joins: Fragment[] = []
  const values: Fragment[] = []
  list.forEach((f, i) => {
    const lo = f.days === undefined ? undefined : timestampParam(daysBefore(asOfText, f.days))
    const inWindow = (ts: Fragment) =>
      lo === undefined ? sql`${ts} < ${hi}` : sql`${ts} >= ${lo} AND ${ts} < ${hi}`
    const purchases = sql`SELECT member_id, ordered_at, net_amount, channel, discount_amount, coupon_id, order_id
      FROM orders WHERE status <> 'cancelled' AND member_id IS NOT NULL AND ${inWindow(sql`ordered_at`)}`
    const cte = (body: Fragment, value: Fragment) => {
      const name = ident(`f${i}`)
      ctes.push(sql`${name} AS (${body})`)
      joins.push(sql`LEFT JOIN ${name} ON ${name}.member_id = b.member_id`)
      values.push(sql`${value} AS ${col(i)}`)
    }
    const fv = sql`${ident(`f${i}`, 'v')}`
    if (f.kind === 'measure') {
      switch (f.name as TagMeasure) {
        case 'net_revenue':
          return cte(
            sql`SELECT member_id, CAST(sum(v) AS DOUBLE) AS v FROM (
              SELECT member_id, net_amount AS v FROM (${purchases}) p
              UNION ALL SELECT member_id, -amount FROM returns WHERE member_id IS NOT NULL AND ${inWindow(sql`returned_at`)}
            ) x GROUP BY member_id`,
            sql`coalesce(${fv}, 0)`,
          )
        case 'orders':
          return cte(
            sql`SELECT member_id, count(*) AS v FROM (${purchases}) p GROUP BY member_id`,
            sql`coalesce(${fv}, 0)`,
          )
        case 'aov':
          return cte(
            sql`SELECT member_id, CAST(sum(net_amount) AS DOUBLE) / count(*) AS v FROM (${purchases}) p GROUP BY member_id`,
            fv,
          )
        case 'returned_amount':
          return cte(
            sql`SELECT member_id, CAST(sum(amount) AS DOUBLE) AS v FROM returns
              WHERE member_id IS NOT NULL AND ${inWindow(sql`returned_at`)} GROUP BY member_id`,
            sql`coalesce(${fv}, 0)`,
          )
        case 'discount_share':
          return cte(
            sql`SELECT member_id, avg(CASE WHEN discount_amount > 0 OR coupon_id IS NOT NULL THEN 1.0 ELSE 0.0 END) AS v
              FROM (${purchases}) p GROUP BY member_id`,
            fv,
          )
        case 'days_since_last_purchase':
          return cte(
            sql`SELECT member_id, ${daysBetween(sql`max(ordered_at)`, hi)} AS v FROM (${purchases}) p GROUP BY member_id`,
            fv,
          )
        case 'tenure_days':
          return void values.push(sql`${daysBetween(sql`b.registered_at`, hi)} AS ${col(i)}`)
        case 'predicted_clv':
          return cte(sql`SELECT member_id, clv AS v FROM (${latestClvScores()}) s`, fv)
        case 'p_alive':
          return cte(sql`SELECT member_id, p_alive AS v FROM (${latestClvScores()}) s`, fv)
        case 'risk_score':
          return cte(sql`SELECT member_id, score AS v FROM (${latestRiskScores()}) s`, fv)
      }
    }
    switch (f.name) {
      case 'registration_channel':
      case 'region':
      case 'city':
      case 'gender':
        return void values.push(sql`${ident('b', f.name)} AS ${col(i)}`)
      case 'lifecycle_stage':
        return cte(
          sql`SELECT member_id, stage AS v FROM (${buildMemberStagesQuery(asOfText, lifecycleConfigSchema.parse({}))}) s`,
          fv,
        )
      case 'churn_class':
        return cte(sql`SELECT member_id, churn_class AS v FROM (${latestRiskScores()}) s`, fv)
      case 'top_channel':
        return cte(
          sql`SELECT member_id, channel AS v FROM (
            SELECT member_id, channel, row_number() OVER (PARTITION BY member_id
              ORDER BY count(*) DESC, sum(net_amount) DESC, channel) AS rn
            FROM (${purchases}) p GROUP BY member_id, channel) r WHERE rn = 1`,
          fv,
        )
      case 'top_category':
        return cte(
          sql`SELECT member_id, category AS v FROM (
            SELECT p.member_id, i.category, row_number() OVER (PARTITION BY p.member_id
              ORDER BY sum(i.quantity * i.unit_price) DESC, count(*) DESC, i.category) AS rn
            FROM (${purchases}) p JOIN order_items i ON i.order_id = p.order_id
            WHERE i.category IS NOT NULL GROUP BY p.member_id, i.category) r WHERE rn = 1`,
          fv,
        )
      default: {
        const key = f.name.slice('attributes.'.length)
        return void values.push(sql`${dialect.jsonText(sql`b.attributes`, key)} AS ${col(i)}`)
      }
    }
  })

  const ranks: Fragment[] = []
  list.forEach((f, i) => {
    if (!f.ranked) return
    // Ranked among the members with a value: a missing value is no rank, not the lowest.
    const part = sql`PARTITION BY CASE WHEN ${col(i)} IS NULL THEN 1 ELSE 0 END`
    ranks.push(
      sql`CASE WHEN ${col(i)} IS NULL THEN NULL ELSE cume_dist() OVER (${part} ORDER BY ${col(i)} DESC) END AS ${ident(`d${i}`)}`,
      sql`CASE WHEN ${col(i)} IS NULL THEN NULL ELSE cume_dist() OVER (${part} ORDER BY ${col(i)} ASC) END AS ${ident(`a${i}`)}`,
    )
  })
  const index = new Map(list.map((f, i) => [f.key, i]))
  const predicate = (c: TagCondition): Fragment => {
    const i = index.get(featureKey(c)) as number
    if (c.in !== undefined) return sql`${col(i)} IN (${join([...c.in])})`
    if (c.top !== undefined) return sql`${ident(`d${i}`)} <= ${c.top}`
    if (c.bottom !== undefined) return sql`${ident(`a${i}`)} <= ${c.bottom}`
    // op is one of TAG_OPS (checked by the schema).
    return sql`${col(i)} ${unsafeRaw(c.op as string)} ${c.value as number}`
  }
  const selects = rules.map(
    (r) =>
      sql`SELECT member_id, ${r.group} AS tag_group, ${r.tag} AS tag FROM ranked WHERE ${join(
        r.when.map(predicate),
        ' AND ',
      )}`,
  )
  const withCtes = ctes.length === 0 ? sql`` : sql`${join(ctes)}, `
  return sql`WITH ${withCtes}base AS (
      SELECT m.member_id, m.registered_at, m.registration_channel, m.region, m.city, m.gender, m.attributes
      FROM members m WHERE m.registered_at < ${hi}),
    vals AS (SELECT b.member_id${values.length === 0 ? sql`` : sql`, ${join(values)}`} FROM base b ${join(joins, ' ')}),
    ranked AS (SELECT *${ranks.length === 0 ? sql`` : sql`, ${join(ranks)}`} FROM vals)
    ${join(selects, ' UNION ALL ')}`
}
