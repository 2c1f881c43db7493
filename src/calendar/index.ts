/**
 * The retail calendar: built-in events computed for a year and the brand's own events from a file.
 * @module
 */
import type { BrandEvent } from './brand-events.js'
import { brandEventsFor } from './brand-events.js'
import { builtInEvents, sortEvents, type CalendarEvent } from './retail-calendar.js'

export {
  brandEventsFor,
  brandEventsSchema,
  parseBrandEvents,
  type BrandEvent,
} from './brand-events.js'
export {
  EVENT_KINDS,
  FIRST_YEAR,
  LAST_YEAR,
  addDays,
  builtInEvents,
  springFestival,
  type CalendarEvent,
  type EventKind,
} from './retail-calendar.js'

/** Every event of Gregorian `year`: the built-in ones and the brand's, by start day. */
export function calendarFor(year: number, brand: readonly BrandEvent[] = []): CalendarEvent[] {
  return sortEvents([...builtInEvents(year), ...brandEventsFor(brand, year)])
}

/**
 * The calendar as the metric engine's `:yoy_event` reads it: the events of any year (built-in and the brand's),
 * the ids periods are aligned on and how far an event reaches (engine defaults when absent).
 */
export function alignmentCalendar(
  brand: readonly BrandEvent[] = [],
  options: { readonly events?: readonly string[]; readonly reachDays?: number } = {},
): {
  readonly eventsOf: (year: number) => CalendarEvent[]
  readonly events?: readonly string[]
  readonly reachDays?: number
} {
  return { eventsOf: (year) => calendarFor(year, brand), ...options }
}
export {
  HIGH_SEASON_EVENTS,
  highSeasonWindows,
  inHighSeason,
  type HighSeasonEvent,
  type HighSeasonWindow,
} from './high-season.js'
