/**
 * The full cost of a campaign: what its touches cost to send, the face value of its coupons that were
 * redeemed (from the coupons table, by campaign id) and the bonus points it credited (ledger entries whose
 * source is the campaign, net of reversals) valued at the program's point value, i.e. at their liability.
 * Unused coupons cost nothing; points are counted when credited, whether or not they are ever redeemed.
 * @module
 */
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { tableExists } from '../../engine/drivers/driver.js'
import { sql } from '../../engine/sql/fragment.js'

export interface CampaignCost {
  /** Σ touches.cost of the campaign. */
  readonly send: number
  readonly coupons: {
    readonly issued: number
    readonly redeemed: number
    /** Face value of the redeemed coupons. */
    readonly faceValue: number
  }
  /** null when no loyalty ledger has been synced into the database (unknown, not zero). */
  readonly points: {
    readonly points: number
    readonly pointValue: number
    readonly amount: number
  } | null
  /** send + coupon face value + points amount (points counted as 0 when unknown). */
  readonly total: number
}

/** The full cost of campaign `campaignId` given its send cost. */
export async function campaignCost(
  driver: DuckDbDriver,
  campaignId: string,
  send: number,
): Promise<CampaignCost> {
  const c = await driver.first<{ issued: number; redeemed: number; face: number }>(
    sql`SELECT count(*)::DOUBLE AS issued, count(redeemed_at)::DOUBLE AS redeemed,
        coalesce(sum(face_value) FILTER (WHERE redeemed_at IS NOT NULL), 0)::DOUBLE AS face
      FROM coupons WHERE campaign_id = ${campaignId}`,
  )
  let points: CampaignCost['points'] = null
  if (
    (await tableExists(driver, 'loyalty_entries')) &&
    (await tableExists(driver, 'loyalty_sync_state'))
  ) {
    const p = await driver.first<{ points: number; pointValue: number | null }>(
      sql`SELECT coalesce(sum(points), 0)::DOUBLE AS points,
          (SELECT TRY_CAST(value AS DOUBLE) FROM loyalty_sync_state WHERE key = 'point_value') AS point_value
        FROM loyalty_entries WHERE source_type = 'campaign' AND source_id = ${campaignId}`,
    )
    if (p !== undefined && p.pointValue !== null) {
      points = { points: p.points, pointValue: p.pointValue, amount: p.points * p.pointValue }
    }
  }
  const coupons = { issued: c?.issued ?? 0, redeemed: c?.redeemed ?? 0, faceValue: c?.face ?? 0 }
  return {
    send,
    coupons,
    points,
    total: send + coupons.faceValue + (points?.amount ?? 0),
  }
}
