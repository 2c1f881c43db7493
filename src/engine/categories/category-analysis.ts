/**
 * What members buy, by product category (品类分析): each category's share of revenue, penetration and repurchase
 * rate; the category paths of members' first, second and third orders and the channel migration from the first
 * order to the second (the nodes and links of a Sankey chart whose columns each sum to the member count); the
 * next-category propensity for cross-sell; and the category mix by tier, lifecycle stage and saved segment.
 *
 * Rules (docs/categories.md):
 * - A purchase is an order not `cancelled`, with a member, placed before the as-of instant (exclusive).
 * - A line's revenue is `quantity × unit_price`; a line without a category counts under `unknown`.
 * - The category of an order is the category with the largest revenue among its lines (ties: the category
 *   name first in sort order); an order without lines is `unknown`.
 * - Orders of a member are ranked by time, then order id.
 * - Paths and migration keep the top N categories (channels) by revenue (orders); the rest go into one
 *   `other` node. Members without a first order are in the `no purchase` node, members without a second or
 *   third order in the `no further purchase` node, so every column totals the member count exactly.
 * @module
 */
import { InputError } from '../../core/errors.js'
import { tableExists, type Driver } from '../drivers/driver.js'
import { join, sql, type Fragment } from '../sql/fragment.js'
import { normaliseInstant, timestampParam } from '../cohorts/time-sql.js'
import { buildMemberStagesQuery } from '../lifecycle/lifecycle-stages.js'
import { DEFAULT_LIFECYCLE_CONFIG } from '../lifecycle/lifecycle-config.js'
import { buildSegmentMembersQuery } from '../segments/segment-members.js'
import { getSegment } from '../segments/segment-store.js'

/** The category of lines that have none. */
export const UNKNOWN_CATEGORY = 'unknown'
/** Default number of categories (channels) kept as their own nodes in paths and mixes. */
export const DEFAULT_TOP_CATEGORIES = 8
/** Most categories a request may keep. */
export const MAX_TOP_CATEGORIES = 30

export interface CategoryOptions {
  /** Exclusive instant, `YYYY-MM-DD[ HH:MM:SS]` in UTC: purchases before it count. */
  readonly asOf: string
  /** Categories (and channels) kept as their own nodes; default {@link DEFAULT_TOP_CATEGORIES}. */
  readonly top?: number
}

/** One category's figures. */
export interface CategoryShare {
  readonly category: string
  /** Σ quantity × unit_price of its lines. */
  readonly revenue: number
  /** Its revenue ÷ the revenue of all lines. */
  readonly revenueShare: number
  /** Purchases holding at least one of its lines. */
  readonly orders: number
  /** Members who bought it. */
  readonly buyers: number
  /** Buyers ÷ members with at least one purchase that has lines. */
  readonly penetration: number
  /** Buyers who bought it in two or more purchases. */
  readonly repeatBuyers: number
  /** Repeat buyers ÷ buyers. */
  readonly repurchaseRate: number
}

export interface CategoryShares {
  readonly asOf: string
  /** Members with at least one purchase before the instant. */
  readonly buyers: number
  /** Of them, members with at least one purchase that has lines: the penetration's denominator. */
  readonly buyersWithItems: number
  /** Purchases without any line (they count under `unknown` in the paths). */
  readonly ordersWithoutItems: number
  readonly revenue: number
  /** By revenue, largest first. */
  readonly categories: readonly CategoryShare[]
}

/** A node of a path or migration Sankey: a kept value, the `other` bucket, or the absence of an order. */
export interface PathNode {
  /** `1:dairy`, `2#other`, `3#none`: unique across columns and values. */
  readonly id: string
  /** 1 for the first order, 2 the second, 3 the third. */
  readonly step: number
  readonly kind: 'value' | 'other' | 'none'
  /** The category or channel for `value` nodes; null for `other` and `none`. */
  readonly value: string | null
  readonly members: number
}

export interface PathLink {
  readonly source: string
  readonly target: string
  readonly members: number
}

export interface Sankey {
  /** Every column's members total this exactly. */
  readonly members: number
  /** The values kept as their own nodes, in rank order; the rest are `other`. */
  readonly kept: readonly string[]
  readonly nodes: readonly PathNode[]
  readonly links: readonly PathLink[]
}

