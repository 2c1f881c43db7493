import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rfmConfigSchema } from '../../src/engine/rfm/rfm-config.js'
import { getRfmMovement, getRfmScores, getRfmSummary } from '../../src/engine/rfm/rfm-scores.js'
import type { Database } from '../../src/store/database.js'
import { insert, member, memoryDb, order } from '../cohorts/fixture-db.js'

/*
 * Ten buyers as of 2024-07-01 00:00 (R = days since the last purchase, F = purchases, M = net revenue):
 *   m1 R 1 F 8 M 50 · m2 R 5 F 1 M 10 · m3 R 5 F 1 M 10 (same as m2) · m4 R 10 F 1 M 30 · m5 R 20 F 2 M 80
 *   m6 R 40 F 2 M 80 · m7 R 60 F 3 M 210 · m8 R 100 F 4 M 60 · m9 R 200 F 5 M 500 − return 100 = 400
 *   m10 R 300 F 1 M 90.  m11 has no order, m12 only a cancelled one: neither is scored.
 * Quintile score = 1 + #{q ∈ .2 .4 .6 .8 : (rank − 1)/10 ≥ q}: ranks 1–2 → 1, 3–4 → 2, 5–6 → 3, 7–8 → 4,
 * 9–10 → 5; ties take the lowest rank.
 *   R (ranked from the longest gap): m10 1, m9 1, m8 2, m7 2, m6 3, m5 3, m4 4, m2 = m3 rank 8 → 4, m1 5
 *   F: F=1 (m2 m3 m4 m10) rank 1 → 1; F=2 rank 5 → 3; F=3 rank 7 → 4; F=4 rank 8 → 4; F=5 rank 9 → 5; F=8 → 5
 *   M: 10 (m2 m3) rank 1 → 1; 30 rank 3 → 2; 50 rank 4 → 2; 60 rank 5 → 3; 80 (m5 m6) rank 6 → 3;
 *      90 rank 8 → 4; 210 rank 9 → 5; 400 rank 10 → 5
 * FM = ⌊(F + M + 1) / 2⌋, segment from the default grid (row R, column FM).
 */
const PROFILE: Record<number, [number, number, number]> = {
  1: [1, 8, 50],
  2: [5, 1, 10],
  3: [5, 1, 10],
  4: [10, 1, 30],
  5: [20, 2, 80],
  6: [40, 2, 80],
  7: [60, 3, 210],
  8: [100, 4, 60],
  9: [200, 5, 500],
  10: [300, 1, 90],
}
const T = Date.UTC(2024, 6, 1)
const day = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ')

let db: Database
beforeAll(async () => {
  db = await memoryDb()
  await insert(
    db,
    'members',
    Array.from({ length: 12 }, (_, i) => member(i + 1, '2023-01-01 00:00:00')),
  )
  const orders = Object.entries(PROFILE).flatMap(([id, [r, f, m]]) =>
    Array.from({ length: f }, (_, j) => order(Number(id), day(T - (r + j) * 86_400_000), m / f)),
  )
  await insert(db, 'orders', [...orders, order(12, '2024-06-01 00:00:00', 70, 'cancelled')])
  await insert(db, 'returns', [
    {
      return_id: 'R9',
      order_id: null,
      member_id: 9,
      returned_at: '2024-02-01 00:00:00',
      amount: 100,
    },
  ])
})
afterAll(async () => {
  await db.close()
})

