/**
 * The mutable state of the one person being simulated. A single instance is reset and reused for every
 * person, and per-order data lives in growable typed arrays, so the hot loops allocate (almost) nothing.
 * @module
 */

/** Identity kinds as bits. */
export const PHONE = 1
export const EMAIL = 2
export const APP = 4
export const CARD = 8
export const WECHAT = 16

/** Per-order flags. */
export const ONLINE = 1
export const CANCELLED = 2
export const RETURNED = 4
/** Extra order caused by the experiment's first-order coupon. */
export const COUPON_EXTRA = 8
/** Extra order caused by the win-back touch. */
export const WINBACK_EXTRA = 16
/** Extra order caused by an arm of the optional retention campaign (see uplift-campaign.ts). */
export const UPLIFT_EXTRA = 32

/** How an online order identified the person (reused for its browsing session). */
export const BY_APP = 1
export const BY_PHONE = 2
export const BY_PHONE_INTL = 3

/** An order of the person that carried a coupon code (recorded for the coupons file; no draw is taken). */
export interface CouponUse {
  readonly code: string
  readonly sec: number
  readonly orderId: string
  /** The order's identity columns in coupons.csv order: phone, email, app_user_id, card_no, wechat_unionid, pos_customer_id. */
  readonly ids: string
  readonly cancelled: boolean
}

export class PersonState {
  index = 0
  /** Primary registration (UTC seconds, whole). */
  regSec = 0
  /** Index into REG_CHANNELS of the primary registration. */
  channel = 0
  city = 0
  homeStore = 0
  /** Identity kinds the person has (bits), over both registrations for a duplicate. */
  kinds = 0
  phone = ''
  email = ''
  appId = ''
  card = ''
  wechat = ''
  pos = ''
  posKnown = false
  memberPhoneFormat = 0
  consentSms = false
  consentEmail = false
  consentWechat = false
  consentPush = false
  birthMonth = 0
  birthDay = 0

  /** Registered twice: a store-card row and an app row with disjoint identities. */
  dup = false
  storeRowSec = 0
  appRowSec = 0
  storeKinds = 0
  appKinds = 0
  /** When both registrations exist. */
  bothSec = Infinity
  /** When a record carrying identities of both rows appears (Infinity: not yet). */
  linkSec = Infinity
  linkByEvent = false
  /** When a card-binding login event links the rows if no order does. */
  linkEventSec = Infinity

  lambda = 0
  p = 0
  nu = 0
  onlineShare = 0
  /** Preferred online channel: 0 app, 1 mini_program, 2 web. */
  mainOnline = 0
  priceSensitive = false
  dissatisfied = false
  /** Latent satisfaction (standard normal) behind NPS and review scores. */
  satisfaction = 0
  /** Browse sessions per week while engaged. */
  sessionRate = 0
  /** Drop-out moment (Infinity if the purchase process never stopped). */
  deathSec = Infinity
  /** When the person reached the tier (Infinity: never). */
  tierSec = Infinity

  /** -1 not in the experiment, 0 control, 1 treatment. */
  expArm = -1
  /** -1 not eligible for the win-back campaign, 0 holdout, 1 treatment. */
  wbArm = -1
  /** 0 sms, 1 wechat. */
  wbChannel = 0
  wbSentSec = 0

  /** Last order time (whole seconds), for the win-back eligibility rule. */
  lastOrderSec = -Infinity
  /** An upper bound of the last event's time (a session's start plus an hour), for the identity cases. */
  lastEventSec = -Infinity
  /** Trailing-window tier spend: first order still inside the window, and the net cents inside it. */
  rollLo = 0
  rollNet = 0
  expCouponUsed = false
  /** Points the person has paid orders with so far. */
  pointsUsed = 0

  nSubs = 0
  subStart = new Float64Array(16)
  subEnd = new Float64Array(16)

