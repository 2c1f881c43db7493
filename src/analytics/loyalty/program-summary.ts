/**
 * The loyalty program over time, for the dashboard: the program metrics of every month of a range (points
 * issued, redeemed, expired, reversed; upgrades and downgrades), the metrics of the whole range (liability,
 * breakage and the tier distribution as of the last sync), and tier movements (from tier → to tier).
 * @module
 */
import { syncedTierNames, type TierName } from './sync.js'
import { sql } from '../../engine/sql/fragment.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import type { Database } from '../../store/database.js'
import { loyaltyMetrics, type LoyaltyMetrics } from './metrics.js'
import { ensureLoyaltyTables } from './sync.js'

export interface LoyaltyMonth {
  readonly month: string
  readonly issued: number
  readonly redeemed: number
  readonly expired: number
  readonly reversed: number
  readonly upgrades: number
  readonly downgrades: number
}

export interface LoyaltyProgramSummary {
  readonly lastSync: string | null
  /** The program's tier names by tier id (en and zh), as of the last sync. */
  readonly tierNames: Readonly<Record<string, TierName>>
  readonly total: LoyaltyMetrics
  readonly months: readonly LoyaltyMonth[]
  readonly movements: readonly {
    readonly from: string | null
    readonly to: string
    readonly kind: string
    readonly members: number
  }[]
}

const nextMonth = (m: string) => {
  const d = new Date(`${m}-01T00:00:00Z`)
  d.setUTCMonth(d.getUTCMonth() + 1)
  return d.toISOString().slice(0, 7)
}

/** True once the ledger has been synced into the analytics database at least once. */
export async function loyaltySynced(driver: DuckDbDriver): Promise<boolean> {
  await ensureLoyaltyTables(driver)
  const r = await driver.first<{ n: bigint }>(
    sql`SELECT count(*) AS n FROM loyalty_sync_state WHERE key = 'tx_horizon'`,
  )
  return Number(r?.n ?? 0) > 0
}

/** Months `from` through `to` (YYYY-MM, both included). */
export async function loyaltyProgramSummary(
  driver: DuckDbDriver,
  from: string,
  to: string,
): Promise<LoyaltyProgramSummary> {
  // The metrics read only the database's driver.
  const db: Database = { path: '', driver, close: async () => {} }
  const end = nextMonth(to)
  const months: LoyaltyMonth[] = []
  for (let m = from; m <= to; m = nextMonth(m)) {
    const x = await loyaltyMetrics(db, `${m}-01`, `${nextMonth(m)}-01`)
    months.push({
      month: m,
      issued: x.issued,
      redeemed: x.redeemed,
      expired: x.expired,
      reversed: x.reversed,
      upgrades: x.upgrades,
      downgrades: x.downgrades,
    })
  }
  const total = await loyaltyMetrics(db, `${from}-01`, `${end}-01`)
  const movements = await driver.all<{
    fromTier: string | null
    toTier: string
    kind: string
    members: bigint
  }>(
    sql`SELECT from_tier, to_tier, kind, count(*) AS members FROM loyalty_tier_changes
      WHERE changed_at >= CAST(${`${from}-01`} AS TIMESTAMP) AND changed_at < CAST(${`${end}-01`} AS TIMESTAMP)
      GROUP BY 1, 2, 3 ORDER BY members DESC, 1, 2`,
  )
  const sync = await driver.first<{ at: string | null }>(
    sql`SELECT CAST(max(updated_at) AS VARCHAR) AS at FROM loyalty_accounts`,
  )
  return {
    lastSync: sync?.at ?? null,
    tierNames: await syncedTierNames(driver),
    total,
    months,
    movements: movements.map((r) => ({
      from: r.fromTier,
      to: r.toTier,
      kind: r.kind,
      members: Number(r.members),
    })),
  }
}
