import { describe, expect, it } from 'vitest'
import {
  builtInEvents,
  calendarFor,
  parseBrandEvents,
  springFestival,
  type CalendarEvent,
} from '../../src/calendar/index.js'
import { InputError } from '../../src/core/errors.js'

/** Chinese New Year's day 2000–2040, as published in tables of the Chinese calendar (facts, typed in). */
const PUBLISHED_SPRING_FESTIVAL: Readonly<Record<number, string>> = {
  2000: '2000-02-05',
  2001: '2001-01-24',
  2002: '2002-02-12',
  2003: '2003-02-01',
  2004: '2004-01-22',
  2005: '2005-02-09',
  2006: '2006-01-29',
  2007: '2007-02-18',
  2008: '2008-02-07',
  2009: '2009-01-26',
  2010: '2010-02-14',
  2011: '2011-02-03',
  2012: '2012-01-23',
  2013: '2013-02-10',
  2014: '2014-01-31',
  2015: '2015-02-19',
  2016: '2016-02-08',
  2017: '2017-01-28',
  2018: '2018-02-16',
  2019: '2019-02-05',
  2020: '2020-01-25',
  2021: '2021-02-12',
  2022: '2022-02-01',
  2023: '2023-01-22',
  2024: '2024-02-10',
  2025: '2025-01-29',
  2026: '2026-02-17',
  2027: '2027-02-06',
  2028: '2028-01-26',
  2029: '2029-02-13',
  2030: '2030-02-03',
  2031: '2031-01-23',
  2032: '2032-02-11',
  2033: '2033-01-31',
  2034: '2034-02-19',
  2035: '2035-02-08',
  2036: '2036-01-28',
  2037: '2037-02-15',
  2038: '2038-02-04',
  2039: '2039-01-24',
  2040: '2040-02-12',
}

const byId = (events: readonly CalendarEvent[], id: string): CalendarEvent => {
  const e = events.find((x) => x.id === id)
  if (!e) throw new Error(`no event ${id}`)
  return e
}

describe('retail calendar', () => {
  it('gives the published 春节 date for every year 2000–2040', () => {
    for (let y = 2000; y <= 2040; y++) {
      expect(springFestival(y), String(y)).toBe(PUBLISHED_SPRING_FESTIVAL[y])
      expect(byId(builtInEvents(y), 'spring_festival').date, String(y)).toBe(
        PUBLISHED_SPRING_FESTIVAL[y],
      )
    }
  })

  it.each([
    // year, 元宵, 清明, 端午, 七夕, 中秋 (published holiday dates)
    [2024, '2024-02-24', '2024-04-04', '2024-06-10', '2024-08-10', '2024-09-17'],
    [2025, '2025-02-12', '2025-04-04', '2025-05-31', '2025-08-29', '2025-10-06'],
    [2026, '2026-03-03', '2026-04-05', '2026-06-19', '2026-08-19', '2026-09-25'],
  ])(
    'dates the lunar festivals and 清明 of %i',
    (year, lantern, qingming, dragon, qixi, autumn) => {
      const events = builtInEvents(year)
      expect(byId(events, 'lantern_festival').date).toBe(lantern)
      expect(byId(events, 'qingming')).toMatchObject({ kind: 'solar-term', date: qingming })
      expect(byId(events, 'dragon_boat').date).toBe(dragon)
      expect(byId(events, 'qixi').date).toBe(qixi)
      expect(byId(events, 'mid_autumn')).toMatchObject({ kind: 'lunar', date: autumn })
    },
  )

  it('gives the shopping festivals their days and pre-sale windows', () => {
    const events = builtInEvents(2026)
    expect(byId(events, 'womens_day')).toMatchObject({ date: '2026-03-08', start: '2026-03-08' })
    expect(byId(events, 'day_520').date).toBe('2026-05-20')
    expect(byId(events, 'mid_year_618')).toMatchObject({
      kind: 'fixed',
      date: '2026-06-18',
      start: '2026-05-20',
      end: '2026-06-18',
    })
    expect(byId(events, 'double_11')).toMatchObject({
      date: '2026-11-11',
      start: '2026-10-20',
      end: '2026-11-11',
    })
    expect(byId(events, 'double_12').date).toBe('2026-12-12')
    // 年货节: the four weeks up to the eve of 春节 (2026-02-17).
    expect(byId(events, 'new_year_goods')).toMatchObject({
      date: null,
      start: '2026-01-20',
      end: '2026-02-16',
    })
    expect(byId(builtInEvents(2025), 'new_year_goods')).toMatchObject({
      start: '2025-01-01',
      end: '2025-01-28',
    })
  })

  it('lists events by start day, each with a window that holds its day', () => {
    const events = builtInEvents(2027)
    expect(events.map((e) => e.start)).toEqual([...events.map((e) => e.start)].sort())
    for (const e of events) {
      expect(e.start <= e.end).toBe(true)
      if (e.date !== null) expect(e.start <= e.date && e.date <= e.end).toBe(true)
      expect(e.name.zh.length > 0 && e.name.en.length > 0).toBe(true)
    }
  })

  it('dates every event of every year the library covers, each where the calendar puts it', () => {
    const days = (a: string, b: string) =>
      (new Date(`${b}T00:00:00Z`).getTime() - new Date(`${a}T00:00:00Z`).getTime()) / 86_400_000
    /** Days from lunar 1/1 to day `d` of lunar month `m`: m − 1 months of 29 or 30 days, one more if a leap month falls between. */
    const spans = (m: number, d: number) => [
      [29 * (m - 1) + d - 1, 30 * (m - 1) + d - 1],
      [29 * m + d - 1, 30 * m + d - 1],
    ]
    const within = (n: number, ranges: number[][]) =>
      ranges.some(([lo, hi]) => n >= lo! && n <= hi!)
    for (let y = 1901; y <= 2099; y++) {
      const events = builtInEvents(y)
      const date = (id: string) => byId(events, id).date as string
      const cny = date('spring_festival')
      expect(events, String(y)).toHaveLength(12)
      // 春节 falls between 21 January and 20 February.
      expect(cny >= `${y}-01-21` && cny <= `${y}-02-20`, `${y} ${cny}`).toBe(true)
      expect(days(cny, date('lantern_festival')), String(y)).toBe(14)
      expect(within(days(cny, date('dragon_boat')), spans(5, 5)), String(y)).toBe(true)
      expect(within(days(cny, date('qixi')), spans(7, 7)), String(y)).toBe(true)
      expect(within(days(cny, date('mid_autumn')), spans(8, 15)), String(y)).toBe(true)
      // 清明: the sun at 15° ecliptic longitude, 4–6 April in these two centuries.
      expect(date('qingming') >= `${y}-04-04` && date('qingming') <= `${y}-04-06`, String(y)).toBe(
        true,
      )
    }
  })

  it('refuses a year the lunar library does not cover', () => {
    expect(() => builtInEvents(1850)).toThrow(/year "1850": must be a whole year from 1901/)
    expect(() => springFestival(2026.5)).toThrow(InputError)
  })
})

