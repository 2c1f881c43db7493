/**
 * Everything shared by the per-person passes of one simulation run: the calendar, formatters, output
 * writers (null for tables not requested), id sequences, campaign schedule and the ground-truth tallies.
 * @module
 */
import type { IngestTable } from '../core/schema.js'
import { CATEGORIES, CITIES, COUPONS, PROMO_OFFERS, SOURCES, storesIn } from './catalog.js'
import { DAY, HOUR, addMonths, isoDate, parseDate, type SimCalendar } from './calendar.js'
import { TimeFormat, csvField, csvJson } from './csv-format.js'
import type { CsvWriter } from './csv-writer.js'
import type { PersonTruth } from './person-truth.js'
import { IdentityCodes } from './identity-codes.js'
import { MODEL_PARAMETERS, REG_CHANNELS } from './model-parameters.js'
import { cumulative } from '../core/random.js'
import type { UpliftCampaign } from './uplift-campaign.js'
import type { UniversalHoldout } from './universal-holdout.js'
import { CouponTallies } from './coupon-tallies.js'

/** A promotional campaign sent to a random share of members. */
export interface PromoCampaign {
  readonly id: string
  readonly sec: number
  readonly offer: string
}

/** Numbers gathered while simulating, turned into `truth.json` at the end. */
export class Tallies {
  persons = 0
  memberRows = 0
  duplicates = 0
  linkedByOrder = 0
  linkedByEvent = 0
  orders = 0
  naturalOrders = 0
  baseProcessOrders = 0
  couponOrders = 0
  winbackOrders = 0
  cancelled = 0
  returns = 0
  refunded = 0
  partiallyRefunded = 0
  expectedBaseOrders = 0
  personsWithOrders = 0
  droppedOut = 0
  tierQualified = 0
  priceSensitive = 0
  dissatisfied = 0
  lambdaSum = 0
  pSum = 0
  grossSum = 0
  expControl = 0
  expControlConverted = 0
  expTreatment = 0
  expTreatmentConverted = 0
  expCouponInduced = 0
  /** Σ over assigned persons of P(natural first purchase within the outcome window). */
  expNaturalProbSum = 0
  wbTreatment = 0
  wbTreatmentConverted = 0
  wbInduced = 0
  wbHoldout = 0
  wbHoldoutConverted = 0
  /** Σ over eligible persons of P(natural purchase within the outcome window). */
  wbNaturalProbSum = 0
  subscribers: Record<string, number> = {}
  terms: Record<string, number> = {}
  renewals: Record<string, number> = {}
  nonRenewals: Record<string, number> = {}
  censored: Record<string, number> = {}
  /** New persons by month index and registration channel (for acquisition spend). */
  registrations: Float64Array
  constructor(months: number) {
    this.registrations = new Float64Array(months * REG_CHANNELS.length)
  }
}

export type Writers = { [T in IngestTable]: CsvWriter | null }

export class SimContext {
  readonly seed: number
  readonly cal: SimCalendar
  readonly fmt: TimeFormat
  readonly codes: IdentityCodes
  readonly out: Writers
  readonly tallies: Tallies
  /** Member rows are sorted by registration time before writing: [registered_at, line]. */
  /** Member rows: time, CSV line, person number. */
  readonly memberRows: [number, string, number][] = []
  /** Details of the first persons, for truth.json. */
  readonly sample: PersonTruth[] = []
  /** Every price-sensitive and every service-dissatisfied person, as `identity_type:value` (truth.json churnTypes). */
  readonly churnTypes = { priceSensitive: [] as string[], serviceDissatisfied: [] as string[] }
  /** First instant of each calendar month touched by the window (for acquisition spend). */
  readonly monthStarts: number[]

  orderSeq = 10_000_000
  returnSeq = 10_000_000
  eventSeq = 100_000_000
  sessionSeq = 10_000_000
  feedbackSeq = 10_000_000

  /** Experiment: persons registered in [expStart, expEnd) are assigned (NaN: no experiment). */
  readonly expStart: number
  readonly expEnd: number
  readonly experimentId: string
  /** Win-back campaign instant (NaN: window too short). */
  readonly wbSec: number
  readonly wbCampaignId: string
  readonly promos: readonly PromoCampaign[]
  /** The optional multi-arm retention campaign (null unless asked for). */
  uplift: UpliftCampaign | null = null
  /** The optional universal holdout of the member programme (null unless asked for). */
  universalHoldout: UniversalHoldout | null = null
  /** Purchase-rate multiplier by registration channel code when covariate effects are planted, else null. */
  plantedChannelFactor: Float64Array | null = null
  /** Coupons written (coupons.csv) and their id sequence. */
  readonly coupons = new CouponTallies()