export interface CategoryPaths {
  readonly asOf: string
  /** First → second → third order category. */
  readonly categories: Sankey
  /** First order channel → second order channel. */
  readonly channels: Sankey
}

/** P(the next purchase after a member's first purchase of `from` holds `to`). */
export interface NextCategory {
  readonly from: string
  readonly to: string
  /** Members who bought `from` and purchased again after their first purchase of it. */
  readonly base: number
  /** Of them, those whose next purchase held `to`. */
  readonly hits: number
  readonly probability: number
  /** Among members with a second purchase, the share whose second purchase held `to`. */
  readonly baseline: number | null
  /** probability ÷ baseline (null without a baseline). */
  readonly lift: number | null
}

/** What the category mix splits buyers by. */
export const CATEGORY_MIX_BY = ['tier', 'lifecycle_stage', 'segment'] as const
export type CategoryMixBy = (typeof CATEGORY_MIX_BY)[number]

export interface CategoryMixRow {
  /**
   * The tier, stage or segment name; null for buyers without one (no loyalty account; by segment, buyers
   * outside the segment).
   */
  readonly group: string | null
  /** A kept category, or `other`. */
  readonly category: string
  readonly revenue: number
  /** Share of the group's revenue. */
  readonly share: number
  readonly buyers: number
}

export interface CategoryMix {
  readonly by: CategoryMixBy
  /** The saved segment, when split by segment. */
  readonly segment?: string
  /** Null when the dimension cannot be read (tiers before a ledger sync); `note` says why. */
  readonly rows: readonly CategoryMixRow[] | null
  readonly note?: string
}

/** Checks and fills the options. */
export function resolveCategoryOptions(options: CategoryOptions): Required<CategoryOptions> {
  const top = options.top ?? DEFAULT_TOP_CATEGORIES
  if (!Number.isInteger(top) || top < 1 || top > MAX_TOP_CATEGORIES) {
    throw InputError.single({
      field: 'top',
      value: String(top),
      reason: `a whole number from 1 to ${MAX_TOP_CATEGORIES}`,
    })
  }
  return { asOf: normaliseInstant(options.asOf), top }
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v))

/** Purchases (`p`), their lines (`l`), each order's category (`oc`) and rank per member (`ok`). */
function baseCtes(asOf: string): Fragment {
  const at = timestampParam(asOf)
  return sql`p AS (
      SELECT order_id, member_id, ordered_at AS ts, channel FROM orders
      WHERE status <> 'cancelled' AND member_id IS NOT NULL AND ordered_at < ${at}
    ),
    l AS (
      SELECT i.order_id, p.member_id,
        coalesce(nullif(trim(i.category), ''), ${UNKNOWN_CATEGORY}) AS category,
        CAST(i.quantity * i.unit_price AS DOUBLE) AS revenue
      FROM order_items i JOIN p ON p.order_id = i.order_id
    ),
    oc AS (
      SELECT order_id, category FROM (
        SELECT order_id, category,
          row_number() OVER (PARTITION BY order_id ORDER BY rev DESC, category) AS rn
        FROM (SELECT order_id, category, sum(revenue) AS rev FROM l GROUP BY order_id, category) x
      ) y WHERE rn = 1
    ),
    ok AS (
      SELECT p.order_id, p.member_id, p.channel, coalesce(oc.category, ${UNKNOWN_CATEGORY}) AS category,
        row_number() OVER (PARTITION BY p.member_id ORDER BY p.ts, p.order_id) AS k
      FROM p LEFT JOIN oc ON oc.order_id = p.order_id
    )`
}

