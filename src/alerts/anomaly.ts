/**
 * Holiday-aware anomaly detection on one metric series. Pure: a series of (period, value) in, for each period
 * the baseline it was compared with, the residual, its robust z-score and whether it fires.
 *
 * **Baseline.** For period t the comparators are the same period in each of the last `years` years (364 days
 * for days, 52 weeks for weeks, so the weekday matches; the same month or quarter otherwise). Where t, or that
 * comparator, lies within the window of a retail-calendar event that moves between years (春节, 端午, 中秋; 618
 * and 双11, whose pre-sale windows drift against the weekday), the comparator is instead the period at the
 * same distance from that event in the earlier year: 春节 −3 days this year against 春节 −3 days last year.
 * The baseline is the median of the comparators' values.
 *
 * **Residual.** ln(value ÷ baseline) when every value of the series is positive (a ratio, comparable across
 * levels), otherwise value − baseline.
 *
 * **Robust z-score.** (residual − median R) ÷ scale, where R are the residuals of the `window` periods before
 * t. The scale is 1.4826 · MAD R — the median absolute deviation from the median, which 1.4826 turns into an
 * estimate of a normal standard deviation (Rousseeuw & Croux 1993, "Alternatives to the median absolute
 * deviation", JASA 88:1273) — but at least 1.2533 × the mean absolute deviation from the median (the same
 * estimate for normal noise), which keeps the scale honest on series of few distinct values (purchase
 * frequency of 1.00 most days), where the MAD collapses. Median and MAD are not pulled by the outliers they
 * are meant to find, nor by an earlier shock still inside the window. Where comparators were aligned on an
 * event, their own disagreement (the standard deviation of their residual-scale values) is added to the
 * scale in quadrature: a week holding 春节 is made of different days each year, and a baseline whose years
 * disagree is a loose one. A period fires when |z| reaches the threshold in the rule's direction.
 * @module
 */
import { calendarFor, type BrandEvent, type CalendarEvent } from '../calendar/index.js'
import type { Grain } from '../engine/dialects/dialect.js'
import { YEAR_LAG, addPeriods, periodLabel, periodStart } from '../engine/metrics/run.js'

/** Events aligned on by default: those whose date (or sale window) moves against the same period last year. */
export const DEFAULT_ALIGN_EVENTS = [
  'spring_festival',
  'double_11',
  'mid_year_618',
  'dragon_boat',
  'mid_autumn',
] as const

/**
 * How many periods either side of 春节 count as its influence: the 年货 run-up before it and the quiet weeks
 * after it. 春节 moves by up to a month between years, so the whole season is aligned on it.
 */
export const SPRING_MARGIN: Readonly<Record<Grain, number>> = {
  day: 21,
  week: 3,
  month: 1,
  quarter: 0,
  year: 0,
}
/**
 * Periods either side of any other event's day. Fixed-date events (618, 双11) drift only a day or two against
 * the same weekday last year, so only their peak days are aligned by date; their pre-sale windows keep the
 * weekday match.
 */
export const EVENT_MARGIN: Readonly<Record<Grain, number>> = {
  day: 3,
  week: 1,
  month: 0,
  quarter: 0,
  year: 0,
}

/** Residuals the scale is estimated from, by grain (8 weeks of days, half a year of weeks, 2 years of months). */
export const DEFAULT_WINDOW: Readonly<Record<Grain, number>> = {
  day: 56,
  week: 26,
  month: 24,
  quarter: 8,
  year: 5,
}

/** 1 / Φ⁻¹(3/4): makes the MAD a consistent estimate of a normal standard deviation. */
export const MAD_TO_SD = 1.4826
/** √(π/2): makes the mean absolute deviation a consistent estimate of a normal standard deviation. */
export const MEAN_AD_TO_SD = 1.2533

