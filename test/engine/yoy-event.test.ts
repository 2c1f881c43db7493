/**
 * `:yoy_event`, the 同比 aligned on the nearest calendar event. The alignment on hand-checked dates, and the
 * issue's test: on a simulated base whose truth moves demand with 春节 (the simulator's calendar demand), the
 * calendar `:yoy` of January and February swings with the festival's date while `:yoy_event` does not. The
 * same seed simulated without calendar demand is the control: it shares the growth of the base, so what the
 * two bases' comparisons differ by is what the festival did to them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { alignmentCalendar } from '../../src/calendar/index.js'
import { alignPeriod } from '../../src/engine/metrics/event-alignment.js'
import { runMetrics, type MetricResult } from '../../src/engine/metrics/run.js'
import { INGEST_TABLES } from '../../src/core/schema.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { simulate } from '../../src/simulate/simulate.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { InputError } from '../../src/core/errors.js'
import { sql } from '../../src/engine/sql/fragment.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

const CAL = alignmentCalendar()
const yoyOf = (from: string, to: string) => ({ from, to })

describe('alignPeriod', () => {
  it('moves January 2026 back by the days between 春节 2026 and 春节 2025', () => {
    // 春节 2026-02-17 is 17 days after January; 2025's was 2025-01-29: 384 days earlier.
    const a = alignPeriod(
      '2026-01-01',
      '2026-01-31',
      'month',
      yoyOf('2025-01-01', '2025-01-31'),
      CAL,
    )
    expect(a.event?.id).toBe('spring_festival')
    expect(a.event?.date).toBe('2026-02-17')
    expect(a.event?.lastYear).toBe('2025-01-29')
    expect(a.daysBack).toBe(384)
    expect(a.against).toEqual({ from: '2024-12-13', to: '2025-01-12' })
    expect(a.fallback).toBeUndefined()
  })

  it('aligns a day on 双11 a calendar year back, where :yoy keeps the weekday (364 days)', () => {
    const a = alignPeriod('2026-11-11', '2026-11-11', 'day', yoyOf('2025-11-12', '2025-11-12'), CAL)
    expect(a.event?.id).toBe('double_11')
    expect(a.against).toEqual({ from: '2025-11-11', to: '2025-11-11' })
    expect(a.daysBack).toBe(365)
  })

  it('falls back to the calendar :yoy beyond the reach, at the quarter grain, and says so', () => {
    // August 2026: 618 ended 44 days before, 双11's pre-sale starts 50 days after.
    const aug = alignPeriod(
      '2026-08-01',
      '2026-08-31',
      'month',
      yoyOf('2025-08-01', '2025-08-31'),
      CAL,
    )
    expect(aug).toEqual({
      event: null,
      daysBack: 365,
      against: { from: '2025-08-01', to: '2025-08-31' },
      fallback: 'no event within reach',
    })
    const wide = alignPeriod(
      '2026-08-01',
      '2026-08-31',
      'month',
      yoyOf('2025-08-01', '2025-08-31'),
      {
        ...CAL,
        reachDays: 60,
      },
    )
    expect(wide.event?.id).toBe('mid_year_618')
    const q = alignPeriod(
      '2026-01-01',
      '2026-03-31',
      'quarter',
      yoyOf('2025-01-01', '2025-03-31'),
      CAL,
    )
    expect(q.fallback).toBe('grain')
    // December 2025 is 20 days from the end of 双11's window and 48 from 春节 2026: aligned on 双11, a
    // calendar year back.
    const dec = alignPeriod(
      '2025-12-01',
      '2025-12-31',
      'month',
      yoyOf('2024-12-01', '2024-12-31'),
      CAL,
    )
    expect(dec.event?.id).toBe('double_11')
    expect(dec.against).toEqual({ from: '2024-12-01', to: '2024-12-31' })
    // Limited to 春节, February aligns on it; the nearest wins over the list's order.
    const feb = alignPeriod('2026-02-01', '2026-02-28', 'week', yoyOf('2025-02-03', '2025-02-09'), {
      ...CAL,
      events: ['double_11', 'spring_festival'],
    })
    expect(feb.event?.id).toBe('spring_festival')
  })
})

describe(':yoy_event on a simulated base whose demand follows 春节', () => {
  const OPTIONS = {
    members: 15000,
    months: 36,
    end: '2026-10-31',
    seed: 9,
    tables: ['members', 'orders'] as const,
  }
  let root: Awaited<ReturnType<typeof scratch>>
  let plain: Database
  let seasonal: Database

  async function load(dir: string, calendarDemand: boolean): Promise<Database> {
    const sim = await simulate(dir, { ...OPTIONS, calendarDemand })
    const db = await openDatabase(':memory:', { threads: 1 })
    const files = sim.files as Record<string, string>
    for (const t of INGEST_TABLES) {
      const f = files[t]
      if (f !== undefined && (t === 'members' || t === 'orders'))
        await ingestFile(db.driver, f, { table: t, clock: TEST_CLOCK })
    }
    return db
  }

  beforeAll(async () => {
    root = await scratch()
    plain = await load(`${root.dir}/plain`, false)
    seasonal = await load(`${root.dir}/seasonal`, true)
  }, 60_000)
  afterAll(async () => {
    await plain?.close()
    await seasonal?.close()
    await root?.cleanup()
  })

  const read = (db: Database, from: string, to: string): Promise<MetricResult> =>
    runMetrics(db.driver, {
      metrics: ['orders', 'orders:yoy', 'orders:yoy_event'],
      from,
      to,
      grain: 'month',
      timezone: 'Asia/Shanghai',
      alignment: CAL,
    })

  it('the calendar :yoy of January and February swings with 春节; :yoy_event does not', async () => {
    const a = await read(plain, '2026-01', '2026-02')
    const b = await read(seasonal, '2026-01', '2026-02')
    const diff = (key: string, i: number): number =>
      (b.rows[i]?.values[key] ?? NaN) - (a.rows[i]?.values[key] ?? NaN)
    // What 春节's move did to each comparison (the control shares everything else but noise).
    const yoyJan = diff('orders:yoy', 0)
    const yoyFeb = diff('orders:yoy', 1)
    const eventJan = diff('orders:yoy_event', 0)
    const eventFeb = diff('orders:yoy_event', 1)
    // 2025's 春节 fell in January, 2026's in February: the calendar 同比 falls in January and jumps in
    // February (the truth's multipliers give about −5 and +11 points).
    expect(yoyJan).toBeLessThan(-0.03)
    expect(yoyFeb).toBeGreaterThan(0.1)
    expect(yoyFeb - yoyJan).toBeGreaterThan(0.15)
    // Aligned on 春节, the festival's days are compared with its days a year earlier: what remains is the
    // noise of two simulated bases (a few points), well under the calendar 同比's swing.
    expect(Math.abs(eventJan)).toBeLessThan(0.05)
    expect(Math.abs(eventFeb)).toBeLessThan(0.1)
    expect(Math.abs(eventFeb - eventJan)).toBeLessThan(0.3 * (yoyFeb - yoyJan))
    // The rows say what was compared.
    expect(b.rows[1]?.alignments?.['orders:yoy_event']).toMatchObject({
      event: { id: 'spring_festival', date: '2026-02-17', lastYear: '2025-01-29' },
      against: { from: '2025-01-13', to: '2025-02-09' },
    })
  })

  it('the 春节 week: the calendar :yoy collapses, :yoy_event compares it with last year’s festival week', async () => {
    const week = (db: Database) =>
      runMetrics(db.driver, {
        metrics: ['orders:yoy', 'orders:yoy_event'],
        from: '2026-02-16',
        to: '2026-02-16',
        grain: 'week',
        timezone: 'Asia/Shanghai',
        alignment: CAL,
      })
    const a = (await week(plain)).rows[0]
    const b = (await week(seasonal)).rows[0]
    // Relative to the control: (1 + change on the seasonal base) / (1 + change on the plain one) − 1.
    const d = (key: string) => (1 + (b?.values[key] ?? NaN)) / (1 + (a?.values[key] ?? NaN)) - 1
    // The truth's multipliers: 0.7 on the eve, 0.4 the six festival days, 1 a year earlier (×0.44).
    expect(d('orders:yoy')).toBeLessThan(-0.45)
    expect(Math.abs(d('orders:yoy_event'))).toBeLessThan(0.2)
    expect(b?.alignments?.['orders:yoy_event']?.against).toEqual({
      from: '2025-01-28',
      to: '2025-02-03',
    })
  })

  it('reads the moved window exactly: the value compared is the count of orders in it', async () => {
    const r = await read(seasonal, '2026-01', '2026-01')
    const row = await seasonal.driver.first<{ n: number }>(
      // Local (Beijing) days 2024-12-13 … 2025-01-12, cancelled orders left out as the metric does.
      sql`SELECT count(*) AS n FROM orders WHERE status <> 'cancelled'
         AND ordered_at >= TIMESTAMP '2024-12-12 16:00:00' AND ordered_at < TIMESTAMP '2025-01-12 16:00:00'`,
    )
    const now = r.rows[0]?.values['orders'] ?? NaN
    expect(r.rows[0]?.values['orders:yoy_event']).toBeCloseTo(now / Number(row?.n) - 1, 12)
  })

  it('falls back to the calendar :yoy where no event is near, and says so', async () => {
    const r = await read(seasonal, '2026-08', '2026-08')
    const row = r.rows[0]
    expect(row?.values['orders:yoy_event']).toBe(row?.values['orders:yoy'])
    expect(row?.alignments?.['orders:yoy_event']?.fallback).toBe('no event within reach')
  })

  it('refuses :yoy_event without a calendar, and an unknown event id', async () => {
    await expect(
      runMetrics(seasonal.driver, {
        metrics: ['orders:yoy_event'],
        from: '2026-01',
        to: '2026-01',
      }),
    ).rejects.toThrow(InputError)
    await expect(
      runMetrics(seasonal.driver, {
        metrics: ['orders:yoy_event'],
        from: '2026-01',
        to: '2026-01',
        alignment: { ...CAL, events: ['spring_festivl'] },
      }),
    ).rejects.toThrow(/spring_festivl/)
  })
})