/** Category shares, penetration and repurchase rates. */
export async function getCategoryShares(
  driver: Driver,
  options: CategoryOptions,
): Promise<CategoryShares> {
  const o = resolveCategoryOptions(options)
  const rows = await driver.all<{
    category: string
    revenue: number
    orders: bigint
    buyers: bigint
    repeaters: bigint
  }>(sql`WITH ${baseCtes(o.asOf)},
    mc AS (SELECT category, member_id, count(DISTINCT order_id) AS n FROM l GROUP BY category, member_id)
    SELECT c.category, c.revenue, c.orders, c.buyers, r.repeaters FROM (
      SELECT category, sum(revenue) AS revenue, count(DISTINCT order_id) AS orders,
        count(DISTINCT member_id) AS buyers
      FROM l GROUP BY category
    ) c JOIN (
      SELECT category, sum(CASE WHEN n >= 2 THEN 1 ELSE 0 END) AS repeaters FROM mc GROUP BY category
    ) r ON r.category = c.category
    ORDER BY c.revenue DESC, c.category`)
  const totals = await driver.first<{
    buyers: bigint
    withitems: bigint
    bare: bigint
  }>(sql`WITH ${baseCtes(o.asOf)}
    SELECT (SELECT count(DISTINCT member_id) FROM p) AS buyers,
      (SELECT count(DISTINCT member_id) FROM l) AS withitems,
      (SELECT count(*) FROM p WHERE order_id NOT IN (SELECT order_id FROM l)) AS bare`)
  const withItems = num(totals?.withitems)
  const revenue = rows.reduce((s, r) => s + num(r.revenue), 0)
  return {
    asOf: o.asOf,
    buyers: num(totals?.buyers),
    buyersWithItems: withItems,
    ordersWithoutItems: num(totals?.bare),
    revenue,
    categories: rows.map((r) => {
      const buyers = num(r.buyers)
      const repeat = num(r.repeaters)
      return {
        category: r.category,
        revenue: num(r.revenue),
        revenueShare: revenue > 0 ? num(r.revenue) / revenue : 0,
        orders: num(r.orders),
        buyers,
        penetration: withItems > 0 ? buyers / withItems : 0,
        repeatBuyers: repeat,
        repurchaseRate: buyers > 0 ? repeat / buyers : 0,
      }
    }),
  }
}

/** `CASE` giving the rank of `expr` among `kept` (0-based), `kept.length` for any other value, -1 for NULL. */
function rankOf(expr: Fragment, kept: readonly string[]): Fragment {
  const whens = kept.map((v, i) => sql`WHEN ${expr} = ${v} THEN ${i}`)
  return sql`CASE WHEN ${expr} IS NULL THEN -1 ${join(whens, ' ')} ELSE ${kept.length} END`
}

/** Builds the nodes and links of a Sankey from member counts per path of ranks (-1 none, kept.length other). */
export function buildSankey(
  kept: readonly string[],
  paths: readonly { readonly ranks: readonly number[]; readonly members: number }[],
): Sankey {
  // Value nodes are `step:value`, the two buckets `step#other` and `step#none`: no value can collide with them.
  const id = (step: number, rank: number) =>
    rank < 0 ? `${step}#none` : rank >= kept.length ? `${step}#other` : `${step}:${kept[rank]}`
  const nodes = new Map<string, PathNode>()
  const links = new Map<string, PathLink>()
  let members = 0
  for (const p of paths) {
    members += p.members
    p.ranks.forEach((rank, i) => {
      const key = id(i + 1, rank)
      const prev = nodes.get(key)
      nodes.set(key, {
        id: key,
        step: i + 1,
        kind: rank < 0 ? 'none' : rank >= kept.length ? 'other' : 'value',
        value: rank < 0 || rank >= kept.length ? null : (kept[rank] ?? null),
        members: (prev?.members ?? 0) + p.members,
      })
      if (i > 0) {
        const source = id(i, p.ranks[i - 1] ?? -1)
        const lk = `${source}→${key}`
        const l = links.get(lk)
        links.set(lk, { source, target: key, members: (l?.members ?? 0) + p.members })
      }
    })
  }
  // Columns in order; within a column kept values by rank, then other, then none.
  const order = (n: PathNode) =>
    n.step * 1000 +
    (n.kind === 'value' ? kept.indexOf(n.value ?? '') : n.kind === 'other' ? 998 : 999)
  return {
    members,
    kept,
    nodes: [...nodes.values()].sort((a, b) => order(a) - order(b)),
    links: [...links.values()].sort((a, b) => b.members - a.members),
  }
}

/** Members in the paths: registered before the instant, or with a purchase before it. */
function memberPaths(asOf: string): Fragment {
  const at = timestampParam(asOf)
  return sql`mp AS (
      SELECT m.member_id, s1.category AS c1, s2.category AS c2, s3.category AS c3,
        s1.channel AS h1, s2.channel AS h2
      FROM members m
      LEFT JOIN ok s1 ON s1.member_id = m.member_id AND s1.k = 1
      LEFT JOIN ok s2 ON s2.member_id = m.member_id AND s2.k = 2
      LEFT JOIN ok s3 ON s3.member_id = m.member_id AND s3.k = 3
      WHERE m.registered_at < ${at} OR s1.member_id IS NOT NULL
    )`
}

