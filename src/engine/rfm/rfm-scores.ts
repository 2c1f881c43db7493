/**
 * RFM (recency, frequency, monetary) scores and named segments as of an instant, computed in SQL.
 * Recency = days since the last purchase; frequency = purchases; monetary = net revenue (purchases − returns),
 * all before `asOf` (and within the lookback window, if any). Members without a purchase get no score.
 * @module
 */
import type { Driver } from '../drivers/driver.js'
import { ident, join, sql, type Fragment } from '../sql/fragment.js'
import { PURCHASE_SUMMARY_TABLE, purchaseSummaryCovers } from '../lifecycle/purchase-summary.js'
import { valuesRelation } from '../sql/values.js'
import { daysBetween, normaliseInstant, timestampParam } from '../cohorts/time-sql.js'
import {
  DEFAULT_RFM_GRID,
  RFM_SEGMENTS,
  rfmConfigSchema,
  type RfmConfig,
  type RfmConfigInput,
  type RfmSegment,
} from './rfm-config.js'

function quantileScore(order: Fragment, quantiles: readonly number[]): Fragment {
  const steps = quantiles.map(
    (q) =>
      sql`CASE WHEN (rank() OVER (ORDER BY ${order}) - 1) / CAST(count(*) OVER () AS DOUBLE) >= ${q} THEN 1 ELSE 0 END`,
  )
  return sql`(1 + ${join(steps, ' + ')})`
}

function cutScore(value: Fragment, cuts: readonly number[]): Fragment {
  return sql`(1 + ${join(
    cuts.map((c) => sql`CASE WHEN ${value} > ${c} THEN 1 ELSE 0 END`),
    ' + ',
  )})`
}

/** Where each member's last purchase, purchases and net amount come from: `orders`, or the kept summary. */
export type RfmSource = 'raw' | 'summary'

/**
 * `summary` when the kept per-member purchase summary covers `asOf`, the config has no lookback window and
 * `summaries` is not `off`, else `raw`.
 */
export async function rfmSource(
  driver: Driver,
  asOf: string,
  config: RfmConfig,
  summaries: 'auto' | 'off' = 'auto',
): Promise<RfmSource> {
  if (summaries === 'off' || config.lookbackDays !== undefined) return 'raw'
  return (await purchaseSummaryCovers(driver, normaliseInstant(asOf))) ? 'summary' : 'raw'
}

/**
 * `(member_id, recency_days, frequency, monetary, r, f, m, fm, segment)` for every member with a purchase
 * before `asOf`. `source` `summary` reads the kept per-member purchase summary, which the caller has found to
 * cover `asOf` ({@link rfmSource}); returns are read from `returns` either way.
 */
export function buildRfmQuery(
  asOfText: string,
  config: RfmConfig,
  source: RfmSource = 'raw',
): Fragment {
  const asOf = timestampParam(normaliseInstant(asOfText))
  const window = (col: Fragment) =>
    config.lookbackDays === undefined
      ? sql``
      : sql` AND ${daysBetween(col, asOf)} <= ${config.lookbackDays}`
  const s = config.scoring
  const r =
    s.method === 'quantile'
      ? quantileScore(sql`recency_days DESC`, s.quantiles)
      : sql`(5 - (${join(
          s.recencyDays.map((c) => sql`CASE WHEN recency_days > ${c} THEN 1 ELSE 0 END`),
          ' + ',
        )}))`
  const f =
    s.method === 'quantile'
      ? quantileScore(sql`frequency`, s.quantiles)
      : cutScore(sql`frequency`, s.frequency)
  const m =
    s.method === 'quantile'
      ? quantileScore(sql`monetary`, s.quantiles)
      : cutScore(sql`monetary`, s.monetary)
  const grid = config.grid ?? DEFAULT_RFM_GRID
  const cells = grid.flatMap((row, i) => row.map((seg, j) => [5 - i, j + 1, seg]))
  const purchases =
    source === 'summary'
      ? sql`SELECT member_id, last_ts, purchases AS frequency, net_amount AS gross FROM ${ident(PURCHASE_SUMMARY_TABLE)}`
      : sql`SELECT member_id, max(ordered_at) AS last_ts, count(*) AS frequency, sum(net_amount) AS gross
      FROM orders WHERE status <> 'cancelled' AND ordered_at < ${asOf}${window(sql`ordered_at`)} GROUP BY member_id`
  return sql`WITH p AS (${purchases}), ret AS (
      SELECT member_id, sum(amount) AS returned FROM returns
      WHERE member_id IS NOT NULL AND returned_at < ${asOf}${window(sql`returned_at`)} GROUP BY member_id
    ), v AS (
      SELECT p.member_id, ${daysBetween(sql`p.last_ts`, asOf)} AS recency_days, p.frequency,
        CAST(p.gross - coalesce(ret.returned, 0) AS DOUBLE) AS monetary
      FROM p LEFT JOIN ret ON ret.member_id = p.member_id
    ), scored AS (
      SELECT member_id, recency_days, frequency, monetary, ${r} AS r, ${f} AS f, ${m} AS m FROM v
    ), g AS (SELECT * FROM ${valuesRelation('t', ['gr', 'gfm', 'segment'], cells)})
    SELECT s.member_id, s.recency_days, s.frequency, s.monetary, s.r, s.f, s.m,
      CAST(floor((s.f + s.m + 1) / 2.0) AS INTEGER) AS fm, g.segment
    FROM scored s JOIN g ON g.gr = s.r AND g.gfm = CAST(floor((s.f + s.m + 1) / 2.0) AS INTEGER)`
}

