/**
 * An optional randomised retention campaign with several arms (off by default, so the default data stay
 * as they are): eligible members are split at random between a holdout and four offers, and each offer
 * moves each person according to their hidden type. This is the planted heterogeneity that uplift
 * models and budgeted targeting are checked against.
 *
 * Effect model, per arm a and person i:
 * - q_i, the person's own probability of buying in the outcome window without a touch: 0 after drop-out,
 *   else 1 − exp(−λ_i · exposure(window)) (the BG/NBD arrival clock);
 * - a person who would not buy in the window is induced to buy once, with probability π_a(type_i), the
 *   order carrying the arm's coupon when it has one; so the true incremental retention is π_a · (1 − q_i);
 * - a person who buys anyway redeems an arm's coupon on that order with probability ρ(type_i): no extra
 *   purchase, only the coupon's face value given away (cannibalised full-price buyers, whose net effect
 *   is negative);
 * - types: price-sensitive persons answer coupons, service-dissatisfied persons answer a care call and
 *   ignore coupons, high-value persons (mean order value ≥ 150 ¥) answer double points.
 *
 * Random draws come from the person's own `STREAM_UPLIFT` stream, so the natural purchase draws, and the
 * rows of the other tables' streams, are the ones the same seed gives without the campaign; the campaign
 * adds its extra orders (which count neither toward the gold tier nor toward the win-back rule's
 * inactivity, and introduce no POS id or duplicate link), its coupons on orders in the window and its
 * touch rows. A campaign coupon lowers an order's net amount, which can still, rarely, change a later
 * return or gold-tier draw of that person. Order and return ids after the first campaign order shift,
 * since they are numbered in sequence.
 * @module
 */
import { csvField, money } from './csv-format.js'
import { DAY, HOUR, isoDate, parseDate, type SimCalendar } from './calendar.js'
import { MODEL_PARAMETERS } from './model-parameters.js'
import { APP, PHONE, WECHAT, type PersonState } from './person-state.js'
import { Rng } from '../core/random.js'
import type { CsvWriter } from './csv-writer.js'
import type { TimeFormat } from './csv-format.js'

/** Arms of the campaign, in the order of their codes (0 is the holdout). */
export const UPLIFT_ARMS = [
  'holdout',
  'coupon_10',
  'coupon_20',
  'points_x2',
  'service_call',
] as const
export type UpliftArm = (typeof UPLIFT_ARMS)[number]
/** The offered arms (every arm but the holdout). */
export type UpliftOffer = Exclude<UpliftArm, 'holdout'>
export const UPLIFT_OFFERS = UPLIFT_ARMS.slice(1) as readonly UpliftOffer[]

/** Every number of the campaign; copied into truth.json when the campaign is simulated. */
export const UPLIFT_PARAMETERS = {
  /** The campaign runs this many days before the end of the window, at 10:00 Beijing time. */
  daysBeforeEnd: 100,
  /** Outcome: a purchase within this many days after the campaign (the retention the offers aim at). */
  outcomeDays: 90,
  /** Eligible: registered this many days before the campaign, with an order before it, reachable. */
  minTenureDays: 90,
  /** Arms are assigned with equal probability (holdout included). */
  offers: {
    coupon_10: { offer: '¥10 coupon, no minimum', couponId: 'RETAIN10', couponValue: 10 },
    coupon_20: { offer: '¥20 coupon, no minimum', couponId: 'RETAIN20', couponValue: 20 },
    points_x2: { offer: 'double points for 90 days', couponId: null, couponValue: 0 },
    service_call: { offer: 'service care call', couponId: null, couponValue: 0 },
  },
  /** π: share of would-be non-buyers the arm brings back, by type. */
  induced: {
    coupon_10: { priceSensitive: 0.3, dissatisfied: 0, other: 0.02 },
    coupon_20: { priceSensitive: 0.5, dissatisfied: 0, other: 0.05 },
    points_x2: { highValue: 0.3, other: 0.03 },
    service_call: { dissatisfied: 0.5, other: 0.02 },
  },
  /** A person whose mean order value (Gamma–Gamma p/ν) is at least this is high-value (CNY). */
  highValueOrder: 150,
  /** ρ: share of would-be buyers who redeem a coupon arm's coupon on an order they would have made. */
  redemption: { priceSensitive: 0.9, other: 0.5 },
  /** Cost of the message that carries an offer, by channel (CNY); a care call is booked by SMS. */
  sendCost: { sms: 0.05, wechat: 0.02, push: 0 },
} as const