/** First → second → third order category, and first → second order channel. */
export async function getCategoryPaths(
  driver: Driver,
  options: CategoryOptions,
): Promise<CategoryPaths> {
  const o = resolveCategoryOptions(options)
  const cats = await driver.all<{ category: string }>(sql`WITH ${baseCtes(o.asOf)}
    SELECT category FROM l GROUP BY category ORDER BY sum(revenue) DESC, category LIMIT ${o.top}`)
  const chans = await driver.all<{ channel: string }>(sql`WITH ${baseCtes(o.asOf)}
    SELECT channel FROM p GROUP BY channel ORDER BY count(*) DESC, channel LIMIT ${o.top}`)
  const keptCats = cats.map((r) => r.category)
  const keptChans = chans.map((r) => r.channel)
  const catRows = await driver.all<{ r1: number; r2: number; r3: number; n: bigint }>(
    sql`WITH ${baseCtes(o.asOf)}, ${memberPaths(o.asOf)}
    SELECT r1, r2, r3, count(*) AS n FROM (
      SELECT ${rankOf(sql`c1`, keptCats)} AS r1, ${rankOf(sql`c2`, keptCats)} AS r2,
        ${rankOf(sql`c3`, keptCats)} AS r3 FROM mp) x
    GROUP BY r1, r2, r3`,
  )
  const chanRows = await driver.all<{ r1: number; r2: number; n: bigint }>(
    sql`WITH ${baseCtes(o.asOf)}, ${memberPaths(o.asOf)}
    SELECT r1, r2, count(*) AS n FROM (
      SELECT ${rankOf(sql`h1`, keptChans)} AS r1, ${rankOf(sql`h2`, keptChans)} AS r2 FROM mp) x
    GROUP BY r1, r2`,
  )
  return {
    asOf: o.asOf,
    categories: buildSankey(
      keptCats,
      catRows.map((r) => ({ ranks: [num(r.r1), num(r.r2), num(r.r3)], members: num(r.n) })),
    ),
    channels: buildSankey(
      keptChans,
      chanRows.map((r) => ({ ranks: [num(r.r1), num(r.r2)], members: num(r.n) })),
    ),
  }
}

/**
 * Next-category propensity: for each pair (A, B), among members who bought A and purchased again after their
 * first purchase holding A, the share whose next purchase held B. Pairs with a base below `minBase` are left
 * out; sorted by A, then probability.
 */
export async function getNextCategories(
  driver: Driver,
  options: CategoryOptions & { readonly minBase?: number; readonly from?: string },
): Promise<{ readonly asOf: string; readonly minBase: number; readonly pairs: NextCategory[] }> {
  const o = resolveCategoryOptions(options)
  const minBase = options.minBase ?? 30
  if (!Number.isInteger(minBase) || minBase < 1) {
    throw InputError.single({
      field: 'min base',
      value: String(minBase),
      reason: 'a whole number of at least 1',
    })
  }
  const fromFilter = options.from === undefined ? sql`` : sql`WHERE b.a = ${options.from}`
  const rows = await driver.all<{
    a: string
    b: string
    base: bigint
    hits: bigint
    baseline: number | null
  }>(sql`WITH ${baseCtes(o.asOf)},
    held AS (SELECT DISTINCT ok.member_id, ok.k, l.category FROM l JOIN ok ON ok.order_id = l.order_id),
    first_a AS (SELECT member_id, category AS a, min(k) AS k FROM held GROUP BY member_id, category),
    b AS (
      SELECT f.member_id, f.a, f.k FROM first_a f
      JOIN ok n ON n.member_id = f.member_id AND n.k = f.k + 1
    ),
    bases AS (SELECT a, count(*) AS base FROM b GROUP BY a),
    hits AS (
      SELECT b.a, h.category AS b, count(*) AS hits FROM b
      JOIN held h ON h.member_id = b.member_id AND h.k = b.k + 1
      ${fromFilter}
      GROUP BY b.a, h.category
    ),
    second AS (
      SELECT category, count(DISTINCT member_id) AS n FROM held WHERE k = 2 GROUP BY category
    ),
    seconds AS (SELECT count(*) AS n FROM ok WHERE k = 2)
    SELECT hits.a, hits.b, bases.base, hits.hits,
      CASE WHEN seconds.n > 0 THEN CAST(second.n AS DOUBLE) / seconds.n END AS baseline
    FROM hits JOIN bases ON bases.a = hits.a
    LEFT JOIN second ON second.category = hits.b
    CROSS JOIN seconds
    WHERE bases.base >= ${minBase}
    ORDER BY hits.a, CAST(hits.hits AS DOUBLE) / bases.base DESC, hits.b`)
  return {
    asOf: o.asOf,
    minBase,
    pairs: rows.map((r) => {
      const base = num(r.base)
      const hits = num(r.hits)
      const p = hits / base
      const baseline = r.baseline === null ? null : Number(r.baseline)
      return {
        from: r.a,
        to: r.b,
        base,
        hits,
        probability: p,
        baseline,
        lift: baseline === null || baseline === 0 ? null : p / baseline,
      }
    }),
  }
}