export interface AnomalySettings {
  /** Fires when |z| ≥ this. */
  readonly z: number
  readonly direction: 'up' | 'down' | 'either'
  /** Earlier years compared with (1–5). */
  readonly years: number
  /** Calendar event ids aligned on, in priority order (the first whose window holds the period wins). */
  readonly events: readonly string[]
  /** Residuals before the period that estimate the noise (default by grain: {@link DEFAULT_WINDOW}). */
  readonly window?: number
  /** The brand's own events, so that they can be aligned on too. */
  readonly brandEvents?: readonly BrandEvent[]
}

export interface SeriesPoint {
  /** First day of the period. */
  readonly period: string
  readonly value: number | null
}

export interface Comparator {
  /** Years back (1 = last year). */
  readonly yearsBack: number
  readonly period: string
  readonly value: number | null
  /** The event whose position was matched, or null for the plain same period last year. */
  readonly event: string | null
}

export interface AnomalyPoint {
  readonly period: string
  readonly label: string
  readonly value: number | null
  /** Median of the comparators' values; null without any. */
  readonly expected: number | null
  readonly comparators: readonly Comparator[]
  /** `log` (ln value/baseline) or `difference`. */
  readonly residualKind: 'log' | 'difference'
  readonly residual: number | null
  /** Robust z-score of the residual; null with too little history or no spread in it. */
  readonly z: number | null
  readonly fired: boolean
}

/** Whole periods from `a` to `b` (both period starts at `grain`). */
export function periodsBetween(a: string, b: string, grain: Grain): number {
  const da = new Date(`${a}T00:00:00Z`)
  const db = new Date(`${b}T00:00:00Z`)
  switch (grain) {
    case 'day':
      return Math.round((db.getTime() - da.getTime()) / 86_400_000)
    case 'week':
      return Math.round((db.getTime() - da.getTime()) / (7 * 86_400_000))
    case 'month':
      return (
        (db.getUTCFullYear() - da.getUTCFullYear()) * 12 + (db.getUTCMonth() - da.getUTCMonth())
      )
    case 'quarter':
      return Math.round(
        ((db.getUTCFullYear() - da.getUTCFullYear()) * 12 + (db.getUTCMonth() - da.getUTCMonth())) /
          3,
      )
    case 'year':
      return db.getUTCFullYear() - da.getUTCFullYear()
    default: {
      const _exhaustive: never = grain
      return _exhaustive
    }
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

interface EventSpan {
  /** Period holding the event's day (or its window's last day). */
  readonly anchor: string
  /** First and last period counted as the event's influence. */
  readonly from: string
  readonly to: string
}

/**
 * Maps periods to their comparators in earlier years. Calendar look-ups are cached: one detector instance
 * serves a whole series.
 */
export class ComparatorMap {
  private readonly spans = new Map<string, EventSpan | null>()

  constructor(
    private readonly grain: Grain,
    private readonly settings: AnomalySettings,
  ) {}

  private span(id: string, year: number): EventSpan | null {
    const key = `${id}:${year}`
    const cached = this.spans.get(key)
    if (cached !== undefined) return cached
    let found: CalendarEvent | undefined
    try {
      found = calendarFor(year, this.settings.brandEvents ?? []).find((e) => e.id === id)
    } catch {
      found = undefined // a year outside the calendar's range
    }
    const g = this.grain
    const margin = (id === 'spring_festival' ? SPRING_MARGIN : EVENT_MARGIN)[g]
    // Fixed-date events are aligned around their day only; lunar and brand events over their whole window.
    const first = found?.kind === 'fixed' ? (found.date ?? found.end) : found?.start
    const last = found?.kind === 'fixed' ? (found.date ?? found.end) : found?.end
    const span =
      found === undefined || first === undefined || last === undefined
        ? null
        : {
            anchor: periodStart(found.date ?? found.end, g),
            from: addPeriods(periodStart(first, g), g, -margin),
            to: addPeriods(periodStart(last, g), g, margin),
          }
    this.spans.set(key, span)
    return span
  }

  /** The comparator periods of `period` (a period start), one per earlier year. */
  comparators(period: string): { yearsBack: number; period: string; event: string | null }[] {
    const g = this.grain
    const year = Number(period.slice(0, 4))
    const out: { yearsBack: number; period: string; event: string | null }[] = []
    for (let k = 1; k <= this.settings.years; k++) {
      const seasonal = addPeriods(period, g, -YEAR_LAG[g] * k)
      let chosen: { period: string; event: string | null } = { period: seasonal, event: null }
      search: for (const id of this.settings.events) {
        for (const y of [year - 1, year, year + 1]) {
          const now = this.span(id, y)
          const then = this.span(id, y - k)
          if (now === null || then === null) continue
          const inside = (p: string, s: EventSpan) => p >= s.from && p <= s.to
          if (inside(period, now) || inside(seasonal, then)) {
            const offset = periodsBetween(now.anchor, period, g)
            chosen = { period: addPeriods(then.anchor, g, offset), event: id }
            break search
          }
        }
      }
      out.push({ yearsBack: k, ...chosen })
    }
    return out
  }
}

/** Sample standard deviation of the comparators' values on the residual's scale (log or raw); 0 for one. */
function disagreement(values: readonly number[], log: boolean): number {
  const xs = log ? values.filter((v) => v > 0).map(Math.log) : [...values]
  if (xs.length < 2) return 0
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  return Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1))
}

