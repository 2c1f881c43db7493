/**
 * Loyalty program metrics (DOMAIN §2 "points liability, points earned / redeemed / expired, redemption rate;
 * tier distribution, upgrade and downgrade rates") as SQL over the tables the sync writes into DuckDB.
 *
 * Definitions, for a period [from, to):
 * - issued: points credited (earn entries and positive adjustments); redeemed, expired, reversed: points debited
 *   by redemptions, expiry and returns.
 * - redemption rate: redeemed / issued in the period.
 * - liability: Σ positive balances at the last sync (points), × the program's point value (currency).
 * - breakage: the share of settled points that expired unredeemed, expired / (expired + redeemed), over all
 *   history; the expected breakage of the liability is liability × breakage.
 * - tier distribution: members per tier at the last sync.
 * - upgrade / downgrade rate: upgrades (downgrades) in the period / members enrolled before the period ended.
 * @module
 */
import { sql } from '../../engine/sql/fragment.js'
import type { Database } from '../../store/database.js'
import { ensureLoyaltyTables } from './sync.js'

export interface LoyaltyMetrics {
  readonly from: string
  readonly to: string
  readonly issued: number
  readonly redeemed: number
  readonly expired: number
  readonly reversed: number
  readonly redemptionRate: number | null
  readonly liabilityPoints: number
  readonly liabilityAmount: number
  readonly currency: string | null
  readonly breakage: number | null
  readonly expectedBreakagePoints: number | null
  readonly members: number
  readonly upgrades: number
  readonly downgrades: number
  readonly upgradeRate: number | null
  readonly downgradeRate: number | null
  readonly tierDistribution: ReadonlyArray<{
    readonly tier: string
    readonly members: number
    readonly share: number
  }>
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v))

/** Computes the program metrics for [from, to) (dates YYYY-MM-DD, UTC) from the synced loyalty tables. */
export async function loyaltyMetrics(
  db: Database,
  from: string,
  to: string,
): Promise<LoyaltyMetrics> {
  const d = db.driver
  await ensureLoyaltyTables(d)
  const f = sql`CAST(${from} AS TIMESTAMP)`
  const t = sql`CAST(${to} AS TIMESTAMP)`
  const flows = await d.first(sql`
    SELECT
      COALESCE(SUM(points) FILTER (WHERE kind = 'earn' OR (kind = 'adjust' AND points > 0)), 0) AS issued,
      COALESCE(-SUM(points) FILTER (WHERE kind = 'redeem'), 0) AS redeemed,
      COALESCE(-SUM(points) FILTER (WHERE kind = 'expire'), 0) AS expired,
      COALESCE(-SUM(points) FILTER (WHERE kind = 'reverse'), 0) AS reversed
    FROM loyalty_entries WHERE occurred_at >= ${f} AND occurred_at < ${t}`)
  const settled = await d.first(sql`
    SELECT COALESCE(-SUM(points) FILTER (WHERE kind = 'expire'), 0) AS expired,
           COALESCE(-SUM(points) FILTER (WHERE kind = 'redeem'), 0) AS redeemed
    FROM loyalty_entries`)
  const liability = await d.first(sql`
    SELECT COALESCE(SUM(balance) FILTER (WHERE balance > 0), 0) AS points, count(*) AS members,
           (SELECT value FROM loyalty_sync_state WHERE key = 'point_value') AS point_value,
           (SELECT value FROM loyalty_sync_state WHERE key = 'currency') AS currency
    FROM loyalty_accounts`)
  const changes = await d.first(sql`
    SELECT count(*) FILTER (WHERE kind = 'upgrade') AS upgrades, count(*) FILTER (WHERE kind = 'downgrade') AS downgrades,
           (SELECT count(*) FROM loyalty_accounts WHERE enrolled_at < ${t}) AS base
    FROM loyalty_tier_changes WHERE changed_at >= ${f} AND changed_at < ${t}`)
  const tiers = await d.all(sql`
    SELECT tier, count(*) AS members, count(*) / SUM(count(*)) OVER () AS share
    FROM loyalty_accounts GROUP BY tier ORDER BY members DESC, tier`)
  const issued = num(flows?.['issued'])
  const redeemed = num(flows?.['redeemed'])
  const sExpired = num(settled?.['expired'])
  const sRedeemed = num(settled?.['redeemed'])
  const breakage = sExpired + sRedeemed > 0 ? sExpired / (sExpired + sRedeemed) : null
  const liabilityPoints = num(liability?.['points'])
  const pointValue = Number(liability?.['pointValue'] ?? 0)
  const base = num(changes?.['base'])
  return {
    from,
    to,
    issued,
    redeemed,
    expired: num(flows?.['expired']),
    reversed: num(flows?.['reversed']),
    redemptionRate: issued > 0 ? redeemed / issued : null,
    liabilityPoints,
    liabilityAmount: Math.round(liabilityPoints * pointValue * 100) / 100,
    currency: (liability?.['currency'] as string | null | undefined) ?? null,
    breakage,
    expectedBreakagePoints: breakage === null ? null : Math.round(liabilityPoints * breakage),
    members: num(liability?.['members']),
    upgrades: num(changes?.['upgrades']),
    downgrades: num(changes?.['downgrades']),
    upgradeRate: base > 0 ? num(changes?.['upgrades']) / base : null,
    downgradeRate: base > 0 ? num(changes?.['downgrades']) / base : null,
    tierDistribution: tiers.map((r) => ({
      tier: String(r['tier']),
      members: num(r['members']),
      share: num(r['share']),
    })),
  }
}
