/**
 * The retail calendar a Chinese member-operations team reads its numbers against: the lunar festivals (春节,
 * 元宵, 端午, 七夕, 中秋) and the solar term 清明, whose dates are computed by the `lunar-typescript` library;
 * the fixed-date shopping festivals (38节, 520, 618, 双11, 双12) with their pre-sale windows; 年货节, the
 * weeks before 春节; and the brand's own events read from a file (`brand-events.ts`). Pure computation: a
 * year in, dated events out.
 * @module
 */
import { Lunar, Solar } from 'lunar-typescript'
import { InputError } from '../core/errors.js'

/** How an event's date is found. */
export type EventKind = 'lunar' | 'solar-term' | 'fixed' | 'brand'

export const EVENT_KINDS: readonly EventKind[] = ['lunar', 'solar-term', 'fixed', 'brand']

/** One dated event of the calendar. Days are `YYYY-MM-DD`; `start` ≤ `date` ≤ `end`. */
export interface CalendarEvent {
  /** Stable identifier (`spring_festival`, `double_11`, or the brand's own). */
  readonly id: string
  readonly name: { readonly zh: string; readonly en: string }
  readonly kind: EventKind
  /** The day itself, or null for an event that is only a window (年货节, a campaign). */
  readonly date: string | null
  /** First and last day of the event's window, pre-sale included (equal to `date` for a one-day event). */
  readonly start: string
  readonly end: string
}

/** The years the lunar library covers. */
export const FIRST_YEAR = 1901
export const LAST_YEAR = 2099

/** Days of 年货节 before 春节: the four weeks up to its eve. */
const NEW_YEAR_GOODS_DAYS = 28

const pad = (n: number): string => String(n).padStart(2, '0')
const ymd = (y: number, m: number, d: number): string => `${y}-${pad(m)}-${pad(d)}`

/** `day` moved by `n` days (UTC calendar arithmetic). */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + n)
  return d.toISOString().slice(0, 10)
}

function checkYear(year: number): void {
  if (!Number.isInteger(year) || year < FIRST_YEAR || year > LAST_YEAR)
    throw InputError.single({
      field: 'year',
      value: String(year),
      reason: `must be a whole year from ${FIRST_YEAR} to ${LAST_YEAR}`,
    })
}

/** The Gregorian day of a lunar month and day in the lunar year that begins in Gregorian `year`. */
function lunarDay(year: number, month: number, day: number): string {
  return Lunar.fromYmd(year, month, day).getSolar().toYmd()
}

/** The day of a solar term (节气) by its Chinese name, in Gregorian `year`; `probe` is a day near it. */
function solarTerm(year: number, name: string, probe: [number, number]): string {
  const table = Solar.fromYmd(year, probe[0], probe[1]).getLunar().getJieQiTable()
  const found = Object.entries(table).find(([key, s]) => key === name && s.getYear() === year)?.[1]
  if (found === undefined) throw new Error(`the lunar library gives no ${name} in ${year}`)
  return found.toYmd()
}

/** Chinese New Year's day (春节, the first day of the first lunar month) in Gregorian `year`. */
export function springFestival(year: number): string {
  checkYear(year)
  return lunarDay(year, 1, 1)
}

const one = (id: string, zh: string, en: string, kind: EventKind, date: string): CalendarEvent => ({
  id,
  name: { zh, en },
  kind,
  date,
  start: date,
  end: date,
})

/** The built-in events of Gregorian `year`, by start day. */
export function builtInEvents(year: number): CalendarEvent[] {
  checkYear(year)
  const cny = lunarDay(year, 1, 1)
  const events: CalendarEvent[] = [
    {
      id: 'new_year_goods',
      name: { zh: '年货节', en: 'New Year goods festival' },
      kind: 'lunar',
      date: null,
      start: addDays(cny, -NEW_YEAR_GOODS_DAYS),
      end: addDays(cny, -1),
    },
    one('spring_festival', '春节', 'Chinese New Year', 'lunar', cny),
    one('lantern_festival', '元宵节', 'Lantern Festival', 'lunar', lunarDay(year, 1, 15)),
    one('womens_day', '38节', "Women's Day (3.8)", 'fixed', ymd(year, 3, 8)),
    one('qingming', '清明', 'Qingming', 'solar-term', solarTerm(year, '清明', [4, 15])),
    one('day_520', '520 网络情人节', '520 (May 20)', 'fixed', ymd(year, 5, 20)),
    one('dragon_boat', '端午节', 'Dragon Boat Festival', 'lunar', lunarDay(year, 5, 5)),
    {
      id: 'mid_year_618',
      name: { zh: '618 年中大促', en: '618 mid-year sale' },
      kind: 'fixed',
      date: ymd(year, 6, 18),
      start: ymd(year, 5, 20),
      end: ymd(year, 6, 18),
    },
    one('qixi', '七夕', 'Qixi (Chinese Valentine’s Day)', 'lunar', lunarDay(year, 7, 7)),
    one('mid_autumn', '中秋节', 'Mid-Autumn Festival', 'lunar', lunarDay(year, 8, 15)),
    {
      id: 'double_11',
      name: { zh: '双11', en: 'Double 11 (Singles’ Day)' },
      kind: 'fixed',
      date: ymd(year, 11, 11),
      start: ymd(year, 10, 20),
      end: ymd(year, 11, 11),
    },
    one('double_12', '双12', 'Double 12', 'fixed', ymd(year, 12, 12)),
  ]
  return sortEvents(events)
}

/** Events by start day, then by id. */
export function sortEvents(events: readonly CalendarEvent[]): CalendarEvent[] {
  return [...events].sort((a, b) =>
    a.start === b.start ? a.id.localeCompare(b.id) : a.start.localeCompare(b.start),
  )
}

/** True when the event's window touches Gregorian `year`. */
export function inYear(event: CalendarEvent, year: number): boolean {
  return event.start <= `${year}-12-31` && event.end >= `${year}-01-01`
}
