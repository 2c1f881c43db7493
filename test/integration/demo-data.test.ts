/**
 * The simulator's files through the ordinary ingest path: identity resolution must end with exactly the true
 * number of persons, merging each duplicate registration once; a second load changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runMetrics } from '../../src/engine/metrics/run.js'
import { MODEL_PARAMETERS } from '../../src/simulate/model-parameters.js'
import { simulate, type SimulateResult } from '../../src/simulate/simulate.js'
import { scratch, snapshot } from '../helpers/db.js'
import { INGEST_TABLES } from '../../src/core/schema.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let sim: SimulateResult
beforeAll(async () => {
  s = await scratch()
  sim = await simulate(`${s.dir}/data`, { members: 2000, months: 12, seed: 11 })
})
afterAll(async () => {
  await s.cleanup()
})

describe('simulated data through ingest', () => {
  it('resolves the duplicate registrations into the true persons', async () => {
    let merged = 0
    for (const t of INGEST_TABLES) {
      const r = await s.ingest(t, sim.files[t] as string)
      expect(r.rowsInserted).toBe(sim.rows[t])
      merged += r.membersMerged
    }
    const truth = sim.truth
    expect(merged).toBe(truth.duplicates.registrations)
    expect(truth.duplicates.linkedByOrder + truth.duplicates.linkedByEvent).toBe(
      truth.duplicates.registrations,
    )
    const [row] = await s.db.driver.all({
      sql: 'SELECT count(*) AS n FROM members',
      parameters: [],
    })
    expect(Number(row?.['n'])).toBe(truth.persons)
  })

  it('recovers the planted registration conversion of each channel', async () => {
    const span = await s.db.driver.first<{ lo: string; hi: string }>({
      sql: 'SELECT CAST(min(period_start) AS VARCHAR) AS lo, CAST(max(period_start) AS VARCHAR) AS hi FROM visitors',
      parameters: [],
    })
    const r = await runMetrics(s.db.driver, {
      metrics: ['registration_conversion', 'new_members'],
      from: span?.lo ?? '',
      to: span?.hi ?? '',
      grain: 'year',
      by: ['registration_channel'],
    })
    const planted = MODEL_PARAMETERS.acquisition.registrationConversion as Record<string, number>
    let checked = 0
    for (const row of r.rows) {
      if ((row.values['new_members'] ?? 0) < 100) continue
      const p = planted[row.dims['registration_channel'] ?? ''] as number
      expect(row.values['registration_conversion']).toBeGreaterThan(p * 0.8)
      expect(row.values['registration_conversion']).toBeLessThan(p * 1.2)
      checked++
    }
    expect(checked).toBeGreaterThan(0)
  })

  it('gives every coupon the member of its redemption order, and the catalog the coupons of truth.json', async () => {
    // A redeemed coupon's member is the member of the order it was used on.
    const mismatched = await s.db.driver.first<{ n: bigint; redeemed: bigint }>({
      sql: `SELECT count(*) FILTER (WHERE o.member_id <> c.member_id) AS n, count(*) AS redeemed
        FROM coupons c JOIN orders o USING (order_id)`,
      parameters: [],
    })
    expect(Number(mismatched?.n)).toBe(0)
    expect(Number(mismatched?.redeemed)).toBeGreaterThan(0)
    const r = await runMetrics(s.db.driver, {
      metrics: ['coupons_issued', 'coupons_redeemed', 'coupon_cost'],
      from: '2020-01-01',
      to: '2030-12-31',
      grain: 'year',
      by: ['coupon_campaign'],
    })
    const sum = (campaign: string, id: string): number =>
      r.rows
        .filter((x) => x.dims['coupon_campaign'] === campaign)
        .reduce((a, x) => a + (x.values[id] ?? 0), 0)
    const campaigns = Object.entries(sim.truth.coupons?.campaigns ?? {})
    expect(campaigns.length).toBeGreaterThan(4)
    for (const [id, c] of campaigns) {
      expect([id, sum(id, 'coupons_issued'), sum(id, 'coupons_redeemed')]).toEqual([
        id,
        c.issued,
        c.redeemed,
      ])
      expect(sum(id, 'coupon_cost')).toBeCloseTo(c.redeemedFaceValue, 6)
    }
  })

  it('loads the same files again without a change', async () => {
    const before = (await snapshot(s.db)).replace(/"loads":.*$/, '')
    for (const t of INGEST_TABLES) {
      const r = await s.ingest(t, sim.files[t] as string)
      expect([t, r.rowsInserted, r.rowsUpdated, r.membersCreated, r.membersMerged]).toEqual([
        t,
        0,
        0,
        0,
        0,
      ])
    }
    expect((await snapshot(s.db)).replace(/"loads":.*$/, '')).toBe(before)
  })
})