/** One eligible person's truth: their arm and, for every offer, the true effects. */
export interface UpliftPersonTruth {
  /** Person index (as in the sample of truth.json). */
  readonly index: number
  /** The identity the touch row carries: type and value (as written in touches.csv). */
  readonly identityType: 'phone' | 'wechat_unionid' | 'app_user_id'
  readonly identityValue: string
  readonly arm: UpliftArm
  readonly priceSensitive: boolean
  readonly serviceDissatisfied: boolean
  readonly highValue: boolean
  /** True mean gross order value (Gamma–Gamma p/ν, CNY). */
  readonly meanOrderValue: number
  /** P(buy in the outcome window without a touch) at the campaign, and for a campaign at the end of data. */
  readonly naturalAtCampaign: number
  readonly naturalAtEnd: number
  /** Per offer, in {@link UPLIFT_OFFERS} order: π, and ρ for coupon arms (0 otherwise). */
  readonly induced: readonly number[]
  readonly redemption: readonly number[]
  /** Realised: bought in the outcome window; the planted extra order happened; the arm coupon was used. */
  readonly bought: boolean
  readonly extraOrder: boolean
  readonly couponRedeemed: boolean
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** The campaign's summary and per-person truth in truth.json. */
export interface UpliftTruth {
  readonly campaignId: string
  readonly campaignAt: string
  readonly outcomeDays: number
  readonly eligibility: string
  readonly howApplied: string
  readonly parameters: typeof UPLIFT_PARAMETERS
  readonly arms: Readonly<
    Record<
      UpliftArm,
      { readonly n: number; readonly converted: number; readonly extraOrders: number }
    >
  >
  /** Incremental retention of each offer over its eligible persons (mean of π · (1 − q)). */
  readonly meanIncrementalRetention: Readonly<Record<UpliftOffer, number>>
  readonly persons: readonly UpliftPersonTruth[]
}

const P = UPLIFT_PARAMETERS
const STREAM_UPLIFT = 16
const SMS = 0
const WX = 1
const PUSH = 2
const CHANNEL_NAMES = ['sms', 'wechat', 'push'] as const

/** The campaign plan of a run and the per-person bookkeeping. */
export class UpliftCampaign {
  readonly sec: number
  readonly outcomeEnd: number
  readonly campaignId: string
  readonly rng: Rng
  readonly persons: Mutable<UpliftPersonTruth>[] = []
  readonly counts = UPLIFT_ARMS.map(() => ({ n: 0, converted: 0, extraOrders: 0 }))
  /** The current person's arm (−1: not eligible), channel and send time. */
  arm = -1
  channel = 0
  sentSec = 0
  /** The current person's ρ for their arm, and whether their first order in the window has been seen. */
  redemption = 0
  couponDecided = false
  couponRedeemed = false

  private constructor(seed: number, sec: number) {
    this.sec = sec
    this.outcomeEnd = sec + P.outcomeDays * DAY
    this.campaignId = `retention_test_${isoDate(sec)}`
    this.rng = new Rng(seed, 0, STREAM_UPLIFT)
  }

  /** The campaign of a window ending at `endDate` (null when the window is too short for it). */
  static plan(seed: number, startSec: number, endDate: string): UpliftCampaign | null {
    const sec = parseDate(endDate) + DAY - P.daysBeforeEnd * DAY + 2 * HOUR
    if (sec - P.minTenureDays * DAY - 180 * DAY < startSec) return null
    return new UpliftCampaign(seed, sec)
  }

