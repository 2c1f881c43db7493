/**
 * The early warning's "purchase gap past cadence" signal judges a member against their own cadence: the median
 * gap between their purchase days, computed in SQL, so that one long pause does not stretch it as a mean would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  earlyWarningSignals,
  parseEarlyWarningConfig,
} from '../../src/analytics/risk/early-warning.js'
import { churnFeatures } from '../../src/duckdb/summaries/churn-features.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
beforeAll(async () => {
  s = await scratch()
  // Member 1 (phone …01): purchase days 01-01, 01-11, 01-21, 05-01 → gaps 10, 10, 100: median 10, mean 40.
  // Member 2 (phone …02): 01-01, 01-31, 03-01 → gaps 30, 29: median 29.5. Two orders on one day are one day.
  const orders = [
    'O1,13900000001,2026-01-01',
    'O2,13900000001,2026-01-11',
    'O3,13900000001,2026-01-21',
    'O4,13900000001,2026-05-01',
    'O5,13900000002,2026-01-01',
    'O6,13900000002,2026-01-31',
    'O7,13900000002,2026-01-31',
    'O8,13900000002,2026-03-01',
  ]
  await s.ingest(
    'members',
    await s.file('m.csv', 'phone,registered_at\n13900000001,2025-12-01\n13900000002,2025-12-01\n'),
  )
  await s.ingest(
    'orders',
    await s.file(
      'o.csv',
      ['order_id,phone,ordered_at,channel,net_amount', ...orders.map((o) => `${o},store,10`)].join(
        '\n',
      ),
    ),
  )
})
afterAll(async () => {
  await s.cleanup()
})

describe('the early warning’s own cadence', () => {
  it('is the median gap between purchase days, beside the mean kept for the model', async () => {
    const f = await churnFeatures(s.db.driver, '2026-06-20')
    expect(Array.from(f.member_id)).toEqual([1, 2])
    expect(Array.from(f.median_gap_days)).toEqual([10, 29.5])
    expect(Array.from(f.cadence_days)).toEqual([40, 29.5])
    expect(Array.from(f.recency_days)).toEqual([50, 111])
  })

  it('flags a gap past twice the median even when it is below twice the mean', async () => {
    const f = await churnFeatures(s.db.driver, '2026-06-20')
    const none = new Float64Array(2).fill(NaN)
    const config = parseEarlyWarningConfig({})
    // Member 1: 50 days since the last purchase > 2 × 10 (the median), though < 2 × 40 (the mean).
    expect(earlyWarningSignals(f, 0, none, none, config)).toContain('purchase_gap_past_cadence')
    expect(earlyWarningSignals(f, 1, none, none, config)).toContain('purchase_gap_past_cadence')
    // A month earlier, member 1 is 19 days from the last purchase: not past 2 × 10.
    const early = await churnFeatures(s.db.driver, '2026-05-20')
    expect(earlyWarningSignals(early, 0, none, none, config)).not.toContain(
      'purchase_gap_past_cadence',
    )
  })

  it('a member with one purchase day has no cadence and no such signal', async () => {
    const f = await churnFeatures(s.db.driver, '2026-01-05')
    expect(Array.from(f.median_gap_days).every(Number.isNaN)).toBe(true)
    const none = new Float64Array(2).fill(NaN)
    const config = parseEarlyWarningConfig({})
    expect(earlyWarningSignals(f, 0, none, none, config)).not.toContain('purchase_gap_past_cadence')
  })
})
