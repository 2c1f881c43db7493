import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { springFestival } from '../calendar/index.js'
import { LOCAL_OFFSET } from './calendar.js'
import { demandMultiplier, demandWindows } from './calendar-demand.js'
import { simulate, type SimulateResult } from './simulate.js'
import { readCsv, seconds } from './simulate.test-util.js'

const OPTIONS = {
  members: 4000,
  months: 24,
  end: '2026-10-31',
  seed: 5,
  tables: ['members', 'orders'] as const,
}

let root: string
let plain: SimulateResult
let seasonal: SimulateResult

/** Orders per local (Beijing) day. */
function ordersByDay(run: SimulateResult): Map<string, number> {
  const csv = readCsv(run.files['orders'] ?? '')
  const at = csv.col('ordered_at')
  const out = new Map<string, number>()
  for (const r of csv.rows) {
    const day = new Date((seconds(r[at] ?? '') + LOCAL_OFFSET) * 1000).toISOString().slice(0, 10)
    out.set(day, (out.get(day) ?? 0) + 1)
  }
  return out
}

function total(byDay: ReadonlyMap<string, number>, from: string, to: string): number {
  let n = 0
  for (const [d, k] of byDay) if (d >= from && d <= to) n += k
  return n
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'memberlens-sim-cal-'))
  plain = await simulate(join(root, 'plain'), OPTIONS)
  seasonal = await simulate(join(root, 'seasonal'), { ...OPTIONS, calendarDemand: true })
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('simulate: demand that follows the retail calendar', () => {
  it('places the windows on the computed 春节 of each year, and records them in the truth', () => {
    const windows = demandWindows('2024-11-01', '2026-10-31')
    const dips = windows.filter((w) => w.label === '春节 holiday dip')
    expect(dips.map((w) => w.from)).toEqual(['2025-01-29', '2026-02-17'])
    expect(dips.map((w) => w.eventDate)).toEqual([springFestival(2025), springFestival(2026)])
    expect(demandMultiplier(windows, '2026-02-18')).toBe(0.4)
    expect(demandMultiplier(windows, '2025-02-08')).toBe(0.75)
    expect(demandMultiplier(windows, '2026-04-01')).toBe(1)
    expect(seasonal.truth.options.calendarDemand).toBe(true)
    expect(seasonal.truth.calendarDemand?.windows).toEqual(windows)
    expect(plain.truth.options.calendarDemand).toBeUndefined()
    expect(plain.truth.calendarDemand).toBeUndefined()
  })

  it('dips in the 春节 week, lifts before it and rises in the 618 and 双11 pre-sales', () => {
    const a = ordersByDay(plain)
    const b = ordersByDay(seasonal)
    const ratio = (from: string, to: string) => total(b, from, to) / total(a, from, to)
    // The holiday week of each year: the dip follows 春节 from late January 2025 to mid-February 2026.
    expect(ratio('2025-01-29', '2025-02-04')).toBeLessThan(0.6)
    expect(ratio('2026-02-17', '2026-02-23')).toBeLessThan(0.6)
    // The same days a year apart are ordinary when 春节 is elsewhere.
    expect(ratio('2026-01-29', '2026-02-04')).toBeGreaterThan(1.15)
    expect(ratio('2025-02-17', '2025-02-23')).toBeGreaterThan(0.85)
    // 年货 lift in the three weeks before.
    expect(ratio('2026-01-24', '2026-02-13')).toBeGreaterThan(1.15)
    // Pre-sales pull demand forward; the days after are quieter.
    expect(ratio('2025-10-20', '2025-11-08')).toBeGreaterThan(1.08)
    expect(ratio('2026-05-20', '2026-06-15')).toBeGreaterThan(1.05)
    expect(ratio('2025-11-12', '2025-11-21')).toBeLessThan(0.92)
    // A stretch no event touches is unchanged but for noise.
    const quiet = ratio('2026-03-20', '2026-05-10')
    expect(quiet).toBeGreaterThan(0.9)
    expect(quiet).toBeLessThan(1.1)
  })
})