  /** Starts person `index`: their own random stream, no arm yet. */
  startPerson(seed: number, index: number): void {
    this.rng.reseed(seed, index, STREAM_UPLIFT)
    this.arm = -1
    this.redemption = 0
    this.couponDecided = false
    this.couponRedeemed = false
  }

  /** True when the current person holds a coupon arm and `sec` is inside the outcome window. */
  couponWindow(sec: number): boolean {
    return this.arm > 0 && couponOf(this.arm) !== null && sec > this.sec && sec <= this.outcomeEnd
  }
}

function couponOf(arm: number): { id: string; value: number } | null {
  const name = UPLIFT_ARMS[arm]
  if (name === undefined || name === 'holdout') return null
  const o = P.offers[name]
  return o.couponId === null ? null : { id: o.couponId, value: o.couponValue }
}

/** The coupon (id, face value in cents) of the current person's arm, or null. */
export function upliftCoupon(c: UpliftCampaign): { id: string; cents: number } | null {
  const o = couponOf(c.arm)
  return o === null ? null : { id: o.id, cents: o.value * 100 }
}

function typeEffects(st: PersonState): {
  induced: number[]
  redemption: number[]
  highValue: boolean
} {
  const highValue = MODEL_PARAMETERS.spend.p / st.nu >= P.highValueOrder
  const I = P.induced
  const couponPi = (e: { priceSensitive: number; dissatisfied: number; other: number }): number =>
    st.dissatisfied ? e.dissatisfied : st.priceSensitive ? e.priceSensitive : e.other
  const rho = st.priceSensitive ? P.redemption.priceSensitive : P.redemption.other
  return {
    induced: [
      couponPi(I.coupon_10),
      couponPi(I.coupon_20),
      highValue ? I.points_x2.highValue : I.points_x2.other,
      st.dissatisfied ? I.service_call.dissatisfied : I.service_call.other,
    ],
    redemption: UPLIFT_OFFERS.map((o) => (P.offers[o].couponId === null ? 0 : rho)),
    highValue,
  }
}

/**
 * Decides, at the campaign instant, whether the person is eligible and which arm they get; returns the
 * time of the planted extra order (Infinity for none). `alive` and `nextNatural` describe the natural
 * purchase process at that instant.
 */
export function decideUplift(
  cal: SimCalendar,
  c: UpliftCampaign,
  st: PersonState,
  alive: boolean,
  nextNatural: number,
): number {
  const C = c.sec
  if (st.regSec > C - P.minTenureDays * DAY || st.lastOrderSec === -Infinity) return Infinity
  const rng = c.rng
  const reach: number[] = []
  if (st.consentSms && st.has(PHONE, C)) reach.push(SMS)
  if (st.consentWechat && st.has(WECHAT, C)) reach.push(WX)
  if (st.consentPush && st.has(APP, C)) reach.push(PUSH)
  if (reach.length === 0) return Infinity
  const arm = rng.int(UPLIFT_ARMS.length)
  // A care call is booked by SMS, so it needs the phone; others take any reachable channel.
  const channel = arm === 4 && reach.includes(SMS) ? SMS : (reach[rng.int(reach.length)] ?? SMS)
  const eff = typeEffects(st)
  c.arm = arm
  c.channel = channel
  c.redemption = arm > 0 ? (eff.redemption[arm - 1] ?? 0) : 0
  c.sentSec = arm === 0 ? C : C + rng.int(3600)
  const pt = cal.purchase
  const naturalAtCampaign = alive ? -Math.expm1(-st.lambda * pt.between(C, c.outcomeEnd)) : 0
  const aliveAtEnd = st.deathSec >= cal.endSec
  const naturalAtEnd = aliveAtEnd ? -Math.expm1((-st.lambda * P.outcomeDays) / 7) : 0
  const identity =
    channel === SMS
      ? { identityType: 'phone' as const, identityValue: st.phone }
      : channel === WX
        ? { identityType: 'wechat_unionid' as const, identityValue: st.wechat }
        : { identityType: 'app_user_id' as const, identityValue: st.appId }
  c.persons.push({
    index: st.index,
    ...identity,
    arm: UPLIFT_ARMS[arm] ?? 'holdout',
    priceSensitive: st.priceSensitive,
    serviceDissatisfied: st.dissatisfied,
    highValue: eff.highValue,
    meanOrderValue: MODEL_PARAMETERS.spend.p / st.nu,
    naturalAtCampaign,
    naturalAtEnd,
    induced: eff.induced,
    redemption: eff.redemption,
    bought: false,
    extraOrder: false,
    couponRedeemed: false,
  })
  const counts = c.counts[arm]
  if (counts) counts.n++
  if (arm === 0) return Infinity
  const buysAnyway = alive && nextNatural <= c.outcomeEnd
  if (!buysAnyway && rng.chance(eff.induced[arm - 1] ?? 0)) {
    const me = c.persons.at(-1)
    if (me) me.extraOrder = true
    if (counts) counts.extraOrders++
    // After the touch has gone out (C + 1 h) and inside the outcome window.
    return C + 3660 + rng.uniform() * (P.outcomeDays * DAY - 7200)
  }
  return Infinity
}

/** After the purchase loop: counts the person's arm as converted when they bought in the window. */
export function tallyUplift(c: UpliftCampaign, st: PersonState): void {
  const me = c.persons.at(-1)
  if (c.arm < 0 || me === undefined) return
  me.couponRedeemed = c.couponRedeemed
  for (let k = 0; k < st.nOrders; k++) {
    const o = st.oTime[k] ?? 0
    if (o > c.sec && o <= c.outcomeEnd) {
      const counts = c.counts[c.arm]
      if (counts) counts.converted++
      me.bought = true
      return
    }
  }
}

/** The campaign's touch row for the current person (holdout members get a row too, marked holdout). */
export function writeUpliftTouch(
  w: CsvWriter | null,
  fmt: TimeFormat,
  c: UpliftCampaign,
  st: PersonState,
): void {
  if (w === null || c.arm < 0) return
  const name = UPLIFT_ARMS[c.arm] ?? 'holdout'
  const ch = CHANNEL_NAMES[c.channel] ?? 'sms'
  const holdout = name === 'holdout'
  const offer = holdout ? '' : csvField(P.offers[name].offer)
  const cost = holdout ? '0.00' : money(Math.round(P.sendCost[ch] * 100))
  const kind = name === 'service_call' ? 'service_call' : 'retention'
  const ids =
    c.channel === SMS ? `${st.phone},,,` : c.channel === WX ? `,,,${st.wechat}` : `,,${st.appId},`
  w.add(
    `${c.campaignId},${ch},${kind},${fmt.ts(c.sentSec)},${offer},${cost},` +
      `${holdout ? 'holdout' : 'treatment'},${ids}`,
  )
}

/** The truth.json section of the campaign. */
export function buildUpliftTruth(c: UpliftCampaign): UpliftTruth {
  const arms = {} as Record<UpliftArm, { n: number; converted: number; extraOrders: number }>
  UPLIFT_ARMS.forEach((a, k) => (arms[a] = c.counts[k] ?? { n: 0, converted: 0, extraOrders: 0 }))
  const mean = {} as Record<UpliftOffer, number>
  UPLIFT_OFFERS.forEach((o, k) => {
    let s = 0
    for (const p of c.persons) s += (p.induced[k] ?? 0) * (1 - p.naturalAtCampaign)
    mean[o] = c.persons.length > 0 ? s / c.persons.length : 0
  })
  return {
    campaignId: c.campaignId,
    campaignAt: new Date(c.sec * 1000).toISOString(),
    outcomeDays: P.outcomeDays,
    eligibility: `registered ≥ ${P.minTenureDays} days before the campaign, an order before it, reachable by SMS, WeChat or push (consent)`,
    howApplied:
      'each arm (holdout included) with probability 1/5; a person who would not buy in the window buys once with probability π(arm, type), with the arm coupon; a coupon-arm person who buys anyway redeems the coupon with probability ρ(type)',
    parameters: P,
    arms,
    meanIncrementalRetention: mean,
    persons: c.persons,
  }
}
