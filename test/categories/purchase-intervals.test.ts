/**
 * Inter-purchase intervals on the hand-checked category fixture. Purchase days: member 1 on 02-01, 03-01,
 * 04-01 (gaps 28, 31); member 2 on 02-02, 02-10 (8); member 5 on 02-06, 02-07 (1); members 3 and 4 once
 * before the instant. Quantiles interpolate linearly between the sorted gaps 1, 8, 28, 31.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  getMemberCadence,
  getPurchaseIntervals,
} from '../../src/engine/categories/purchase-intervals.js'
import { sql } from '../../src/engine/sql/fragment.js'
import type { Database } from '../../src/store/database.js'
import { memoryDb } from '../cohorts/fixture-db.js'
import { categoryFixture } from './fixture.js'

const AS_OF = '2026-06-01'
let db: Database
beforeAll(async () => {
  db = await memoryDb()
  await categoryFixture(db)
})
afterAll(async () => db.close())

describe('purchase intervals', () => {
  it('gives P10 … P90 of the gaps between purchase days', async () => {
    const r = await getPurchaseIntervals(db.driver, { asOf: AS_OF })
    expect(r.rows).toHaveLength(1)
    const all = r.rows?.[0]
    expect(all).toMatchObject({ group: 'all', members: 3, gaps: 4, p50: 18, mean: 17 })
    expect(all?.p10).toBeCloseTo(3.1)
    expect(all?.p25).toBeCloseTo(6.25)
    expect(all?.p75).toBeCloseTo(28.75)
    expect(all?.p90).toBeCloseTo(30.1)
  })

  it('per category, measures the days between purchases of that category', async () => {
    const r = await getPurchaseIntervals(db.driver, { asOf: AS_OF, by: 'category' })
    const by = Object.fromEntries((r.rows ?? []).map((x) => [x.group, x]))
    expect(Object.keys(by).sort()).toEqual(['bakery', 'dairy'])
    expect(by['dairy']).toMatchObject({ members: 1, gaps: 1, p50: 59 })
    expect(by['bakery']).toMatchObject({ members: 1, gaps: 1, p50: 28 })
  })

  it('keeps to the members of a segment', async () => {
    const r = await getPurchaseIntervals(db.driver, {
      asOf: AS_OF,
      members: sql`SELECT member_id FROM members WHERE member_id IN (1, 2)`,
    })
    expect(r.rows?.[0]).toMatchObject({ members: 2, gaps: 3, p50: 28 })
  })

  it('groups by lifecycle stage, and gives no tier grouping before a ledger sync', async () => {
    const r = await getPurchaseIntervals(db.driver, { asOf: AS_OF, by: 'lifecycle_stage' })
    expect((r.rows ?? []).reduce((t, x) => t + x.gaps, 0)).toBe(4)
    const tier = await getPurchaseIntervals(db.driver, { asOf: AS_OF, by: 'tier' })
    expect(tier.rows).toBeNull()
  })

  it('gives each member their own cadence', async () => {
    const m1 = await getMemberCadence(db.driver, 1, { asOf: AS_OF })
    expect(m1).toMatchObject({ purchaseDays: 3, gaps: 2, medianGapDays: 29.5 })
    expect(m1.p90GapDays).toBeCloseTo(30.7)
    // One purchase day before the instant: no gap, so no cadence (null, not 0).
    expect(await getMemberCadence(db.driver, 4, { asOf: AS_OF })).toEqual({
      purchaseDays: 1,
      gaps: 0,
      medianGapDays: null,
      p90GapDays: null,
    })
    expect((await getMemberCadence(db.driver, 4)).purchaseDays).toBe(2)
  })
})
