/**
 * The counts behind a segment comparison (TGI): for a segment A and a comparison group B (the whole base, or
 * another segment), how many members of each hold every value of each profile attribute — registration
 * channel, region, city, gender, age band, lifecycle stage, loyalty tier, and each tag group of a tag period —
 * and how many members are in both. One query; the shares, TGI and tests are computed from these counts.
 * @module
 */
import type { Driver } from '../drivers/driver.js'
import { tableExists } from '../drivers/driver.js'
import { join, sql, type Fragment } from '../sql/fragment.js'
import { normaliseInstant, timestampParam } from '../cohorts/time-sql.js'
import { lifecycleConfigSchema } from '../lifecycle/lifecycle-config.js'
import { buildMemberStagesQuery } from '../lifecycle/lifecycle-stages.js'
import { buildSegmentMembersQuery, checkSegmentStores } from './segment-members.js'
import type { SegmentFilter } from './segment-schema.js'

/** Profile attributes compared; tag groups appear as `tag:<group>`. */
export const PROFILE_ATTRIBUTES = [
  'registration_channel',
  'region',
  'city',
  'gender',
  'age_band',
  'lifecycle_stage',
  'tier',
] as const
export type ProfileAttribute = (typeof PROFILE_ATTRIBUTES)[number]

/** Age bands by age in whole years at the instant compared; no birthday: missing. */
export const AGE_BANDS = ['<18', '18-24', '25-29', '30-34', '35-39', '40-49', '50+'] as const

/** Counts of one value of one attribute. */
export interface ProfileCount {
  readonly attribute: string
  /** Null: the attribute is missing for these members. */
  readonly value: string | null
  /** Members of A with the value. */
  readonly a: number
  /** Members of B with the value. */
  readonly b: number
  /** Members in both A and B with the value. */
  readonly both: number
}

export interface ProfileCounts {
  readonly sizeA: number
  readonly sizeB: number
  readonly sizeBoth: number
  readonly counts: readonly ProfileCount[]
  /** The tag period compared, or null without tags. */
  readonly tagPeriod: string | null
}

/**
 * `(attribute, value, a, b, both)` rows and, as attribute `(members)`, the sizes of A, B and both.
 * `against` undefined: B is every member registered before `asOf`.
 */
export function buildProfileCountsQuery(
  driver: { dialect: Driver['dialect'] },
  segment: SegmentFilter,
  against: SegmentFilter | undefined,
  asOfInstant: string,
  options: { tier: boolean; tagPeriod: string | null },
): Fragment {
  const asOfText = normaliseInstant(asOfInstant)
  const asOf = timestampParam(asOfText)
  const d = driver.dialect
  const registered = sql`SELECT member_id FROM members WHERE registered_at < ${asOf}`
  const sb = against === undefined ? registered : buildSegmentMembersQuery(d, against, asOfText)
  const years = sql`floor(date_diff('day', CAST(m.birthday AS TIMESTAMP), ${asOf}) / 365.25)`
  const ageBand = sql`CASE WHEN m.birthday IS NULL THEN NULL
    WHEN ${years} < 18 THEN '<18' WHEN ${years} < 25 THEN '18-24' WHEN ${years} < 30 THEN '25-29'
    WHEN ${years} < 35 THEN '30-34' WHEN ${years} < 40 THEN '35-39' WHEN ${years} < 50 THEN '40-49'
    ELSE '50+' END`
  const arm = (attribute: string, value: Fragment) =>
    sql`SELECT member_id, in_a, in_b, ${attribute} AS attribute, CAST(${value} AS VARCHAR) AS value FROM pop`
  const arms = [
    arm('registration_channel', sql`registration_channel`),
    arm('region', sql`region`),
    arm('city', sql`city`),
    arm('gender', sql`gender`),
    arm('age_band', sql`age_band`),
    arm('lifecycle_stage', sql`stage`),
    ...(options.tier ? [arm('tier', sql`tier`)] : []),
    sql`SELECT member_id, in_a, in_b, '(members)' AS attribute, CAST(NULL AS VARCHAR) AS value FROM pop`,
    ...(options.tagPeriod === null
      ? []
      : [
          sql`SELECT DISTINCT p.member_id, p.in_a, p.in_b, concat('tag:', t.tag_group) AS attribute, t.tag AS value
            FROM pop p JOIN member_tags t ON t.member_id = p.member_id AND t.period = ${options.tagPeriod}`,
        ]),
  ]
  const tier = options.tier
    ? sql`LEFT JOIN (SELECT member_id, max(tier) AS tier FROM loyalty_accounts WHERE member_id IS NOT NULL GROUP BY member_id) la ON la.member_id = m.member_id`
    : sql``
  return sql`WITH sa AS (${buildSegmentMembersQuery(d, segment, asOfText)}),
    sb AS (${sb}),
    st AS (${buildMemberStagesQuery(asOfText, lifecycleConfigSchema.parse({}))}),
    pop AS (
      SELECT m.member_id, CASE WHEN sa.member_id IS NULL THEN 0 ELSE 1 END AS in_a,
        CASE WHEN sb.member_id IS NULL THEN 0 ELSE 1 END AS in_b,
        m.registration_channel, m.region, m.city, m.gender, ${ageBand} AS age_band, st.stage${options.tier ? sql`, la.tier` : sql``}
      FROM members m
        LEFT JOIN (SELECT DISTINCT member_id FROM sa) sa ON sa.member_id = m.member_id
        LEFT JOIN (SELECT DISTINCT member_id FROM sb) sb ON sb.member_id = m.member_id
        LEFT JOIN st ON st.member_id = m.member_id ${tier}
      WHERE sa.member_id IS NOT NULL OR sb.member_id IS NOT NULL)
    SELECT attribute, value, sum(in_a) AS a, sum(in_b) AS b, sum(in_a * in_b) AS both_ab
    FROM (${join(arms, ' UNION ALL ')}) f
    GROUP BY attribute, value
    ORDER BY attribute, value NULLS LAST`
}

/**
 * The counts of a comparison. Tags come from `tagPeriod` (default: the latest computed period; none when tags
 * were never computed); the tier from the synced loyalty accounts when there are any.
 */
export async function getProfileCounts(
  driver: Driver,
  segment: SegmentFilter,
  against: SegmentFilter | undefined,
  asOfInstant: string,
  tagPeriod?: string,
): Promise<ProfileCounts> {
  await checkSegmentStores(driver, segment)
  if (against !== undefined) await checkSegmentStores(driver, against)
  const tier = await tableExists(driver, 'loyalty_accounts')
  let period: string | null = null
  if (await tableExists(driver, 'member_tags')) {
    period =
      tagPeriod ??
      (await driver.first<{ p: string | null }>(sql`SELECT max(period) AS p FROM member_tags`))
        ?.p ??
      null
  }
  const rows = await driver.all<{
    attribute: string
    value: string | null
    a: number | bigint | null
    b: number | bigint | null
    bothAb: number | bigint | null
  }>(buildProfileCountsQuery(driver, segment, against, asOfInstant, { tier, tagPeriod: period }))
  const n = (x: number | bigint | null) => Number(x ?? 0)
  const sizes = rows.find((r) => r.attribute === '(members)')
  return {
    sizeA: n(sizes?.a ?? 0),
    sizeB: n(sizes?.b ?? 0),
    sizeBoth: n(sizes?.bothAb ?? 0),
    tagPeriod: period,
    counts: rows
      .filter((r) => r.attribute !== '(members)')
      .map((r) => ({
        attribute: r.attribute,
        value: r.value,
        a: n(r.a),
        b: n(r.b),
        both: n(r.bothAb),
      })),
  }
}
