/**
 * The repeat-buying summaries computed in SQL from the CDNOW transaction log reproduce the published
 * per-customer summary file (x, t_x, T, z̄ of all 2,357 sample customers, rounded to 2 decimals), and the
 * registration-origin and holdout columns follow their definitions on a hand-made example.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  repeatBuyingSummaries,
  type RepeatBuyingSummaries,
} from '../../src/engine/summaries/repeat-buying.js'
import { cdnowPreset } from '../../src/duckdb/ingest/presets/cdnow.js'
import {
  CDNOW_SAMPLE as SAMPLE,
  CDNOW_SUMMARY_WITH_TRANSACTIONS as SUMMARY,
} from '../helpers/data.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'
import type { Database } from '../../src/store/database.js'
import { insert, member, memoryDb, order } from '../cohorts/fixture-db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>

describe('CDNOW summaries from SQL', () => {
  let s: Scratch
  let summaries: RepeatBuyingSummaries
  /** member_id → sample ID of the published file. */
  const sampleIdOf = new Map<number, number>()

  beforeAll(async () => {
    s = await scratch()
    await cdnowPreset.load(s.db.driver, SAMPLE, { clock: TEST_CLOCK })
    summaries = await repeatBuyingSummaries(s.db.driver, {
      calibrationEnd: '1997-09-30',
      holdoutEnd: '1998-06-30',
    })
    // The published file is keyed by the sample id (2nd column of the log); the preset keys members by
    // the master id (1st column, leading zeros dropped).
    const masterToSample = new Map<string, number>()
    for (const line of readFileSync(SAMPLE, 'utf8').split(/\r?\n/)) {
      const f = line.trim().split(/\s+/)
      if (f.length === 5) masterToSample.set((f[0] as string).replace(/^0+/, ''), Number(f[1]))
    }
    const ids = await s.db.driver.all<{ memberId: bigint; value: string }>({
      sql: `SELECT member_id, identity_value AS value FROM identities WHERE identity_type = 'customer_id'`,
      parameters: [],
    })
    for (const r of ids) sampleIdOf.set(Number(r.memberId), masterToSample.get(r.value) as number)
  })
  afterAll(async () => {
    await s.cleanup()
  })

  it('reproduces x, t_x, T and z̄ of all 2,357 customers to the file’s 2-decimal rounding', () => {
    const lines = readFileSync(SUMMARY, 'utf8').trim().split(/\r?\n/)
    expect(lines[0]).toBe('ID,x,t_x,T,zbar')
    const published = new Map<number, number[]>()
    for (const line of lines.slice(1)) {
      const [id, ...rest] = line.split(',').map(Number)
      published.set(id as number, rest)
    }
    expect(summaries.memberId.length).toBe(2357)
    let checked = 0
    for (let i = 0; i < summaries.memberId.length; i++) {
      const id = sampleIdOf.get(summaries.memberId[i] as number) as number
      const [x, tx, T, zbar] = published.get(id) as number[]
      expect(summaries.x[i], `x of ${id}`).toBe(x)
      // The file rounds to 2 decimals: half a unit of the last place (plus float slack).
      expect(
        Math.abs((summaries.tx[i] as number) - (tx as number)),
        `t_x of ${id}`,
      ).toBeLessThanOrEqual(0.005 + 1e-9)
      expect(
        Math.abs((summaries.T[i] as number) - (T as number)),
        `T of ${id}`,
      ).toBeLessThanOrEqual(0.005 + 1e-9)
      expect(
        Math.abs((summaries.zbar[i] as number) - (zbar as number)),
        `zbar of ${id}`,
      ).toBeLessThanOrEqual(0.005 + 1e-9)
      checked++
    }
    expect(checked).toBe(2357)
    // Customer 1 (hand-checked from the log): purchases 1997-01-01, 01-18, 08-02 and 12-12.
    const one = [...sampleIdOf].find(([, sid]) => sid === 1)?.[0] as number
    const i = summaries.memberId.indexOf(one)
    expect([summaries.x[i], summaries.tx[i], summaries.T[i]]).toEqual([2, 213 / 7, 272 / 7])
    expect(summaries.zbar[i]).toBeCloseTo((29.73 + 14.96) / 2, 10)
    expect(summaries.holdoutPurchases[i]).toBe(1)
    expect(summaries.holdoutValue[i]).toBeCloseTo(26.48, 10)
  })

  it('counts 1,882 holdout purchase days over the 39 holdout weeks', () => {
    // Independently from the raw log: distinct (customer, day) pairs dated 1997-10-01 … 1998-06-30
    // (`awk '$3>19970930 && $3<=19980630 {print $1,$3}' CDNOW_sample.txt | sort -u | wc -l`).
    const total = summaries.holdoutPurchases.reduce((a, b) => a + b, 0)
    expect(summaries.holdoutLength).toBeCloseTo(273 / 7, 12)
    expect(total).toBeGreaterThan(0)
    expect(total).toBe(HOLDOUT_DAYS)
  })
})

const HOLDOUT_DAYS = 1882

describe('purchase days in the project time zone', () => {
  /*
   * One member with orders at 2024-01-01 10:00 and 20:00 UTC, and 2024-01-08 10:00 UTC; calibration end
   * 2024-01-10, unit day. In UTC the first two are one purchase day: x = 1 (01-08), t_x = 7, T = 9. In
   * Asia/Shanghai they fall on 01-01 18:00 and 01-02 04:00, two days: x = 2 (01-02, 01-08), t_x = 7, T = 9.
   */
  let db: Database
  beforeAll(async () => {
    db = await memoryDb()
    await insert(db, 'members', [member(1, '2023-12-01 00:00:00')])
    await insert(db, 'orders', [
      order(1, '2024-01-01 10:00:00', 10),
      order(1, '2024-01-01 20:00:00', 20),
      order(1, '2024-01-08 10:00:00', 30),
    ])
  })
  afterAll(async () => {
    await db.close()
  })

  it('merges same-day purchases by the zone’s calendar days', async () => {
    const at = async (timezone: string) => {
      const r = await repeatBuyingSummaries(db.driver, {
        calibrationEnd: '2024-01-10',
        unit: 'day',
        timezone,
      })
      return [r.x[0], r.tx[0], r.T[0], r.zbar[0]]
    }
    expect(await at('UTC')).toEqual([1, 7, 9, 30])
    expect(await at('Asia/Shanghai')).toEqual([2, 7, 9, 25])
  })
})
