/**
 * Tier keeping (保级): at a date `at`, the probability that each member holding a tier above the entry tier still
 * qualifies for it at the next review, the tier they are likely to qualify for, what they still need, and the
 * expected number of members per tier who fall below it (a downgrade, or the start of the grace period when one
 * is not already running).
 *
 * The model is the BG/NBD × Gamma–Gamma pair of the CLV models, fitted on the ledger's orders up to `at`:
 * - the number of orders N in (at, next review] has, for a member with x repeat orders, first order t₀ and last
 *   t_x, the distribution (1 − P(alive))·[N = 0] + P(alive)·P_BG/NBD(N | r + x, α + T, a, b + x): a member alive
 *   at T buys afterwards like a new member whose rate and dropout follow their posteriors;
 * - the value of each order (net spend for a spend ladder, points earned for a points ladder) is Gamma(p, ν) with
 *   ν ~ Gamma(q + p·x, γ + Σ repeat values) after the member's history, so the sum of n orders S satisfies
 *   P(S ≥ g) = 1 − I_{g/(g+Γ)}(n·p, Q) (the sum over Γ is beta-prime distributed; Q = q + p·x, Γ = γ + Σ values);
 * - an order ladder needs no value model: P(keep) = P(N ≥ orders still needed).
 * The qualifying figure already earned in the next review's window comes from the ledger as of `at` (returns
 * recorded after `at` are not known then). The tier held at `at`, and whether a grace period is running, come
 * from the tier history up to `at`; which decision falling below leads to is the ledger's own review rule
 * (`reviewDecision`), and the window is the ledger's (`qualificationWindow`).
 *
 * Why this model rather than a classifier on last period's outcomes: it uses each member's own rate and spend,
 * needs no past review to train on, and its per-member probabilities sum to an expected count whose accuracy is
 * checked against the realised review on a simulated holdout (test/ledger/tier-forecast.test.ts).
 * @module
 */
import { InputError } from '../../core/errors.js'
import {
  fitBgNbd,
  probabilityAlive,
  probabilityOfNPurchases,
  type BgNbdParams,
} from '../../models/bg-nbd.js'
import { fitGammaGamma, type GammaGammaParams } from '../../models/gamma-gamma.js'
import { regularizedBeta } from '../../models/stats/distributions.js'
import { reviewPeriodOf } from '../../ledger/bulk-replay.js'
import {
  canDrop,
  qualificationWindow,
  qualify,
  reviewDecision,
} from '../../ledger/replay-engine.js'
import type { Program } from '../../ledger/program.js'
import { tierRank } from '../../ledger/rules.js'
import type { SqlExecutor } from '../../ledger/stores/store.js'

const WEEK_S = 7 * 86_400

export interface TierForecastOptions {
  /** The forecast date (default: the start of the current review period at `now`). */
  readonly at: Date
  /** How many members to list, lowest chance of keeping first (default all). */
  readonly limit?: number
}

export interface MemberTierForecast {
  readonly memberId: string
  readonly tier: string
  /** The qualifying figure already counted in the next review's window (spend, orders or points). */
  readonly qualifying: number
  readonly threshold: number
  /** What the member still needs before the review to keep the tier (0 when already enough). */
  readonly needed: number
  readonly probabilityKeep: number
  /** Expected orders before the next review. */
  readonly expectedOrders: number
  /** The tier the member most likely qualifies for at the review (the current one or a lower one). */
  readonly likelyTier: string
  /** What falling below leads to at the review: a downgrade, or the start of the grace period. */
  readonly ifBelow: 'downgrade' | 'grace_started'
}

export interface TierForecastRow {
  readonly tier: string
  readonly members: number
  readonly expectedKeep: number
  /** Expected members found below the tier at the review (downgrades plus grace periods started). */
  readonly expectedBelow: number
  readonly expectedDowngrades: number
  readonly expectedGraceStarts: number
  /** Realised counts at the review when the ledger already holds it (a holdout check); else null. */
  readonly realisedBelow: number | null
  readonly realisedDowngrades: number | null
  readonly realisedGraceStarts: number | null
}

