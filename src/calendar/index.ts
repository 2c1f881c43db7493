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
