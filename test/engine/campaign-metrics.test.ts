/**
 * The catalog's campaign metrics agree with `memberlens effects` on simulated data: for each campaign with a
 * holdout, the incremental orders and net revenue, the full cost (sends, redeemed coupons, bonus points) and the
 * ROI read from the catalog, split by campaign in the month of the campaign's start, equal the effects report's
 * for the same window; on DuckDB, for the default window and another one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listCampaigns, programEffect } from '../../src/analytics/experiments/effects.js'
import { ensureLoyaltyTables } from '../../src/analytics/loyalty/sync.js'
import { INGEST_TABLES } from '../../src/core/schema.js'
import { runMetrics } from '../../src/engine/metrics/run.js'
import { sql } from '../../src/engine/sql/fragment.js'
import { simulate, type SimulateResult } from '../../src/simulate/simulate.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let sim: SimulateResult

beforeAll(async () => {
  s = await scratch()
  sim = await simulate(`${s.dir}/data`, {
    members: 1500,
    seed: 21,
    upliftCampaign: true,
  })
  for (const t of INGEST_TABLES) await s.ingest(t, sim.files[t] as string)
  // A synced ledger in which the win-back campaign credited 100 bonus points to each of its first 40 treated
  // members (and reversed 5 of them), at ¥0.02 a point: its cost includes them on both sides.
  const wb = sim.truth.winback?.campaignId ?? ''
  const d = s.db.driver
  await ensureLoyaltyTables(d)
  await d.execute(sql`INSERT INTO loyalty_entries
    SELECT row_number() OVER (ORDER BY member_id, kind), 'L' || member_id, member_id, kind, points,
      sent_at, sent_at, 'test', 'campaign', ${wb}
    FROM (SELECT t.member_id, t.sent_at, k.kind, k.points FROM
        (SELECT member_id, min(sent_at) AS sent_at FROM touches
          WHERE campaign_id = ${wb} AND treatment_group = 'treatment' GROUP BY member_id
          ORDER BY member_id LIMIT 40) t
        CROSS JOIN (SELECT 'earn' AS kind, 100 AS points UNION ALL SELECT 'reverse', -100) k
      WHERE k.kind = 'earn' OR t.member_id % 8 = 0)`)
  await d.execute(
    sql`INSERT INTO loyalty_sync_state VALUES ('point_value', '0.02'), ('currency', 'CNY')`,
  )
}, 120_000)
afterAll(async () => {
  await s.cleanup()
})

describe('campaign metrics against memberlens effects', () => {
  for (const windowDays of [30, 14]) {
    it(`gives the incremental orders, net revenue, full cost and ROI of effects (${windowDays}-day window)`, async () => {
      const campaigns = (await listCampaigns(s.db.driver)).filter((c) => c.holdout > 0)
      // The win-back campaign and the randomised multi-arm retention campaign.
      expect(campaigns.length).toBeGreaterThanOrEqual(2)
      let withPoints = 0
      let withCoupons = 0
      for (const c of campaigns) {
        const e = await programEffect(s.db.driver, c.campaignId, { windowDays })
        const month = c.firstSent.slice(0, 7)
        const r = await runMetrics(s.db.driver, {
          metrics: [
            'campaign_incremental_orders',
            'campaign_incremental_revenue',
            'campaign_cost',
            'campaign_roi',
          ],
          from: month,
          to: month,
          by: ['campaign'],
          settings: { campaignWindowDays: windowDays },
        })
        const v = r.rows.find((x) => x.dims['campaign'] === c.campaignId)?.values
        if (v === undefined) throw new Error(`${c.campaignId} is not in ${month}`)
        const x = e.economics
        if (x === null) throw new Error(`${c.campaignId}: effects gives no economics`)
        expect(v['campaign_incremental_orders'], c.campaignId).toBeCloseTo(x.incrementalOrders, 6)
        expect(v['campaign_incremental_revenue'], c.campaignId).toBeCloseTo(x.incrementalRevenue, 4)
        expect(v['campaign_cost'], c.campaignId).toBeCloseTo(e.fullCost.total, 6)
        expect(v['campaign_roi'], c.campaignId).toBeCloseTo(x.roi ?? NaN, 9)
        // Every part is really there: coupons redeemed, and the ledger's points for the win-back campaign.
        expect(e.fullCost.send, c.campaignId).toBeGreaterThan(0)
        if ((e.fullCost.points?.amount ?? 0) > 0) withPoints++
        if (e.fullCost.coupons.faceValue > 0) withCoupons++
        expect(x.incrementalOrders).not.toBe(0)
      }
      expect(withPoints).toBe(1)
      expect(withCoupons).toBeGreaterThanOrEqual(1)
    })
  }

  it('counts a campaign in the month of its start only', async () => {
    const c = (await listCampaigns(s.db.driver)).find((x) => x.holdout > 0)
    if (c === undefined) throw new Error('no campaign with a holdout')
    const month = c.firstSent.slice(0, 7)
    const r = await runMetrics(s.db.driver, {
      metrics: ['campaign_incremental_orders', 'campaign_cost'],
      from: '2020-01',
      to: '2030-12',
      grain: 'year',
      by: ['campaign'],
    })
    const rows = r.rows.filter(
      (x) => x.dims['campaign'] === c.campaignId && x.values['campaign_cost'] !== null,
    )
    expect(rows.map((x) => x.period.slice(0, 4))).toEqual([month.slice(0, 4)])
  })
})
