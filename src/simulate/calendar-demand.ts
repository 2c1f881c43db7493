/**
 * Demand that follows the retail calendar (an option of the simulator, off by default): purchases dip around
 * 春节 after a pre-festival 年货 lift, and rise in the pre-sale windows of 618 and 双11 with a lull after each
 * (demand pulled forward). The event dates come from the retail calendar (`calendar/`), which computes them —
 * 春节 moves by up to a month between years, so the dip moves with it.
 * @module
 */
import { addDays, builtInEvents, type CalendarEvent } from '../calendar/index.js'

/** Where a rule's window starts or ends: a number of days from the event's day or from its window's start. */
export interface DemandAnchor {
  readonly from: 'date' | 'start'
  readonly days: number
}

/** A purchase multiplier over a window placed relative to a calendar event. */
export interface CalendarDemandRule {
  readonly event: 'spring_festival' | 'mid_year_618' | 'double_11'
  readonly label: string
  readonly first: DemandAnchor
  readonly last: DemandAnchor
  readonly multiplier: number
}

/**
 * The rules. Windows of one event do not overlap; windows of different events never meet (春节 is in Jan–Feb,
 * 618 in May–June, 双11 in Oct–Nov). They multiply the month-and-day seasonality of `model-parameters.ts`.
 */
export const CALENDAR_DEMAND_RULES: readonly CalendarDemandRule[] = [
  {
    event: 'spring_festival',
    label: '年货 lift (New Year goods)',
    first: { from: 'date', days: -24 },
    last: { from: 'date', days: -4 },
    multiplier: 1.35,
  },
  {
    event: 'spring_festival',
    label: 'festival eve: deliveries stop',
    first: { from: 'date', days: -3 },
    last: { from: 'date', days: -1 },
    multiplier: 0.7,
  },
  {
    event: 'spring_festival',
    label: '春节 holiday dip',
    first: { from: 'date', days: 0 },
    last: { from: 'date', days: 6 },
    multiplier: 0.4,
  },
  {
    event: 'spring_festival',
    label: 'after the holiday: recovery',
    first: { from: 'date', days: 7 },
    last: { from: 'date', days: 14 },
    multiplier: 0.75,
  },
  {
    event: 'mid_year_618',
    label: '618 pre-sale (demand pulled forward)',
    first: { from: 'start', days: 0 },
    last: { from: 'date', days: -3 },
    multiplier: 1.15,
  },
  {
    event: 'mid_year_618',
    label: 'after 618: lull',
    first: { from: 'date', days: 1 },
    last: { from: 'date', days: 10 },
    multiplier: 0.8,
  },
  {
    event: 'double_11',
    label: '双11 pre-sale (demand pulled forward)',
    first: { from: 'start', days: 0 },
    last: { from: 'date', days: -3 },
    multiplier: 1.2,
  },
  {
    event: 'double_11',
    label: 'after 双11: lull',
    first: { from: 'date', days: 1 },
    last: { from: 'date', days: 10 },
    multiplier: 0.8,
  },
]

/** One rule placed in one year: local days `from`–`to` (inclusive, Beijing time). */
export interface DemandWindow {
  readonly event: string
  readonly label: string
  /** The event's day that year. */
  readonly eventDate: string
  readonly from: string
  readonly to: string
  readonly multiplier: number
}

function place(event: CalendarEvent, a: DemandAnchor): string {
  const base = a.from === 'date' ? (event.date ?? event.start) : event.start
  return addDays(base, a.days)
}

/** The rules placed in every year whose windows can touch the local days `firstDay`–`lastDay`. */
export function demandWindows(firstDay: string, lastDay: string): DemandWindow[] {
  const out: DemandWindow[] = []
  const y0 = Number(firstDay.slice(0, 4)) - 1
  const y1 = Number(lastDay.slice(0, 4)) + 1
  for (let y = y0; y <= y1; y++) {
    const events = builtInEvents(y)
    for (const rule of CALENDAR_DEMAND_RULES) {
      const e = events.find((x) => x.id === rule.event)
      if (e === undefined) throw new Error(`the retail calendar has no ${rule.event} in ${y}`)
      const from = place(e, rule.first)
      const to = place(e, rule.last)
      if (to < firstDay || from > lastDay) continue
      out.push({
        event: rule.event,
        label: rule.label,
        eventDate: e.date ?? e.start,
        from,
        to,
        multiplier: rule.multiplier,
      })
    }
  }
  return out.sort((a, b) => a.from.localeCompare(b.from))
}

/** The product of the multipliers of the windows that hold local day `day` (YYYY-MM-DD), or 1. */
export function demandMultiplier(windows: readonly DemandWindow[], day: string): number {
  let m = 1
  for (const w of windows) if (day >= w.from && day <= w.to) m *= w.multiplier
  return m
}