  nOrders = 0
  oTime = new Float64Array(64)
  oSeq = new Float64Array(64)
  oGross = new Int32Array(64)
  oNet = new Int32Array(64)
  oFlags = new Uint8Array(64)
  /** Order channel: 0 app, 1 mini_program, 2 web, 3 store. */
  oChannel = new Uint8Array(64)
  /** BY_APP / BY_PHONE / BY_PHONE_INTL for online orders. */
  oIdentity = new Uint8Array(64)
  /** Orders that carried a coupon code, in order (read by simulate-coupons.ts). */
  readonly couponUses: CouponUse[] = []

  reset(index: number, regSec: number): void {
    this.index = index
    this.regSec = regSec
    this.kinds = 0
    this.phone = ''
    this.email = ''
    this.appId = ''
    this.card = ''
    this.wechat = ''
    this.pos = ''
    this.posKnown = false
    this.birthMonth = 0
    this.birthDay = 0
    this.dup = false
    this.storeKinds = 0
    this.appKinds = 0
    this.storeRowSec = regSec
    this.appRowSec = regSec
    this.bothSec = Infinity
    this.linkSec = Infinity
    this.linkByEvent = false
    this.linkEventSec = Infinity
    this.lastOrderSec = -Infinity
    this.lastEventSec = -Infinity
    this.rollLo = 0
    this.rollNet = 0
    this.expCouponUsed = false
    this.pointsUsed = 0
    this.deathSec = Infinity
    this.tierSec = Infinity
    this.expArm = -1
    this.wbArm = -1
    this.nSubs = 0
    this.nOrders = 0
    this.couponUses.length = 0
  }

  /** When the row holding identity `kind` was registered. */
  kindSince(kind: number): number {
    if (!this.dup) return this.regSec
    return (this.storeKinds & kind) !== 0 ? this.storeRowSec : this.appRowSec
  }

  /** True if the person has identity `kind` and it was registered by time `t`. */
  has(kind: number, t: number): boolean {
    return (this.kinds & kind) !== 0 && this.kindSince(kind) <= t
  }

  /**
   * Identity kinds usable on an online (`online`) or store record at time `t`. Before a duplicate's two
   * registrations are linked, online records use only the app row's identities and store records only the
   * card row's, which is what keeps the two member rows apart until the link.
   */
  usableKinds(online: boolean, t: number): number {
    let k = this.kinds
    if (this.dup && t < this.linkSec) k = online ? this.appKinds : this.storeKinds
    let out = 0
    for (let bit = 1; bit <= WECHAT; bit <<= 1) {
      if ((k & bit) !== 0 && this.kindSince(bit) <= t) out |= bit
    }
    return out
  }

  /** Appends an order to the scratch arrays, growing them when needed; returns its index. */
  pushOrder(): number {
    const n = this.nOrders
    if (n === this.oTime.length) {
      const cap = n * 2
      this.oTime = grow(this.oTime, new Float64Array(cap))
      this.oSeq = grow(this.oSeq, new Float64Array(cap))
      this.oGross = grow(this.oGross, new Int32Array(cap))
      this.oNet = grow(this.oNet, new Int32Array(cap))
      this.oFlags = grow(this.oFlags, new Uint8Array(cap))
      this.oChannel = grow(this.oChannel, new Uint8Array(cap))
      this.oIdentity = grow(this.oIdentity, new Uint8Array(cap))
    }
    this.nOrders = n + 1
    return n
  }

  pushSubscription(start: number, end: number): void {
    if (this.nSubs === this.subStart.length) {
      this.subStart = grow(this.subStart, new Float64Array(this.nSubs * 2))
      this.subEnd = grow(this.subEnd, new Float64Array(this.nSubs * 2))
    }
    this.subStart[this.nSubs] = start
    this.subEnd[this.nSubs] = end
    this.nSubs++
  }

  /** True if a paid-membership term covers `t`. */
  subscribedAt(t: number): boolean {
    for (let k = 0; k < this.nSubs; k++) {
      if ((this.subStart[k] ?? 0) <= t && t < (this.subEnd[k] ?? 0)) return true
    }
    return false
  }
}

function grow<T extends Float64Array | Int32Array | Uint8Array>(from: T, to: T): T {
  to.set(from)
  return to
}
