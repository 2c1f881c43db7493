/**
 * Event-aligned year-on-year comparison (`:yoy_event`): a period is compared with the window that sits in the
 * same position relative to the nearest calendar event a year earlier (春节 ±N days, the 双11 window), instead
 * of the same calendar period. The calendar is handed in by the caller (the retail calendar of `calendar/`),
 * so the engine stays free of it. Pure date arithmetic; the SQL reads the moved window (`run.ts`).
 * @module
 */
import { InputError } from '../../core/errors.js'
import type { Grain } from '../dialects/dialect.js'

/** One dated event as the retail calendar gives it (`calendar/` CalendarEvent). */
export interface AlignmentEvent {
  readonly id: string
  readonly name: { readonly zh: string; readonly en: string }
  /** The day itself, or null for an event that is only a window (its start then stands for it). */
  readonly date: string | null
  readonly start: string
  readonly end: string
}

/** What periods are aligned on. */
export interface EventAlignmentOptions {
  /** The events of a Gregorian year (the retail calendar's `calendarFor`). */
  readonly eventsOf: (year: number) => readonly AlignmentEvent[]
  /** Ids of the events periods are aligned on (default {@link DEFAULT_ALIGNMENT_EVENTS}). */
  readonly events?: readonly string[]
  /** A period further than this many days from every event's window is not aligned (default 31). */
  readonly reachDays?: number
}

/** The events that move demand between years: 春节 (lunar, moves up to a month), 618 and 双11. */
export const DEFAULT_ALIGNMENT_EVENTS: readonly string[] = [
  'spring_festival',
  'mid_year_618',
  'double_11',
]
export const DEFAULT_REACH_DAYS = 31

/** Grains whose periods are aligned; a quarter or a year holds the event either way. */
export const ALIGNED_GRAINS: readonly Grain[] = ['day', 'week', 'month']

/** How one period's `:yoy_event` value was compared. */
export interface EventAlignment {
  /**
   * The event the period was aligned on: its id and name, its day this year and last year. Null when the
   * value is the calendar `:yoy` instead, for the reason in `fallback`.
   */
  readonly event: {
    readonly id: string
    readonly name: { readonly zh: string; readonly en: string }
    readonly date: string
    readonly lastYear: string
  } | null
  /** Days the compared window lies before the period (364 for a day's calendar `:yoy`, 384 for 春节 2026). */
  readonly daysBack: number
  /** The compared window, first and last day. */
  readonly against: { readonly from: string; readonly to: string }
  /** Why the calendar `:yoy` was used: `grain`, `no event within reach` or `event missing last year`. */
  readonly fallback?: 'grain' | 'no event within reach' | 'event missing last year'
}

const DAY_MS = 86_400_000

function dayNumber(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) / DAY_MS
}

function plusDays(day: string, n: number): string {
  return new Date((dayNumber(day) + n) * DAY_MS).toISOString().slice(0, 10)
}

/** Days between two windows (0 when they overlap). */
function gap(aFrom: string, aTo: string, bFrom: string, bTo: string): number {
  if (aTo < bFrom) return dayNumber(bFrom) - dayNumber(aTo)
  if (bTo < aFrom) return dayNumber(aFrom) - dayNumber(bTo)
  return 0
}

/** Checks the options once (event ids against the calendar of `year`), naming the field at fault. */
export function checkAlignmentOptions(o: EventAlignmentOptions, year: number): void {
  const reach = o.reachDays ?? DEFAULT_REACH_DAYS
  if (!Number.isInteger(reach) || reach < 0 || reach > 183)
    throw InputError.single({
      field: 'reach',
      value: String(reach),
      reason: 'must be a whole number of days from 0 to 183',
    })
  const ids = o.events ?? DEFAULT_ALIGNMENT_EVENTS
  if (ids.length === 0)
    throw InputError.single({ field: 'events', reason: 'name at least one event to align on' })
  const known = [...new Set(o.eventsOf(year).map((e) => e.id))]
  for (const id of ids)
    if (!known.includes(id))
      throw InputError.single({
        field: 'events',
        value: id,
        reason: `not an event of the calendar in ${year}`,
        allowed: known,
      })
}

/**
 * The window a period is compared with. The event is the one (of `options.events`) whose window is nearest the
 * period, within `reachDays` (ties: the first listed); the period moves back by the days between that event's
 * day this year and its day a year earlier. Otherwise, and at the quarter and year grains, it is the calendar
 * `:yoy` period (`calendarBack` periods back, given as its first and last day).
 */
export function alignPeriod(
  period: string,
  periodEnd: string,
  grain: Grain,
  calendarYoy: { readonly from: string; readonly to: string },
  options: EventAlignmentOptions,
): EventAlignment {
  const fallback = (why: NonNullable<EventAlignment['fallback']>): EventAlignment => ({
    event: null,
    daysBack: dayNumber(period) - dayNumber(calendarYoy.from),
    against: calendarYoy,
    fallback: why,
  })
  if (!ALIGNED_GRAINS.includes(grain)) return fallback('grain')
  const ids = options.events ?? DEFAULT_ALIGNMENT_EVENTS
  const reach = options.reachDays ?? DEFAULT_REACH_DAYS
  const year = Number(period.slice(0, 4))
  let best: { e: AlignmentEvent; distance: number; rank: number } | undefined
  for (let y = year - 1; y <= year + 1; y++) {
    for (const e of options.eventsOf(y)) {
      const rank = ids.indexOf(e.id)
      if (rank < 0) continue
      const distance = gap(period, periodEnd, e.start, e.end)
      if (distance > reach) continue
      if (
        best === undefined ||
        distance < best.distance ||
        (distance === best.distance && rank < best.rank)
      )
        best = { e, distance, rank }
    }
  }
  if (best === undefined) return fallback('no event within reach')
  const day = best.e.date ?? best.e.start
  const lastYear = options.eventsOf(Number(day.slice(0, 4)) - 1).find((x) => x.id === best.e.id)
  if (lastYear === undefined) return fallback('event missing last year')
  const lastDay = lastYear.date ?? lastYear.start
  const back = dayNumber(day) - dayNumber(lastDay)
  return {
    event: { id: best.e.id, name: best.e.name, date: day, lastYear: lastDay },
    daysBack: back,
    against: { from: plusDays(period, -back), to: plusDays(periodEnd, -back) },
  }
}