export interface TierForecast {
  readonly at: string
  readonly nextReviewAt: string
  readonly windowStart: string
  readonly basis: Program['tiers']['basis']
  readonly model: {
    readonly name: 'BG/NBD × Gamma–Gamma'
    readonly bgNbd: BgNbdParams
    readonly gammaGamma: GammaGammaParams | null
    /** Members with at least one order up to `at` (the fit's sample). */
    readonly members: number
  }
  readonly tiers: readonly TierForecastRow[]
  readonly totals: {
    readonly members: number
    readonly expectedBelow: number
    readonly realisedBelow: number | null
  }
  /** Members sorted by the chance of keeping their tier, lowest first. */
  readonly members: readonly MemberTierForecast[]
}

/** The next review after `at`: the start of the review period following the one holding `at` (UTC). */
export function nextReviewAfter(program: Program, at: Date): Date {
  const months = program.tiers.review_every_months
  const start = new Date(`${reviewPeriodOf(at, months)}T00:00:00Z`)
  return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + months, 1))
}

/** The start of the review period holding `at` (the default forecast date). */
export function reviewPeriodStart(program: Program, at: Date): Date {
  return new Date(`${reviewPeriodOf(at, program.tiers.review_every_months)}T00:00:00Z`)
}

/**
 * The default forecast date: the start of the review period holding the ledger's last order, or `now` when
 * that is earlier (a ledger of a past history is forecast at its last review, a live one at the current one).
 */
export async function defaultForecastDate(
  tx: SqlExecutor,
  program: Program,
  now: Date,
): Promise<Date> {
  const rows = await tx.query(
    'SELECT EXTRACT(EPOCH FROM max(ordered_at))::float8 AS last_s FROM ledger_orders',
  )
  const last = rows[0]?.['last_s']
  const t =
    last === null || last === undefined
      ? now.getTime()
      : Math.min(now.getTime(), Number(last) * 1000)
  return reviewPeriodStart(program, new Date(t))
}

interface OrderSummary {
  readonly memberId: string
  readonly n: number
  readonly first: number
  readonly last: number
  readonly repeatValue: number
  readonly windowValue: number
  readonly windowOrders: number
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v))

/** Per-member order summaries as of `at`, in the ladder's unit (spend or points), and the known window figure. */
async function orderSummaries(
  tx: SqlExecutor,
  basis: Program['tiers']['basis'],
  at: Date,
  windowStart: Date,
): Promise<OrderSummary[]> {
  // The value of an order as known at `at`: its net (or points) less what returns recorded by then took back.
  const value =
    basis === 'points_earned'
      ? 'o.earned_points - COALESCE(r.reversed, 0)'
      : 'o.net_amount - COALESCE(r.returned, 0)'
  const rows = await tx.query(
    `WITH r AS (
       SELECT order_id, SUM(amount) AS returned, SUM(reversed_points) AS reversed
         FROM ledger_returns WHERE returned_at <= $1::timestamptz GROUP BY order_id),
     o AS (
       SELECT o.member_id, o.ordered_at, (${value})::float8 AS value,
              row_number() OVER (PARTITION BY o.member_id ORDER BY o.ordered_at, o.order_id) AS k
         FROM ledger_orders o LEFT JOIN r ON r.order_id = o.order_id
        WHERE o.ordered_at <= $1::timestamptz AND o.net_amount - COALESCE(r.returned, 0) > 0)
     SELECT member_id, count(*)::int AS n,
            EXTRACT(EPOCH FROM min(ordered_at))::float8 AS first_s,
            EXTRACT(EPOCH FROM max(ordered_at))::float8 AS last_s,
            COALESCE(SUM(value) FILTER (WHERE k > 1), 0)::float8 AS repeat_value,
            COALESCE(SUM(value) FILTER (WHERE ordered_at >= $2::timestamptz), 0)::float8 AS window_value,
            (count(*) FILTER (WHERE ordered_at >= $2::timestamptz))::int AS window_orders
       FROM o GROUP BY member_id ORDER BY member_id`,
    [at.toISOString(), windowStart.toISOString()],
  )
  return rows.map((r) => ({
    memberId: String(r['member_id']),
    n: num(r['n']),
    first: num(r['first_s']),
    last: num(r['last_s']),
    repeatValue: num(r['repeat_value']),
    windowValue: num(r['window_value']),
    windowOrders: num(r['window_orders']),
  }))
}

