import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getSurvival } from '../../src/analytics/lifetime/survival.js'
import type { Database } from '../../src/store/database.js'
import { insert, member, memoryDb, order } from '../cohorts/fixture-db.js'

/*
 * churnDays 100, as of 2024-07-01, so churns are seen up to the horizon 2024-07-01 − 100 days = 2024-03-23.
 * The churn is dated at the last purchase of the first spell; time from the first purchase:
 *   a  01-01                          → churned at 0 (never bought again)
 *   b  01-01 02-20 (gap 50)           → churned at 50
 *   c  01-01 05-01 (gap 121: a return) → churned at 0 (the first churn counts)
 *   d  04-01                          → first purchase after the horizon: left out
 *   e  06-01 06-15                    → left out
 *   f  2023-10-01 2024-03-01 (gap 152) → churned at 0
 *   g  2023-09-01 11-01 2024-01-01 03-01 (gaps ≤ 61; last ≤ horizon) → churned at 182
 *   h  never bought                   → not in the curve
 *   i  02-01 05-01 (gap 90, last after the horizon) → censored at the horizon: 02-01 → 03-23 = 51
 * KM: t=0 n 6 d 3 → S 0.5; t=50 n 3 d 1 → 1/3; (i censored at 51); t=182 n 1 d 1 → 0. Median 0.
 * By channel: app {a b c i} → t=0 n 4 d 2 → 0.5, t=50 n 2 d 1 → 0.25; store {f g} → t=0 n 2 d 1 → 0.5,
 * t=182 → 0.
 * From registration (all 2023-06-01): a, c 214; b 264; f 122; g 274; d, e and i censored at the horizon, 296.
 * KM: t=122 n 8 d 1 → 7/8; t=214 n 7 d 2 → 5/8; t=264 n 5 d 1 → 1/2; t=274 n 4 d 1 → 3/8.
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
    member(9, '2023-06-01 00:00:00', app),
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
    ...o(9, ['2024-02-01', '2024-05-01']),
  ])
})
afterAll(async () => {
  await db.close()
})

describe('survival of time to churn, dated at the last purchase', () => {
  it('fits the censored Kaplan–Meier curve by hand-checked numbers', async () => {
    const [all] = await getSurvival(db.driver, { asOf: '2024-07-01', config: CONFIG })
    expect(all?.members).toBe(6)
    expect(all?.churned).toBe(5)
    expect(all?.curve.censoredBeforeFirstEvent).toBe(0)
    expect(all?.curve.steps.map((s) => [s.time, s.atRisk, s.events, s.censored])).toEqual([
      [0, 6, 3, 0],
      [50, 3, 1, 1],
      [182, 1, 1, 0],
    ])
    expect(all?.curve.steps[0]?.survival).toBe(0.5)
    expect(all?.curve.steps[1]?.survival).toBeCloseTo(1 / 3, 12)
    expect(all?.curve.steps[2]?.survival).toBe(0)
    expect(all?.medianDays).toBe(0)
    expect(all?.checkpoints.find((c) => c.days === 30)?.survival).toBe(0.5)
    expect(all?.checkpoints.find((c) => c.days === 90)?.survival).toBeCloseTo(1 / 3, 12)
    expect(all?.checkpoints.find((c) => c.days === 365)?.survival).toBe(0)
  })

  it('splits by a dimension', async () => {
    const groups = await getSurvival(db.driver, {
      asOf: '2024-07-01',
      config: CONFIG,
      dimension: 'registration_channel',
    })
    expect(groups.map((g) => [g.dimension, g.members, g.curve.steps.map((s) => s.time)])).toEqual([
      ['app', 4, [0, 50]],
      ['store', 2, [0, 182]],
    ])
    expect(groups[0]?.curve.steps.map((s) => s.survival)).toEqual([0.5, 0.25])
    expect(groups[1]?.curve.steps.map((s) => s.survival)).toEqual([0.5, 0])
    expect(groups.map((g) => g.medianDays)).toEqual([0, 0])
  })

  it('measures from registration when asked, censoring at the horizon', async () => {
    const [all] = await getSurvival(db.driver, {
      asOf: '2024-07-01',
      config: CONFIG,
      origin: 'registration',
    })
    expect(all?.members).toBe(8)
    expect(all?.curve.steps.map((s) => [s.time, s.atRisk, s.events, s.survival])).toEqual([
      [122, 8, 1, 7 / 8],
      [214, 7, 2, 5 / 8],
      [264, 5, 1, 1 / 2],
      [274, 4, 1, 3 / 8],
    ])
    expect(all?.curve.steps.at(-1)?.censored).toBe(3)
    expect(all?.medianDays).toBe(264)
  })
})
