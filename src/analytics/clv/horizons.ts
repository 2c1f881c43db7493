/**
 * Forecasts of a stored CLV run over any horizon: expected purchases E[Y(t) | x, t_x, T] for a horizon
 * given in days, weeks or months (`39w`, `90d`, `12m`), P(no purchase within M days) — the retail churn
 * definition (Zammit & Zerafa 2025) — and P(alive) at a later date, for the members of a score list.
 * @module
 */
import { InputError } from '../../core/errors.js'
import type { TimeUnit } from '../../engine/summaries/repeat-buying.js'
import {
  conditionalExpectedPurchasesGrouped,
  probabilityAliveAfter,
  probabilityNoPurchase,
  type PurchaseModel,
} from './models.js'

/** A horizon as written: an amount and d (days), w (weeks) or m (months of the run's month length). */
export interface Horizon {
  readonly text: string
  readonly amount: number
  readonly unit: 'd' | 'w' | 'm'
}

const HORIZON_RE = /^(\d+(?:\.\d+)?)\s*(d|w|m)$/

/** The longest horizon accepted: 100 years. */
const MAX_DAYS = 36_525

/**
 * Parses `90d`, `39w`, `12m` (days, weeks, months; decimals allowed). Throws InputError naming `field`
 * and the value.
 */
export function parseHorizon(text: string, field: string): Horizon {
  const m = HORIZON_RE.exec(text.trim().toLowerCase())
  const amount = m === null ? NaN : Number(m[1])
  if (
    m === null ||
    !(amount > 0) ||
    amount * (m[2] === 'm' ? 31 : m[2] === 'w' ? 7 : 1) > MAX_DAYS
  ) {
    throw InputError.single({
      field,
      value: text,
      reason:
        'a horizon such as 90d, 39w or 12m (days, weeks or months; above 0, at most 100 years)',
    })
  }
  return { text: `${m[1]}${m[2]}`, amount, unit: m[2] as Horizon['unit'] }
}

/** The horizon in days; a month is `monthDays` long. */
export function horizonDays(h: Horizon, monthDays: number): number {
  return h.unit === 'd' ? h.amount : h.unit === 'w' ? h.amount * 7 : h.amount * monthDays
}

const UNIT_DAYS: Readonly<Record<TimeUnit, number>> = { week: 7, day: 1 }

/** What to forecast; every part is optional. */
export interface OutlookRequest {
  /** Expected purchases over this horizon after the calibration end. */
  readonly horizon?: Horizon
  /** P(no purchase within this many days after the calibration end). */
  readonly churnDays?: number
  /** P(alive) on this day (YYYY-MM-DD, on or after the calibration end) or after this horizon. */
  readonly aliveAt?: string | Horizon
}

/** The run facts a forecast needs. */
export interface OutlookRun {
  readonly model: PurchaseModel
  readonly unit: TimeUnit
  readonly calibrationEnd: string
  readonly monthDays: number
}

/** Forecast columns, one value per member, with what they mean. */
export interface Outlook {
  readonly expectedPurchases?: {
    readonly horizon: string
    readonly days: number
    readonly values: Float64Array
  }
  readonly noPurchase?: { readonly days: number; readonly values: Float64Array }
  readonly aliveAt?: { readonly date: string; readonly days: number; readonly values: Float64Array }
}

const DAY_MS = 86_400_000

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + Math.round(days) * DAY_MS)
    .toISOString()
    .slice(0, 10)
}

/**
 * The requested forecasts for members with summaries (x, t_x, T) at the run's calibration end, in the
 * run's time unit. A date before the calibration end is an error naming `alive at`.
 */
export function memberOutlook(
  run: OutlookRun,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  request: OutlookRequest,
): Outlook {
  const unitDays = UNIT_DAYS[run.unit]
  let aliveAt: Outlook['aliveAt']
  if (request.aliveAt !== undefined) {
    let days: number
    let date: string
    if (typeof request.aliveAt === 'string') {
      date = request.aliveAt
      days =
        (Date.parse(`${date}T00:00:00Z`) - Date.parse(`${run.calibrationEnd}T00:00:00Z`)) / DAY_MS
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !(days >= 0)) {
        throw InputError.single({
          field: 'alive at',
          value: date,
          reason: `a day YYYY-MM-DD on or after the calibration end ${run.calibrationEnd}, or a horizon such as 90d`,
        })
      }
    } else {
      days = horizonDays(request.aliveAt, run.monthDays)
      date = addDays(run.calibrationEnd, days)
    }
    aliveAt = { date, days, values: probabilityAliveAfter(run.model, days / unitDays, x, tx, T) }
  }
  const h = request.horizon
  const hDays = h === undefined ? 0 : horizonDays(h, run.monthDays)
  return {
    ...(h === undefined
      ? {}
      : {
          expectedPurchases: {
            horizon: h.text,
            days: hDays,
            values: conditionalExpectedPurchasesGrouped(run.model, hDays / unitDays, x, tx, T),
          },
        }),
    ...(request.churnDays === undefined
      ? {}
      : {
          noPurchase: {
            days: request.churnDays,
            values: probabilityNoPurchase(run.model, request.churnDays / unitDays, x, tx, T),
          },
        }),
    ...(aliveAt === undefined ? {} : { aliveAt }),
  }
}