export interface RfmScore {
  readonly memberId: number
  readonly recencyDays: number
  readonly frequency: number
  readonly monetary: number
  readonly r: number
  readonly f: number
  readonly m: number
  readonly fm: number
  readonly segment: RfmSegment
}

/** Every scored member (for small databases and tests; segments and exports use the SQL directly). */
export async function getRfmScores(
  driver: Driver,
  asOf: string,
  config: RfmConfigInput = {},
  summaries: 'auto' | 'off' = 'auto',
): Promise<RfmScore[]> {
  const c = rfmConfigSchema.parse(config)
  const source = await rfmSource(driver, asOf, c, summaries)
  const rows = await driver.all<Record<string, unknown>>(
    sql`${buildRfmQuery(asOf, c, source)} ORDER BY member_id`,
  )
  return rows.map((x) => ({
    memberId: Number(x['memberId']),
    recencyDays: Number(x['recencyDays']),
    frequency: Number(x['frequency']),
    monetary: Number(x['monetary']),
    r: Number(x['r']),
    f: Number(x['f']),
    m: Number(x['m']),
    fm: Number(x['fm']),
    segment: x['segment'] as RfmSegment,
  }))
}

export interface RfmSegmentSummary {
  readonly segment: RfmSegment
  readonly members: number
  readonly share: number
  /** Σ monetary (net revenue) of the segment's members. */
  readonly revenue: number
  readonly revenueShare: number
  readonly avgRecencyDays: number | null
  readonly avgFrequency: number | null
  readonly avgMonetary: number | null
}

/** `(segment, members, revenue, avg_recency_days, avg_frequency)` for every segment, zeros included. */
export function buildRfmSummaryQuery(
  asOf: string,
  config: RfmConfig,
  source: RfmSource = 'raw',
): Fragment {
  const names = valuesRelation(
    'n',
    ['ord', 'segment'],
    RFM_SEGMENTS.map((s, i) => [i, s]),
  )
  return sql`WITH x AS (${buildRfmQuery(asOf, config, source)})
    SELECT n.segment, count(x.member_id) AS members, CAST(coalesce(sum(x.monetary), 0) AS DOUBLE) AS revenue,
      avg(x.recency_days) AS avg_recency_days, avg(x.frequency) AS avg_frequency
    FROM ${names} LEFT JOIN x ON x.segment = n.segment
    GROUP BY n.ord, n.segment ORDER BY n.ord`
}

/**
 * Segment sizes and value as of an instant: from the kept per-member purchase summary when it covers the
 * instant (`summaries` `off` reads every order), else from `orders`; the same either way.
 */
export async function getRfmSummary(
  driver: Driver,
  asOf: string,
  config: RfmConfigInput = {},
  summaries: 'auto' | 'off' = 'auto',
): Promise<RfmSegmentSummary[]> {
  const c = rfmConfigSchema.parse(config)
  const source = await rfmSource(driver, asOf, c, summaries)
  const rows = await driver.all<{
    segment: RfmSegment
    members: bigint
    revenue: number
    avgRecencyDays: number | null
    avgFrequency: number | null
  }>(buildRfmSummaryQuery(asOf, c, source))
  const total = rows.reduce((s, r) => s + Number(r.members), 0)
  const revenue = rows.reduce((s, r) => s + r.revenue, 0)
  return rows.map((r) => {
    const n = Number(r.members)
    return {
      segment: r.segment,
      members: n,
      share: total > 0 ? n / total : 0,
      revenue: r.revenue,
      revenueShare: revenue !== 0 ? r.revenue / revenue : 0,
      avgRecencyDays: r.avgRecencyDays,
      avgFrequency: r.avgFrequency,
      avgMonetary: n > 0 ? r.revenue / n : null,
    }
  })
}

/** The `from` side for members without a purchase at the first date. */
export const NO_SEGMENT = 'none'

export interface RfmMovement {
  readonly from: RfmSegment | typeof NO_SEGMENT
  readonly to: RfmSegment | typeof NO_SEGMENT
  readonly members: number
}

/** `(from_segment, to_segment, members)`: movement between two instants, each scored on its own population. */
export function buildRfmMovementQuery(from: string, to: string, config: RfmConfig): Fragment {
  return sql`SELECT coalesce(a.segment, ${NO_SEGMENT}) AS from_segment, coalesce(b.segment, ${NO_SEGMENT}) AS to_segment, count(*) AS members
    FROM (${buildRfmQuery(from, config)}) a FULL OUTER JOIN (${buildRfmQuery(to, config)}) b ON a.member_id = b.member_id
    GROUP BY 1, 2`
}

const rank = (s: string) => (s === NO_SEGMENT ? -1 : (RFM_SEGMENTS as readonly string[]).indexOf(s))

/** Movement between segments from one instant to another (non-zero flows, in segment order). */
export async function getRfmMovement(
  driver: Driver,
  from: string,
  to: string,
  config: RfmConfigInput = {},
): Promise<RfmMovement[]> {
  const rows = await driver.all<{
    fromSegment: RfmMovement['from']
    toSegment: RfmMovement['to']
    members: bigint
  }>(buildRfmMovementQuery(from, to, rfmConfigSchema.parse(config)))
  return rows
    .map((r) => ({ from: r.fromSegment, to: r.toSegment, members: Number(r.members) }))
    .sort((a, b) => rank(a.from) - rank(b.from) || rank(a.to) - rank(b.to))
}

/** `SELECT member_id` of the members in the given segments as of `asOf` (for saved segments). */
export function buildRfmSegmentMembersQuery(
  asOf: string,
  config: RfmConfig,
  segments: readonly RfmSegment[],
): Fragment {
  return sql`SELECT member_id FROM (${buildRfmQuery(asOf, config)}) WHERE segment IN (${join([...segments])})`
}