/**
 * Runs the detector over a series (period starts at `grain`, any order, gaps allowed) and returns a point
 * for each period from `from` (default: the first) on.
 */
export function detectAnomalies(
  series: readonly SeriesPoint[],
  grain: Grain,
  settings: AnomalySettings,
  from?: string,
): AnomalyPoint[] {
  const sorted = [...series].sort((a, b) => (a.period < b.period ? -1 : 1))
  const byPeriod = new Map(sorted.map((p) => [p.period, p.value]))
  const positive = sorted.every((p) => p.value === null || p.value > 0)
  const residualKind = positive ? 'log' : 'difference'
  const map = new ComparatorMap(grain, settings)
  const window = settings.window ?? DEFAULT_WINDOW[grain]
  const needed = Math.max(3, Math.ceil(window / 2))
  const residuals: (number | null)[] = []
  const out: AnomalyPoint[] = []
  for (const point of sorted) {
    const comparators = map
      .comparators(point.period)
      .map((c) => ({ ...c, value: byPeriod.get(c.period) ?? null }))
    const known = comparators.flatMap((c) => (c.value === null ? [] : [c.value]))
    const expected = known.length === 0 ? null : median(known)
    const v = point.value
    const residual =
      v === null || expected === null
        ? null
        : positive
          ? expected > 0
            ? Math.log(v / expected)
            : null
          : v - expected
    const history = residuals.slice(-window).filter((r): r is number => r !== null)
    let z: number | null = null
    if (residual !== null && history.length >= needed) {
      const center = median(history)
      const deviations = history.map((r) => Math.abs(r - center))
      const noise = Math.max(
        MAD_TO_SD * median(deviations),
        (MEAN_AD_TO_SD * deviations.reduce((a, b) => a + b, 0)) / deviations.length,
      )
      const spread = comparators.some((c) => c.event !== null) ? disagreement(known, positive) : 0
      const scale = Math.sqrt(noise * noise + spread * spread)
      z = scale > 0 ? (residual - center) / scale : null
    }
    residuals.push(residual)
    if (from !== undefined && point.period < from) continue
    const fired =
      z !== null &&
      (settings.direction === 'up'
        ? z >= settings.z
        : settings.direction === 'down'
          ? z <= -settings.z
          : Math.abs(z) >= settings.z)
    out.push({
      period: point.period,
      label: periodLabel(point.period, grain),
      value: v,
      expected,
      comparators,
      residualKind,
      residual,
      z,
      fired,
    })
  }
  return out
}

/** How many periods of history the detector needs before `period` for a full baseline and scale. */
export function lookbackPeriods(grain: Grain, settings: AnomalySettings): number {
  const window = settings.window ?? DEFAULT_WINDOW[grain]
  return YEAR_LAG[grain] * settings.years + window + 2 * SPRING_MARGIN[grain] + YEAR_LAG[grain]
}