  readonly channelCum = cumulative(
    REG_CHANNELS.map((c) => MODEL_PARAMETERS.registration.channelShares[c]),
  )
  readonly cityCum = cumulative(CITIES.map((c) => c.weight))
  readonly categoryCum = cumulative(CATEGORIES.map((c) => c.weight))
  readonly storeCount = CITIES.map(storesIn)
  /** Store ids by city, e.g. `SH03`. */
  readonly storeIds = CITIES.map((c) =>
    Array.from({ length: storesIn(c) }, (_, k) => `${c.code}${String(k + 1).padStart(2, '0')}`),
  )
  readonly regionCsv = CITIES.map((c) => csvField(c.region))
  readonly cityCsv = CITIES.map((c) => csvField(c.city))
  readonly sourceCsv = SOURCES.map((list) => list.map((s) => csvJson({ source: s })))
  readonly couponMin = COUPONS.map((c) => c.min * 100)
  readonly couponValue = COUPONS.map((c) => c.value * 100)
  readonly couponId = COUPONS.map((c) => c.id)

  constructor(seed: number, cal: SimCalendar, out: Writers) {
    this.seed = seed
    this.cal = cal
    this.out = out
    this.fmt = new TimeFormat(cal.startSec - DAY, cal.endSec + 400 * DAY)
    this.codes = new IdentityCodes(seed)

    this.monthStarts = []
    const first = new Date(cal.startSec * 1000)
    for (let m = 0; ; m++) {
      const s = Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + m, 1) / 1000
      if (s >= cal.endSec) break
      this.monthStarts.push(s)
    }
    this.tallies = new Tallies(this.monthStarts.length)

    // The experiment enrols new members for the three calendar months that end two months before the
    // last (possibly partial) month, so every enrolled member has a full 30-day outcome window and some
    // history after it.
    const endMonth = parseDate(`${cal.endDate.slice(0, 7)}-01`)
    const expEnd = addMonths(endMonth, -2)
    const expStart = Math.max(addMonths(endMonth, -5), cal.startSec)
    const hasExperiment = expEnd - expStart >= 28 * DAY
    this.expStart = hasExperiment ? expStart : NaN
    this.expEnd = hasExperiment ? expEnd : NaN
    this.experimentId = `${MODEL_PARAMETERS.experiment.experimentId}_${isoDate(expEnd).slice(0, 7)}`

    // The win-back campaign needs members with 120 days of tenure and 90 days of inactivity behind it.
    const wb = MODEL_PARAMETERS.winback
    const wbSec = parseDate(cal.endDate) + DAY - wb.daysBeforeEnd * DAY + 2 * HOUR
    const hasWinback = wbSec - wb.minTenureDays * DAY >= cal.startSec + 30 * DAY
    this.wbSec = hasWinback ? wbSec : NaN
    this.wbCampaignId = `winback_${isoDate(wbSec)}`

    this.promos = buildPromos(cal)
  }
}

/**
 * Promotional campaigns: one on the 5th of every month, plus the 618, 11.11 and 12.12 warm-ups, all sent
 * at 10:00 Beijing time (02:00 UTC).
 */
function buildPromos(cal: SimCalendar): PromoCampaign[] {
  const promos: PromoCampaign[] = []
  const first = new Date(cal.startSec * 1000)
  for (let m = 0; ; m++) {
    const y = first.getUTCFullYear()
    const mo = first.getUTCMonth() + m
    const monthStart = Date.UTC(y, mo, 1) / 1000
    if (monthStart >= cal.endSec) break
    const ym = isoDate(monthStart).slice(0, 7).replace('-', '')
    const month = new Date(monthStart * 1000).getUTCMonth() + 1
    const add = (id: string, day: number, offer: string): void => {
      const sec = Date.UTC(y, mo, day) / 1000 + 2 * HOUR
      if (sec >= cal.startSec && sec < cal.endSec) promos.push({ id, sec, offer })
    }
    add(`promo_${ym}`, 5, PROMO_OFFERS[m % PROMO_OFFERS.length] ?? '')
    if (month === 6) add(`promo_618_${ym.slice(0, 4)}`, 14, '618 会员专享满199减40')
    if (month === 11) add(`promo_1111_${ym.slice(0, 4)}`, 8, '11.11 double points')
    if (month === 12) add(`promo_1212_${ym.slice(0, 4)}`, 9, '12.12 满99减20')
  }
  return promos
}