const BRAND = `events:
  - id: member_day
    name: { zh: 会员日, en: Member day }
    monthly: 8
  - id: anniversary
    name: { zh: 品牌周年庆, en: Brand anniversary }
    annual: 09-18
  - id: spring_refresh
    name: { zh: 春季焕新, en: Spring refresh }
    start: 2026-03-01
    end: 2026-03-10
  - id: flash_sale
    name: { zh: 闪购, en: Flash sale }
    date: 2025-07-01
`

describe('brand events', () => {
  it('dates monthly, annual, windowed and one-day events within the year', () => {
    const events = calendarFor(2026, parseBrandEvents(BRAND, 'events.yaml'))
    const brand = events.filter((e) => e.kind === 'brand')
    expect(brand.filter((e) => e.name.en === 'Member day').map((e) => e.date)).toHaveLength(12)
    expect(byId(brand, 'member_day:2026-03').date).toBe('2026-03-08')
    expect(byId(brand, 'anniversary').date).toBe('2026-09-18')
    expect(byId(brand, 'spring_refresh')).toMatchObject({
      date: null,
      start: '2026-03-01',
      end: '2026-03-10',
    })
    // A one-day event of another year is not in 2026's calendar.
    expect(brand.some((e) => e.id === 'flash_sale')).toBe(false)
    expect(byId(calendarFor(2025, parseBrandEvents(BRAND, 'events.yaml')), 'flash_sale').date).toBe(
      '2025-07-01',
    )
  })

  const problem = (text: string): InputError => {
    try {
      parseBrandEvents(text, 'brand.yaml')
    } catch (e) {
      if (e instanceof InputError) return e
      throw e
    }
    throw new Error('no error')
  }

  it('names the file, line, field and reason of a bad event', () => {
    const e = problem(`events:
  - id: member_day
    name: { zh: 会员日, en: Member day }
    monthly: 8
  - id: launch
    name: { zh: 新品, en: Launch }
    date: 2026-02-30
`)
    expect(e.message).toBe(
      'brand.yaml:7: events.1.date: must be a day written YYYY-MM-DD (e.g. 2026-03-15)',
    )
    expect(e.issues[0]).toMatchObject({ file: 'brand.yaml', line: 7, field: 'events.1.date' })
  })

  it('refuses an event with no date, two dates, a reversed window, a repeated or built-in id', () => {
    expect(
      problem(`events:
  - id: x
    name: { zh: 甲, en: X }
`).message,
    ).toMatch(/^brand\.yaml:2: events\.0: needs exactly one of: date, start and end/)
    expect(
      problem(`events:
  - id: x
    name: { zh: 甲, en: X }
    date: 2026-01-01
    monthly: 3
`).message,
    ).toMatch(/events\.0: needs exactly one of/)
    expect(
      problem(`events:
  - id: x
    name: { zh: 甲, en: X }
    start: 2026-05-01
    end: 2026-04-01
`).message,
    ).toBe('brand.yaml:5: events.0.end: is before start 2026-05-01')
    expect(
      problem(`events:
  - id: x
    name: { zh: 甲, en: X }
    date: 2026-01-01
  - id: x
    name: { zh: 乙, en: Y }
    date: 2026-01-02
`).message,
    ).toBe('brand.yaml:5: events.1.id: repeats the id of event 1')
    expect(
      problem(`events:
  - id: double_11
    name: { zh: 甲, en: X }
    date: 2026-01-01
`).message,
    ).toMatch(/^brand\.yaml:2: events\.0\.id: is the id of a built-in event/)
  })

  it('names an unknown key and a YAML syntax error by line', () => {
    expect(
      problem(`events:
  - id: x
    name: { zh: 甲, en: X }
    day: 2026-01-01
`).message,
    ).toMatch(/^brand\.yaml:2: events\.0: .*day/)
    expect(problem(`events: [\n  - id: x\n`).message).toMatch(/^brand\.yaml:\d+: not valid YAML/)
  })
})