/** The tier each member held at `at` and when a running grace period ends, from the tier history up to `at`. */
async function tiersAt(
  tx: SqlExecutor,
  program: Program,
  at: Date,
): Promise<Map<string, { tier: string; downgradeDueAt: Date | null }>> {
  const rows = await tx.query(
    `SELECT DISTINCT ON (member_id) member_id, to_tier, kind, changed_at
       FROM ledger_tier_changes WHERE changed_at <= $1::timestamptz
      ORDER BY member_id, changed_at DESC, change_id DESC`,
    [at.toISOString()],
  )
  const out = new Map<string, { tier: string; downgradeDueAt: Date | null }>()
  const graceMs = program.tiers.grace_days * 86_400_000
  for (const r of rows) {
    // Every tier change is recorded: the latest says whether a grace period is running (only a grace start
    // leaves one open; a clearing, an upgrade or a downgrade closes it).
    const changedAt = new Date(r['changed_at'] as string | Date)
    out.set(String(r['member_id']), {
      tier: String(r['to_tier']),
      downgradeDueAt:
        r['kind'] === 'grace_started' ? new Date(changedAt.getTime() + graceMs) : null,
    })
  }
  return out
}

/** Points earned in the window up to `at` (earn and reverse entries), for a points ladder. */
async function windowPoints(
  tx: SqlExecutor,
  at: Date,
  windowStart: Date,
): Promise<Map<string, number>> {
  const rows = await tx.query(
    `SELECT member_id, SUM(points)::float8 AS points FROM ledger_entries
      WHERE kind IN ('earn', 'reverse') AND occurred_at >= $2::timestamptz AND occurred_at <= $1::timestamptz
      GROUP BY member_id`,
    [at.toISOString(), windowStart.toISOString()],
  )
  return new Map(rows.map((r) => [String(r['member_id']), num(r['points'])]))
}

/** Realised review outcomes at `reviewAt` by member, when the ledger's history reaches it; else null. */
async function realisedOutcomes(
  tx: SqlExecutor,
  reviewAt: Date,
): Promise<Map<string, 'downgrade' | 'grace_started'> | null> {
  const reach = await tx.query(
    `SELECT EXISTS (SELECT 1 FROM ledger_orders WHERE ordered_at >= $1::timestamptz) AS reached`,
    [reviewAt.toISOString()],
  )
  if (reach[0]?.['reached'] !== true) return null
  const rows = await tx.query(
    `SELECT member_id, kind FROM ledger_tier_changes
      WHERE changed_at = $1::timestamptz AND kind IN ('downgrade', 'grace_started')`,
    [reviewAt.toISOString()],
  )
  return new Map(
    rows.map((r) => [String(r['member_id']), r['kind'] as 'downgrade' | 'grace_started']),
  )
}

/**
 * P(N = n) for n = 0, 1, … until the remaining mass is below 1e-9 (at most 2,000 orders), for a member with
 * `x` repeat orders, last order at `tx` and age `T` (weeks), over `t` weeks.
 */
function purchaseDistribution(
  params: BgNbdParams,
  x: number,
  tx: number,
  T: number,
  t: number,
): number[] {
  const alive = probabilityAlive(params, x, tx, T)
  const after = { r: params.r + x, alpha: params.alpha + T, a: params.a, b: params.b + x }
  const out: number[] = []
  let mass = 0
  for (let n = 0; n <= 2000; n++) {
    const p = alive * probabilityOfNPurchases(after, t, n) + (n === 0 ? 1 - alive : 0)
    out.push(p)
    mass += p
    if (1 - mass < 1e-9) break
  }
  return out
}

