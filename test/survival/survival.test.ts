import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getSurvival } from '../../src/analytics/survival.js'
import type { Database } from '../../src/store/database.js'
import { insert, member, memoryDb, order } from '../cohorts/fixture-db.js'

/*
 * churnDays 100, as of 2024-07-01. Time to churn from the first purchase = (last purchase of the first spell
 * − first purchase) + 100 days when the churn has been observed, else censored at asOf − first purchase:
 *   a  01-01                          → churned at 100
 *   b  01-01 02-20 (gap 50)           → churned at 50 + 100 = 150
 *   c  01-01 05-01 (gap 121: a return) → churned at 100 (the first churn counts)
 *   d  04-01 (91 days before asOf)    → censored at 91
 *   e  06-01 06-15                    → censored at 30
 *   f  2023-10-01 2024-03-01 (gap 152) → churned at 100
 *   g  2023-09-01 11-01 2024-01-01 03-01 (gaps ≤ 61) → churned at 182 + 100 = 282
 *   h  never bought                   → not in the curve
 * KM: t=100 n 5 (e, d censored earlier) d 3 → S 0.4; t=150 n 2 d 1 → 0.2; t=282 n 1 → 0. Median 100.
 * By channel: app {a b c} → 1/3 at 100, 0 at 150; store {d e f g} → t=100 n 2 d 1 → 0.5, t=282 → 0.
 */
const CONFIG = { churnDays: 100 }
let db: Database
beforeAll(async () => {
  db = await memoryDb()
  const app = { registration_channel: 'app' }
  const store = { registration_channel: 'store' }
  await insert(db, 'members', [
    member(1, '2023-06-01 00:00:00', app),
    member(2, '2023-06-01 00:00:00', app),
    member(3, '2023-06-01 00:00:00', app),
    member(4, '2023-06-01 00:00:00', store),
    member(5, '2023-06-01 00:00:00', store),
    member(6, '2023-06-01 00:00:00', store),
    member(7, '2023-06-01 00:00:00', store),
    member(8, '2023-06-01 00:00:00', store),
  ])
  const o = (m: number, dates: string[]) => dates.map((d) => order(m, `${d} 00:00:00`, 10))
  await insert(db, 'orders', [
    ...o(1, ['2024-01-01']),
    ...o(2, ['2024-01-01', '2024-02-20']),
    ...o(3, ['2024-01-01', '2024-05-01']),
    ...o(4, ['2024-04-01']),
    ...o(5, ['2024-06-01', '2024-06-15']),
    ...o(6, ['2023-10-01', '2024-03-01']),
    ...o(7, ['2023-09-01', '2023-11-01', '2024-01-01', '2024-03-01']),
  ])
})
afterAll(async () => {
  await db.close()
})

describe('survival of time to churn', () => {
  it('fits the censored Kaplan–Meier curve by hand-checked numbers', async () => {
    const [all] = await getSurvival(db.driver, { asOf: '2024-07-01', config: CONFIG })
    expect(all?.members).toBe(7)
    expect(all?.churned).toBe(5)
    expect(all?.curve.censoredBeforeFirstEvent).toBe(2)
    expect(all?.curve.steps.map((s) => [s.time, s.atRisk, s.events])).toEqual([
      [100, 5, 3],
      [150, 2, 1],
      [282, 1, 1],
    ])
    expect(all?.curve.steps.map((s) => s.survival)).toEqual([0.4, 0.2, 0])
    expect(all?.medianDays).toBe(100)
    expect(all?.checkpoints.find((c) => c.days === 90)?.survival).toBe(1)
    expect(all?.checkpoints.find((c) => c.days === 180)?.survival).toBe(0.2)
  })

  it('splits by a dimension', async () => {
    const groups = await getSurvival(db.driver, {
      asOf: '2024-07-01',
      config: CONFIG,
      dimension: 'registration_channel',
    })
    expect(groups.map((g) => [g.dimension, g.members, g.curve.steps.map((s) => s.time)])).toEqual([
      ['app', 3, [100, 150]],
      ['store', 4, [100, 282]],
    ])
    expect(groups[0]?.curve.steps[0]?.survival).toBeCloseTo(1 / 3, 12)
    expect(groups[1]?.curve.steps.map((s) => s.survival)).toEqual([0.5, 0])
    expect(groups.map((g) => g.medianDays)).toEqual([100, 100])
  })

  it('measures from registration when asked', async () => {
    const [all] = await getSurvival(db.driver, {
      asOf: '2024-07-01',
      config: CONFIG,
      origin: 'registration',
    })
    // g: 2023-06-01 → 2024-03-01 is 274 days, + 100 = 374, the last event time.
    expect(all?.curve.steps.at(-1)?.time).toBe(374)
  })
})
