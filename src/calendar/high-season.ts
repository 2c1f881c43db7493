/**
 * The high-season windows of the retail calendar: the days a seasonal effect on the purchase rate is
 * switched on (the CLV covariate models and the simulator's planted season effect share them). For a year
 * they are 年货节 (the four weeks before 春节, when the festival's shopping happens), the 618 window
 * (pre-sale from 5-20 to 6-18) and the 双11 window (pre-sale from 10-20 to 11-11).
 * @module
 */
import { builtInEvents } from './retail-calendar.js'

/** Events whose windows are high season, in calendar order within a year. */
export const HIGH_SEASON_EVENTS = ['new_year_goods', 'mid_year_618', 'double_11'] as const
export type HighSeasonEvent = (typeof HIGH_SEASON_EVENTS)[number]

/** One high-season window: days `first`–`last` inclusive (YYYY-MM-DD). */
export interface HighSeasonWindow {
  readonly event: HighSeasonEvent
  readonly first: string
  readonly last: string
}

/**
 * The high-season windows that touch the days `firstDay`–`lastDay` (inclusive, YYYY-MM-DD), by first day.
 * Windows are whole, not clipped to the range.
 */
export function highSeasonWindows(firstDay: string, lastDay: string): HighSeasonWindow[] {
  const out: HighSeasonWindow[] = []
  const y0 = Number(firstDay.slice(0, 4))
  const y1 = Number(lastDay.slice(0, 4)) + 1 // 年货节 of next year's 春节 can start in December
  for (let y = y0; y <= y1; y++) {
    for (const e of builtInEvents(y)) {
      if (!(HIGH_SEASON_EVENTS as readonly string[]).includes(e.id)) continue
      if (e.end < firstDay || e.start > lastDay) continue
      out.push({ event: e.id as HighSeasonEvent, first: e.start, last: e.end })
    }
  }
  return out.sort((a, b) => a.first.localeCompare(b.first))
}

/** True when day `day` (YYYY-MM-DD) lies in one of `windows`. */
export function inHighSeason(windows: readonly HighSeasonWindow[], day: string): boolean {
  for (const w of windows) if (day >= w.first && day <= w.last) return true
  return false
}