describe('RFM', () => {
  it('scores quintiles with ties sharing a score, and names segments', async () => {
    const scores = await getRfmScores(db.driver, '2024-07-01')
    expect(scores.map((s) => [s.memberId, s.r, s.f, s.m, s.fm, s.segment])).toEqual([
      [1, 5, 5, 2, 4, 'champions'],
      [2, 4, 1, 1, 1, 'promising'],
      [3, 4, 1, 1, 1, 'promising'],
      [4, 4, 1, 2, 2, 'potential_loyalist'],
      [5, 3, 3, 3, 3, 'need_attention'],
      [6, 3, 3, 3, 3, 'need_attention'],
      [7, 2, 4, 5, 5, 'cant_lose_them'],
      [8, 2, 4, 3, 4, 'at_risk'],
      [9, 1, 5, 5, 5, 'cant_lose_them'],
      [10, 1, 1, 4, 3, 'at_risk'],
    ])
    expect(scores.find((s) => s.memberId === 9)).toMatchObject({
      recencyDays: 200,
      frequency: 5,
      monetary: 400,
    })
  })

  it('does not depend on row order', async () => {
    const a = await getRfmScores(db.driver, '2024-07-01')
    await db.driver.execute({
      sql: 'CREATE TABLE o2 AS SELECT * FROM orders ORDER BY random()',
      parameters: [],
    })
    await db.driver.execute({ sql: 'DELETE FROM orders', parameters: [] })
    await db.driver.execute({
      sql: 'INSERT INTO orders SELECT * FROM o2 ORDER BY member_id DESC',
      parameters: [],
    })
    expect(await getRfmScores(db.driver, '2024-07-01')).toEqual(a)
  })

  it('scores with fixed cut points', async () => {
    const scores = await getRfmScores(db.driver, '2024-07-01', {
      scoring: {
        method: 'cuts',
        recencyDays: [7, 30, 90, 180],
        frequency: [1, 2, 3, 4],
        monetary: [20, 50, 100, 300],
      },
    })
    const of = (id: number) => scores.find((s) => s.memberId === id)
    // m1: 1 d → R5; F 8 → 5; M 50 is not above 50 → 2; FM ⌊8/2⌋ = 4 → champions.
    expect(of(1)).toMatchObject({ r: 5, f: 5, m: 2, segment: 'champions' })
    // m8: 100 d → R2; F 4 → 4; M 60 → 3; FM 4 → at_risk.  m10: 300 d → R1; F1; M 90 → 3; FM 2 → lost.
    expect(of(8)).toMatchObject({ r: 2, f: 4, m: 3, segment: 'at_risk' })
    expect(of(10)).toMatchObject({ r: 1, f: 1, m: 3, fm: 2, segment: 'lost' })
  })

  it('summarises sizes and value per segment, zeros included', async () => {
    const summary = await getRfmSummary(db.driver, '2024-07-01')
    const by = Object.fromEntries(summary.map((s) => [s.segment, s]))
    expect(summary).toHaveLength(11)
    expect(by['at_risk']).toMatchObject({
      members: 2,
      revenue: 150,
      share: 0.2,
      avgFrequency: 2.5,
      avgRecencyDays: 200,
    })
    expect(by['cant_lose_them']).toMatchObject({ members: 2, revenue: 610, avgMonetary: 305 })
    expect(by['lost']).toMatchObject({ members: 0, revenue: 0, avgMonetary: null })
    // Total net revenue 50+10+10+30+80+80+210+60+400+90 = 1020.
    expect(by['cant_lose_them']?.revenueShare).toBeCloseTo(610 / 1020, 12)
  })

  it('tracks movement between two dates', async () => {
    // On 2024-01-01 only m9 (last 2023-12-14, F5, M500 before its return) and m10 (2023-09-05, F1, M90) had
    // bought. N = 2: rank 1 → 1, rank 2 → 3. m9 R3 F3 M3 → need_attention; m10 R1 F1 M1 → lost.
    const moves = await getRfmMovement(db.driver, '2024-01-01', '2024-07-01')
    expect(moves.map((x) => [x.from, x.to, x.members])).toEqual([
      ['none', 'champions', 1],
      ['none', 'potential_loyalist', 1],
      ['none', 'promising', 2],
      ['none', 'need_attention', 2],
      ['none', 'at_risk', 1],
      ['none', 'cant_lose_them', 1],
      ['need_attention', 'cant_lose_them', 1],
      ['lost', 'at_risk', 1],
    ])
  })

  it('validates the config', () => {
    expect(
      rfmConfigSchema.safeParse({
        scoring: { method: 'quantile', quantiles: [0.5, 0.2, 0.6, 0.8] },
      }).success,
    ).toBe(false)
    expect(
      rfmConfigSchema.safeParse({
        scoring: {
          method: 'cuts',
          recencyDays: [1, 2],
          frequency: [1, 2, 3, 4],
          monetary: [1, 2, 3, 4],
        },
      }).success,
    ).toBe(false)
  })
})