/**
 * Category revenue mix per tier (from the synced ledger), lifecycle stage, or saved segment (its members as of
 * the instant against the other buyers) as of the instant.
 */
export async function getCategoryMix(
  driver: Driver,
  options: CategoryOptions & { readonly by: CategoryMixBy; readonly segment?: string },
): Promise<CategoryMix> {
  const o = resolveCategoryOptions(options)
  let groups: Fragment
  if (options.by === 'segment') {
    const name = options.segment
    if (name === undefined || name === '')
      throw InputError.single({
        field: 'segment',
        value: '',
        reason: 'name the saved segment to split by',
      })
    const segment = await getSegment(driver, name)
    groups = sql`SELECT DISTINCT member_id, ${name} AS grp FROM (${buildSegmentMembersQuery(
      driver.dialect,
      segment.definition.filter,
      normaliseInstant(o.asOf),
    )}) s`
  } else if (options.by === 'tier') {
    if (!(await tableExists(driver, 'loyalty_accounts'))) {
      return {
        by: 'tier',
        rows: null,
        note: 'tiers are read from the ledger synced into the database: run `memberlens loyalty sync` (or `loyalty replay`) first',
      }
    }
    groups = sql`SELECT member_id, tier AS grp FROM (
      SELECT member_id, tier, row_number() OVER (PARTITION BY member_id ORDER BY updated_at DESC, ledger_member) AS rn
      FROM loyalty_accounts WHERE member_id IS NOT NULL) a WHERE rn = 1`
  } else {
    groups = sql`SELECT member_id, stage AS grp FROM (${buildMemberStagesQuery(o.asOf, DEFAULT_LIFECYCLE_CONFIG)}) st`
  }
  const cats = await driver.all<{ category: string }>(sql`WITH ${baseCtes(o.asOf)}
    SELECT category FROM l GROUP BY category ORDER BY sum(revenue) DESC, category LIMIT ${o.top}`)
  const kept = cats.map((r) => r.category)
  const rows = await driver.all<{
    grp: string | null
    r: number
    revenue: number
    buyers: bigint
  }>(
    sql`WITH ${baseCtes(o.asOf)}, g AS (${groups})
    SELECT g.grp, ${rankOf(sql`l.category`, kept)} AS r,
      sum(l.revenue) AS revenue, count(DISTINCT l.member_id) AS buyers
    FROM l LEFT JOIN g ON g.member_id = l.member_id
    GROUP BY 1, 2 ORDER BY 1 NULLS LAST, 2`,
  )
  const totals = new Map<string | null, number>()
  for (const r of rows) totals.set(r.grp, (totals.get(r.grp) ?? 0) + num(r.revenue))
  return {
    by: options.by,
    ...(options.by === 'segment' && options.segment !== undefined
      ? { segment: options.segment }
      : {}),
    rows: rows.map((r) => {
      const total = totals.get(r.grp) ?? 0
      return {
        group: r.grp,
        category: num(r.r) >= kept.length ? 'other' : (kept[num(r.r)] ?? 'other'),
        revenue: num(r.revenue),
        share: total > 0 ? num(r.revenue) / total : 0,
        buyers: num(r.buyers),
      }
    }),
  }
}
