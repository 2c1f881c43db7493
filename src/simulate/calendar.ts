/**
 * The simulated window and its hourly intensities (registrations, purchases, sessions), built from the
 * seasonality rules in {@link MODEL_PARAMETERS}. Seasonality follows the shopper's local calendar
 * (Beijing time, UTC+8); all stored times are UTC.
 * @module
 */
import { demandMultiplier, demandWindows, type DemandWindow } from './calendar-demand.js'
import { highSeasonWindows, inHighSeason, type HighSeasonWindow } from '../calendar/index.js'
import { IntensityTable } from './intensity-table.js'
import { MODEL_PARAMETERS, type SeasonRule } from './model-parameters.js'

export const HOUR = 3600
export const DAY = 86_400
export const WEEK = 7 * DAY
/** Beijing time is UTC+8 all year (no daylight saving). */
export const LOCAL_OFFSET = 8 * HOUR

/** Relative activity by local hour 0–23 (normalised to mean 1 when used). */
const PURCHASE_BY_HOUR = [
  0.3, 0.15, 0.08, 0.05, 0.05, 0.1, 0.3, 0.6, 0.9, 1.1, 1.3, 1.4, 1.3, 1.1, 1, 1, 1.1, 1.3, 1.5,
  1.7, 1.8, 1.6, 1.1, 0.6,
]
const SESSION_BY_HOUR = [
  0.5, 0.25, 0.1, 0.06, 0.05, 0.1, 0.35, 0.8, 1, 1, 1.1, 1.3, 1.5, 1.2, 1, 1, 1, 1.1, 1.3, 1.6, 1.9,
  2, 1.6, 1,
]
/** Sessions follow the purchase season, damped: 1 + SESSION_SEASON_DAMPING · (multiplier − 1). */
const SESSION_SEASON_DAMPING = 0.3

export interface SimCalendar {
  /** First simulated instant (UTC seconds, inclusive). */
  readonly startSec: number
  /** End of the last simulated day (UTC seconds, exclusive). */
  readonly endSec: number
  readonly startDate: string
  readonly endDate: string
  /** Registration intensity (relative weights, for sampling registration times). */
  readonly registration: IntensityTable
  /** Purchase exposure: weeks at seasonal multiplier 1; a rate λ per week gives λ·Λ expected purchases. */
  readonly purchase: IntensityTable
  /** Session exposure in weeks (damped seasonality, evening-heavy day profile). */
  readonly session: IntensityTable
  /** Purchase seasonality multiplier of the local day containing `sec`. */
  purchaseMultiplier(sec: number): number
  /** Local hour (0–23) of a UTC instant. */
  localHour(sec: number): number
  /** The retail-calendar demand windows in force (empty unless calendar demand is on). */
  readonly demandWindows: readonly DemandWindow[]
  /** The high-season windows of the planted season effect (empty unless it is planted). */
  readonly highSeason: readonly HighSeasonWindow[]
}

/** Parses 'YYYY-MM-DD' as a UTC midnight (seconds); returns NaN if it is not a real date. */
export function parseDate(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)
  if (!m) return NaN
  const y = Number(m[1])
  const mo = Number(m[2])
  const d = Number(m[3])
  const ms = Date.UTC(y, mo - 1, d)
  const back = new Date(ms)
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    return NaN
  return ms / 1000
}

/** 'YYYY-MM-DD' of a UTC instant. */
export function isoDate(sec: number): string {
  return new Date(sec * 1000).toISOString().slice(0, 10)
}

/**
 * Adds calendar months to a UTC instant, keeping the time of day and clamping the day to the target
 * month's length (Jan 31 + 1 month = Feb 28/29), as billing systems do.
 */
export function addMonths(sec: number, months: number): number {
  const d = new Date(sec * 1000)
  const y = d.getUTCFullYear()
  const m = d.getUTCMonth() + months
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate()
  const day = Math.min(d.getUTCDate(), lastDay)
  const timeOfDay = sec - Math.floor(sec / DAY) * DAY
  return Date.UTC(y, m, day) / 1000 + timeOfDay
}

function mmdd(month: number, day: number): string {
  return `${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`
}

