/**
 * The early warning's "tier about to drop" signal, from the ledger accounts synced into the engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  earlyWarningSignals,
  parseEarlyWarningConfig,
} from '../../src/analytics/risk/early-warning.js'
import { ensureLoyaltyTables } from '../../src/analytics/loyalty/sync.js'
import { downgradeDueDays } from '../../src/analytics/risk/tier-signals.js'
import {
  CHURN_FEATURE_COLUMNS,
  type ChurnFeatureTable,
} from '../../src/duckdb/summaries/churn-features.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
beforeAll(async () => {
  s = await scratch()
})
afterAll(async () => {
  await s.cleanup()
})

const ids = Float64Array.from([1, 2, 3, 4])

describe('tier downgrade warning', () => {
  it('is silent before the ledger has been synced', async () => {
    const days = await downgradeDueDays(s.db.driver, '2026-02-28', ids, 'UTC')
    expect(Array.from(days).every(Number.isNaN)).toBe(true)
  })

  it('raises tier_downgrade_due for a downgrade scheduled within the warning window', async () => {
    await ensureLoyaltyTables(s.db.driver)
    // Member 1: due in 10 days · 2: in 45 days · 3: no grace period · 4: no account.
    await s.db.driver.execute({
      sql: `INSERT INTO loyalty_accounts VALUES
        ('a', 1, TIMESTAMP '2025-01-01', 100, 0, 'gold', NULL, TIMESTAMP '2026-03-11 00:00:00', TIMESTAMP '2026-02-01'),
        ('b', 2, TIMESTAMP '2025-01-01', 100, 0, 'gold', NULL, TIMESTAMP '2026-04-15 00:00:00', TIMESTAMP '2026-02-01'),
        ('c', 3, TIMESTAMP '2025-01-01', 100, 0, 'silver', NULL, NULL, TIMESTAMP '2026-02-01')`,
      parameters: [],
    })
    // Scores as of 2026-02-28 hold at its end, 2026-03-01 00:00 UTC.
    const days = await downgradeDueDays(s.db.driver, '2026-02-28', ids, 'UTC')
    expect(Array.from(days)).toEqual([10, 45, NaN, NaN])
    // In Asia/Shanghai the day ends 8 hours earlier, at 2026-02-28 16:00 UTC: 10 days and 8 hours, 45 and 8.
    const shanghai = await downgradeDueDays(s.db.driver, '2026-02-28', ids, 'Asia/Shanghai')
    expect(Array.from(shanghai, (d) => d * 24)).toEqual([248, 1088, NaN, NaN])

    const f = Object.fromEntries(
      CHURN_FEATURE_COLUMNS.map((c) => [c, new Float64Array(ids.length).fill(NaN)]),
    ) as unknown as ChurnFeatureTable
    const none = new Float64Array(ids.length).fill(NaN)
    const config = parseEarlyWarningConfig({})
    const signals = [0, 1, 2, 3].map((i) => earlyWarningSignals(f, i, none, none, config, days))
    expect(signals).toEqual([['tier_downgrade_due'], [], [], []])
    const wider = parseEarlyWarningConfig({ downgradeWarningDays: 60 })
    expect(earlyWarningSignals(f, 1, none, none, wider, days)).toEqual(['tier_downgrade_due'])
  })
})