/** P(figure reached before the review): the known part plus the future orders' values reach `threshold`. */
function probabilityReach(
  distribution: readonly number[],
  needed: number,
  basis: Program['tiers']['basis'],
  spend: { readonly shape: number; readonly Q: number; readonly G: number } | null,
): number {
  if (needed <= 0) return 1
  let p = 0
  for (let n = 1; n < distribution.length; n++) {
    const pn = distribution[n] as number
    if (pn === 0) continue
    if (basis === 'orders' || spend === null) {
      if (n >= needed) p += pn
    } else {
      const z = needed / (needed + spend.G)
      p += pn * (1 - regularizedBeta(z, n * spend.shape, spend.Q))
    }
  }
  return Math.min(1, Math.max(0, p))
}

/**
 * The tier-keeping forecast at `options.at` over the ledger `tx` for `program`. Reads only ledger facts up to
 * `at`; when the ledger already holds the next review, each tier's realised counts are given beside.
 * @throws InputError when no member has an order by `at` (nothing to fit).
 */
export async function forecastTierKeeping(
  tx: SqlExecutor,
  program: Program,
  options: TierForecastOptions,
): Promise<TierForecast> {
  const at = options.at
  const nextReviewAt = nextReviewAfter(program, at)
  const windowStart = qualificationWindow(program, nextReviewAt)
  const basis = program.tiers.basis
  const summaries = await orderSummaries(tx, basis, at, windowStart)
  if (summaries.length === 0) {
    throw InputError.single({
      field: 'at',
      value: at.toISOString(),
      reason: 'the ledger has no orders up to this date to fit the purchase model on',
    })
  }
  const atS = at.getTime() / 1000
  const x = Float64Array.from(summaries, (s) => s.n - 1)
  const txW = Float64Array.from(summaries, (s) => (s.last - s.first) / WEEK_S)
  const TW = Float64Array.from(summaries, (s) => Math.max(atS - s.first, 1) / WEEK_S)
  const bg = fitBgNbd(x, txW, TW).params
  // The value model: repeat buyers with a positive mean repeat value.
  let gg: GammaGammaParams | null = null
  if (basis !== 'orders') {
    const keep = summaries.flatMap((s, i) => (s.n > 1 && s.repeatValue > 0 ? [i] : []))
    gg = fitGammaGamma(
      Float64Array.from(keep, (i) => x[i] as number),
      Float64Array.from(keep, (i) => (summaries[i]?.repeatValue ?? 0) / (x[i] as number)),
    ).params
  }
  const held = await tiersAt(tx, program, at)
  const points = basis === 'points_earned' ? await windowPoints(tx, at, windowStart) : null
  const realised = await realisedOutcomes(tx, nextReviewAt)
  const horizon = (nextReviewAt.getTime() - at.getTime()) / 1000 / WEEK_S
  const bySummary = new Map(summaries.map((s, i) => [s.memberId, i]))
  const below = qualify(program, { spend: 0n, orders: 0, points: 0 })
  const levels = program.tiers.levels

  const members: MemberTierForecast[] = []
  const rows = new Map<string, { [k: string]: number }>()
  for (const [memberId, h] of held) {
    if (!canDrop(program, h.tier)) continue
    const rank = tierRank(program, h.tier)
    const i = bySummary.get(memberId)
    const s = i === undefined ? undefined : summaries[i]
    const known =
      basis === 'orders'
        ? (s?.windowOrders ?? 0)
        : basis === 'points_earned'
          ? (points?.get(memberId) ?? 0)
          : (s?.windowValue ?? 0)
    const dist =
      s === undefined
        ? [1]
        : purchaseDistribution(
            bg,
            s.n - 1,
            (s.last - s.first) / WEEK_S,
            Math.max(atS - s.first, 1) / WEEK_S,
            horizon,
          )
    const xi = s === undefined ? 0 : s.n - 1
    const spend =
      gg === null ? null : { shape: gg.p, Q: gg.q + gg.p * xi, G: gg.gamma + (s?.repeatValue ?? 0) }
    // P(reaching each level up to the held one); the likely tier is the highest reached with P ≥ 1/2.
    const reach = levels
      .slice(0, rank + 1)
      .map((l) => probabilityReach(dist, Number(l.threshold) - known, basis, spend))
    const threshold = Number(levels[rank]?.threshold ?? 0)
    const pKeep = reach[rank] as number
    let likely = 0
    for (let k = rank; k >= 0; k--) {
      if ((reach[k] as number) >= 0.5) {
        likely = k
        break
      }
    }
    const decision = reviewDecision(program, h, below, nextReviewAt)
    const ifBelow = decision.kind === 'grace_started' ? 'grace_started' : 'downgrade'
    members.push({
      memberId,
      tier: h.tier,
      qualifying: known,
      threshold,
      needed: Math.max(0, threshold - known),
      probabilityKeep: pKeep,
      expectedOrders: dist.reduce((acc, p, n) => acc + p * n, 0),
      likelyTier: levels[likely]?.id ?? h.tier,
      ifBelow,
    })
    const row = rows.get(h.tier) ?? {
      members: 0,
      keep: 0,
      below: 0,
      downgrades: 0,
      graces: 0,
      rBelow: 0,
      rDowngrades: 0,
      rGraces: 0,
    }
    row['members'] = (row['members'] ?? 0) + 1
    row['keep'] = (row['keep'] ?? 0) + pKeep
    row['below'] = (row['below'] ?? 0) + (1 - pKeep)
    if (ifBelow === 'downgrade') row['downgrades'] = (row['downgrades'] ?? 0) + (1 - pKeep)
    else row['graces'] = (row['graces'] ?? 0) + (1 - pKeep)
    const outcome = realised?.get(memberId)
    if (outcome !== undefined) {
      row['rBelow'] = (row['rBelow'] ?? 0) + 1
      if (outcome === 'downgrade') row['rDowngrades'] = (row['rDowngrades'] ?? 0) + 1
      else row['rGraces'] = (row['rGraces'] ?? 0) + 1
    }
    rows.set(h.tier, row)
  }
  members.sort(
    (a, b) => a.probabilityKeep - b.probabilityKeep || a.memberId.localeCompare(b.memberId),
  )
  const tiers: TierForecastRow[] = levels
    .filter((l) => rows.has(l.id))
    .map((l) => {
      const r = rows.get(l.id) as { [k: string]: number }
      return {
        tier: l.id,
        members: r['members'] ?? 0,
        expectedKeep: r['keep'] ?? 0,
        expectedBelow: r['below'] ?? 0,
        expectedDowngrades: r['downgrades'] ?? 0,
        expectedGraceStarts: r['graces'] ?? 0,
        realisedBelow: realised === null ? null : (r['rBelow'] ?? 0),
        realisedDowngrades: realised === null ? null : (r['rDowngrades'] ?? 0),
        realisedGraceStarts: realised === null ? null : (r['rGraces'] ?? 0),
      }
    })
  return {
    at: at.toISOString(),
    nextReviewAt: nextReviewAt.toISOString(),
    windowStart: windowStart.toISOString(),
    basis,
    model: { name: 'BG/NBD × Gamma–Gamma', bgNbd: bg, gammaGamma: gg, members: summaries.length },
    tiers,
    totals: {
      members: members.length,
      expectedBelow: tiers.reduce((a, t) => a + t.expectedBelow, 0),
      realisedBelow:
        realised === null ? null : tiers.reduce((a, t) => a + (t.realisedBelow ?? 0), 0),
    },
    members: options.limit === undefined ? members : members.slice(0, options.limit),
  }
}