/** Multiplier of the last rule covering the local day `md` ('MM-DD'), or 1. */
function seasonMultiplier(rules: readonly SeasonRule[], md: string): number {
  let m = 1
  for (const r of rules) {
    if (md >= r.from && md <= r.to) m = r.multiplier
  }
  return m
}

function normalised(profile: readonly number[]): Float64Array {
  const mean = profile.reduce((s, v) => s + v, 0) / profile.length
  return Float64Array.from(profile, (v) => v / mean)
}

/**
 * Builds the window that ends with `endDate` (inclusive) and spans `months` calendar months:
 * for end 2026-10-31 and 24 months it is [2024-11-01T00:00Z, 2026-11-01T00:00Z). With `calendarDemand`,
 * purchases also follow the retail calendar's 春节, 618 and 双11 (`calendar-demand.ts`).
 */
export function buildCalendar(
  endDate: string,
  months: number,
  calendarDemand = false,
  plantedSeasonGamma?: number,
): SimCalendar {
  const endSec = parseDate(endDate) + DAY
  const startSec = addMonths(endSec, -months)
  const windows = calendarDemand
    ? demandWindows(isoDate(startSec + LOCAL_OFFSET), isoDate(endSec + LOCAL_OFFSET))
    : []
  const planted = plantedSeasonGamma !== undefined
  const highSeason = planted
    ? highSeasonWindows(isoDate(startSec + LOCAL_OFFSET), isoDate(endSec + LOCAL_OFFSET))
    : []
  const seasonFactor = planted ? Math.exp(plantedSeasonGamma) : 1
  const hours = Math.round((endSec - startSec) / HOUR)
  const purchaseHour = normalised(PURCHASE_BY_HOUR)
  const sessionHour = normalised(SESSION_BY_HOUR)
  const reg = MODEL_PARAMETERS.registration
  const pur = MODEL_PARAMETERS.purchase

  const regW = new Float64Array(hours)
  const purW = new Float64Array(hours)
  const sesW = new Float64Array(hours)
  const dayCache = new Map<number, readonly [number, number]>()
  const dayFactors = (localDay: number): readonly [number, number] => {
    let f = dayCache.get(localDay)
    if (f === undefined) {
      const d = new Date(localDay * DAY * 1000)
      const md = mmdd(d.getUTCMonth() + 1, d.getUTCDate())
      const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6
      const event = windows.length === 0 ? 1 : demandMultiplier(windows, isoDate(localDay * DAY))
      // The planted season effect replaces the seasonality by a flat rate, e^γ inside the windows.
      const p = planted
        ? inHighSeason(highSeason, isoDate(localDay * DAY))
          ? seasonFactor
          : 1
        : seasonMultiplier(pur.seasonality, md) * (weekend ? pur.weekendMultiplier : 1) * event
      const r = seasonMultiplier(reg.seasonality, md) * (weekend ? reg.weekendMultiplier : 1)
      f = [p, r]
      dayCache.set(localDay, f)
    }
    return f
  }
  for (let h = 0; h < hours; h++) {
    const local = startSec + h * HOUR + LOCAL_OFFSET
    const localDay = Math.floor(local / DAY)
    const lh = Math.floor((local - localDay * DAY) / HOUR)
    const [p, r] = dayFactors(localDay)
    const trend = 1 + (reg.growth * h) / hours
    const ph = purchaseHour[lh] ?? 1
    // Exposure is measured in weeks: one hour at multiplier 1 is 1/168 week.
    purW[h] = (p * ph) / 168
    regW[h] = r * trend * ph
    sesW[h] = ((1 + SESSION_SEASON_DAMPING * (p - 1)) * (sessionHour[lh] ?? 1)) / 168
  }
  const purchase = new IntensityTable(startSec, purW, 1 / 168)
  return {
    startSec,
    endSec,
    startDate: isoDate(startSec),
    endDate,
    registration: new IntensityTable(startSec, regW, 1),
    purchase,
    session: new IntensityTable(startSec, sesW, 1 / 168),
    purchaseMultiplier(sec: number): number {
      return dayFactors(Math.floor((sec + LOCAL_OFFSET) / DAY))[0]
    },
    localHour(sec: number): number {
      const local = sec + LOCAL_OFFSET
      return Math.floor((local - Math.floor(local / DAY) * DAY) / HOUR)
    },
    demandWindows: windows,
    highSeason,
  }
}
