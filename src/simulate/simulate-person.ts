/**
 * The core pass for one person: profile and identities, latent BG/NBD / Gamma–Gamma parameters, the
 * purchase process with the tier effect and the two planted treatments (experiment coupon, win-back),
 * and the rows of members, orders, returns and experiments.
 *
 * The purchase process is an exact BG/NBD process on the seasonal exposure clock (see IntensityTable):
 * arrivals at rate λ, and after each purchase a drop-out coin with probability p (p × the tier multiplier
 * once the person holds the tier). Planted extra orders (coupon, win-back) do not touch the arrival
 * times or the coins, and the run also counts the purchases the same draws would have produced without
 * the tier effect, so the ground truth can separate the three.
 * @module
 */
import { RETURN_REASONS } from './catalog.js'
import { DAY, isoDate } from './calendar.js'
import { bgNbdExpectedPurchases } from './bg-nbd-expectation.js'
import { csvField, money } from './csv-format.js'
import type { PersonTruth } from './ground-truth.js'
import { emailVariant, formatPhone } from './identity-codes.js'
import { MODEL_PARAMETERS, REG_CHANNELS } from './model-parameters.js'
import {
  APP,
  BY_APP,
  BY_PHONE,
  BY_PHONE_INTL,
  CANCELLED,
  CARD,
  COUPON_EXTRA,
  EMAIL,
  ONLINE,
  PHONE,
  RETURNED,
  UPLIFT_EXTRA,
  WECHAT,
  WINBACK_EXTRA,
  type PersonState,
} from './person-state.js'
import { decideUplift, tallyUplift, upliftCoupon } from './uplift-campaign.js'
import { cumulative, type Rng } from '../core/random.js'
import type { SimContext } from './sim-context.js'

const P = MODEL_PARAMETERS
/** Order and event channels by code; codes 0–3 match REG_CHANNELS. */
export const CHANNEL_NAMES = ['app', 'mini_program', 'web', 'store'] as const
const STORE = 3
const GENDER_VALUES = ['female', 'male', 'other', 'unknown', '']
const GENDER_CUM = cumulative([0.56, 0.38, 0.01, 0.03, 0.02])
const PHONE_FORMAT_CUM = cumulative([...P.identities.memberPhoneFormatShares])
const RETURN_REASONS_CSV = RETURN_REASONS.map(csvField)
/** Online share by registration channel: Beta(a, b) parameters. */
const ONLINE_SHARE: readonly (readonly [number, number])[] = [
  [6, 1.5],
  [6, 1.5],
  [5, 2],
  [1.5, 5],
]
/** How many of the first persons get their details recorded in truth.json. */
const SAMPLE_SIZE = 200

/** Simulates person `index` registering at `regSec` and writes their core rows. */
export function simulatePerson(
  ctx: SimContext,
  st: PersonState,
  rng: Rng,
  index: number,
  regSec: number,
): void {
  st.reset(index, regSec)
  const T = ctx.tallies
  const cal = ctx.cal
  const end = cal.endSec
  const codes = ctx.codes

  // Profile.
  let channel = rng.pickCumulative(ctx.channelCum)
  st.city = rng.pickCumulative(ctx.cityCum)
  st.homeStore = rng.int(ctx.storeCount[st.city] ?? 1)
  const gender = GENDER_VALUES[rng.pickCumulative(GENDER_CUM)] ?? ''
  let birthday = ''
  if (rng.chance(0.8)) {
    const age = Math.min(75, 18 + rng.gamma(3) * 6)
    const b = new Date(Math.floor(end - age * 365.25 * DAY) * 1000)
    birthday = isoDate(b.getTime() / 1000)
    st.birthMonth = b.getUTCMonth() + 1
    st.birthDay = b.getUTCDate()
  }

  // Latent behaviour.
  st.lambda = rng.gamma(P.purchase.r) / P.purchase.alpha
  st.p = rng.beta(P.purchase.a, P.purchase.b)
  st.nu = rng.gamma(P.spend.q) / P.spend.gamma
  st.dissatisfied = rng.chance(P.service.dissatisfiedBase + P.service.dissatisfiedPerDropout * st.p)
  st.priceSensitive = rng.chance(P.orders.priceSensitiveShare)
  st.satisfaction = rng.normal()
  const ev = P.events
  const g = rng.gamma(ev.sessionHeterogeneityShape) / ev.sessionHeterogeneityShape
  st.sessionRate = (ev.sessionBase + ev.sessionPerPurchase * st.lambda) * g

  // Identities; duplicates get a store-card row and an app row with disjoint identities.
  // With planted covariate effects every person has one registration (a duplicate would split their orders).
  st.dup =
    regSec < end - 14 * DAY && rng.chance(P.duplicates.share) && ctx.plantedChannelFactor === null
  if (st.dup) {
    const storeFirst = rng.chance(0.5)
    channel = storeFirst ? STORE : 0
    const span = Math.min(P.duplicates.secondRegistrationWithinDays * DAY, end - regSec - 2 * DAY)
    const second = Math.floor(regSec + 3600 + rng.uniform() * (span - 3600))
    st.storeRowSec = storeFirst ? regSec : second
    st.appRowSec = storeFirst ? second : regSec
    st.bothSec = second
    st.storeKinds = CARD | (rng.chance(0.5) ? PHONE : 0)
    st.appKinds = APP | (rng.chance(0.4) ? EMAIL : 0)
    if ((st.storeKinds & PHONE) === 0 && rng.chance(0.9)) st.appKinds |= PHONE
    st.kinds = st.storeKinds | st.appKinds
    const linkSpan = Math.min(P.duplicates.eventLinkWithinDays * DAY, end - second - 120)
    st.linkEventSec = second + 60 + rng.uniform() * Math.max(0, linkSpan - 60)
    st.onlineShare = rng.beta(3, 3)
    st.mainOnline = 0
  } else {
    let k: number
    if (channel === 0) {
      k = APP | (rng.chance(0.95) ? PHONE : 0) | (rng.chance(0.3) ? EMAIL : 0)
      k |= rng.chance(0.25) ? WECHAT : 0
    } else if (channel === 1) {
      k = APP | WECHAT | (rng.chance(0.85) ? PHONE : 0)
    } else if (channel === 2) {
      k = APP | EMAIL | (rng.chance(0.7) ? PHONE : 0)
    } else {
      k = CARD | (rng.chance(0.9) ? PHONE : 0) | (rng.chance(0.1) ? WECHAT : 0)
    }
    st.kinds = k
    const [sa, sb] = ONLINE_SHARE[channel] ?? [1, 1]
    st.onlineShare = rng.beta(sa, sb)
    st.mainOnline = channel < STORE ? channel : rng.int(2)
  }
  st.channel = channel
  // Planted channel effect (an option): a multiplier of the purchase rate, no random draw.
  if (ctx.plantedChannelFactor !== null) st.lambda *= ctx.plantedChannelFactor[channel] ?? 1
  if ((st.kinds & PHONE) !== 0) st.phone = codes.phone(index)
  if ((st.kinds & EMAIL) !== 0) st.email = codes.email(index)
  if ((st.kinds & APP) !== 0) st.appId = codes.appUserId(index)
  if ((st.kinds & CARD) !== 0) st.card = codes.cardNo(index)
  if ((st.kinds & WECHAT) !== 0) st.wechat = codes.wechatUnionId(index)
  // A POS customer id exists for anyone who can be identified in a store; it is introduced later by a
  // store order that carries it together with the card or phone.
  if ((st.kinds & (CARD | PHONE)) !== 0) st.pos = codes.posCustomerId(index)
  st.memberPhoneFormat = rng.pickCumulative(PHONE_FORMAT_CUM)
  const emailForm = rng.uniform() < 0.6 ? 0 : rng.uniform() < 0.75 ? 1 : 2
  st.consentSms = st.phone !== '' && rng.chance(0.8)
  st.consentEmail = st.email !== '' && rng.chance(0.45)
  st.consentWechat = st.wechat !== '' && rng.chance(0.7)
  st.consentPush = st.appId !== '' && rng.chance(0.6)

  if (regSec >= ctx.expStart && regSec < ctx.expEnd) st.expArm = rng.chance(0.5) ? 1 : 0

  simulatePurchases(ctx, st, rng)

  if (st.dup && st.linkSec === Infinity) {
    st.linkSec = st.linkEventSec
    st.linkByEvent = true
    T.linkedByEvent++
  }

  // Member rows (sorted by time before writing, so a duplicate's two rows are not adjacent).
  if (ctx.out.members) {
    if (st.dup) {
      const storeFirst = channel === STORE
      const secondBirthday = rng.chance(0.5) ? birthday : ''
      const secondGender = rng.chance(0.3) ? '' : gender
      const sBirthday = storeFirst ? birthday : secondBirthday
      const aBirthday = storeFirst ? secondBirthday : birthday
      const sGender = storeFirst ? gender : secondGender
      const aGender = storeFirst ? secondGender : gender
      addMemberRow(
        ctx,
        st,
        rng,
        st.storeRowSec,
        STORE,
        st.storeKinds,
        sBirthday,
        sGender,
        emailForm,
      )
      addMemberRow(ctx, st, rng, st.appRowSec, 0, st.appKinds, aBirthday, aGender, emailForm)
    } else {
      addMemberRow(ctx, st, rng, regSec, channel, st.kinds, birthday, gender, emailForm)
    }
  }
  T.persons++
  T.memberRows += st.dup ? 2 : 1
  if (st.dup) T.duplicates++
  const slot = monthIndex(ctx, regSec) * REG_CHANNELS.length + channel
  T.registrations[slot] = (T.registrations[slot] ?? 0) + 1

  if (st.expArm >= 0 && ctx.out.experiments) {
    const byCard = channel === STORE
    const f = ctx.fmt
    const variant = st.expArm === 1 ? 'treatment' : 'control'
    ctx.out.experiments.add(
      `${ctx.experimentId},${variant},${f.ts(regSec)},,${byCard ? '' : st.appId},${byCard ? st.card : ''}`,
    )
  }
  const uh = ctx.universalHoldout
  if (uh !== null && uh.arm >= 0 && ctx.out.experiments) {
    // Identified like the welcome experiment's rows: the first registration's card (store) or app id.
    const byCard = channel === STORE
    ctx.out.experiments.add(
      `${uh.experimentId},${uh.arm === 1 ? 'holdout' : 'program'},${ctx.fmt.ts(uh.sec)},,` +
        `${byCard ? '' : st.appId},${byCard ? st.card : ''}`,
    )
  }

  T.lambdaSum += st.lambda
  T.pSum += st.p
  if (st.priceSensitive) T.priceSensitive++
  if (st.dissatisfied) T.dissatisfied++
  if (st.nOrders > 0) T.personsWithOrders++
  if (st.deathSec < end) T.droppedOut++
  T.expectedBaseOrders += bgNbdExpectedPurchases(
    P.purchase.r,
    P.purchase.alpha,
    P.purchase.a,
    P.purchase.b,
    cal.purchase.between(regSec, end),
  )
  if (index < SAMPLE_SIZE) ctx.sample.push(personTruth(ctx, st, gender))
  if (st.priceSensitive || st.dissatisfied) {
    // One identity the member keeps, for checking the churn-reason classes against the person's type.
    const id = st.phone
      ? `phone:${st.phone}`
      : st.appId
        ? `app_user_id:${st.appId}`
        : st.card
          ? `card_no:${st.card}`
          : `wechat_unionid:${st.wechat}`
    if (st.priceSensitive) ctx.churnTypes.priceSensitive.push(id)
    if (st.dissatisfied) ctx.churnTypes.serviceDissatisfied.push(id)
  }
}

/** The purchase loop: natural BG/NBD purchases merged with the planted extra orders. */
function simulatePurchases(ctx: SimContext, st: PersonState, rng: Rng): void {
  const T = ctx.tallies
  const pt = ctx.cal.purchase
  const end = ctx.cal.endSec
  const lambda = st.lambda
  const p = st.p
  // With planted covariate effects the drop-out is plain BG/NBD: no tier effect.
  const tierMult = ctx.plantedChannelFactor === null ? P.tier.dropoutMultiplier : 1
  const expDays = P.experiment.outcomeDays * DAY
  const wb = P.winback
  const W = ctx.wbSec
  const wbOutcome = W + wb.outcomeDays * DAY

  let alive = true
  let baseAlive = true
  let natural = 0
  let base = 0
  let tNext = pt.next(st.regSec, lambda, rng.exp())
  let couponT = Infinity
  let wbT = Infinity
  if (st.expArm >= 0) {
    const deadline = st.regSec + expDays
    T.expNaturalProbSum += -Math.expm1(-lambda * pt.between(st.regSec, deadline))
    // Planted effect: a treated member who would not buy within the window does so with this chance.
    if (st.expArm === 1 && tNext > deadline && rng.chance(P.experiment.conversion)) {
      couponT = st.regSec + 60 + rng.uniform() * (expDays - 120)
      T.expCouponInduced++
    }
  }
  // A member of the optional universal holdout gets no member campaign from its start on.
  const uh = ctx.universalHoldout
  let wbPending = st.regSec <= W - wb.minTenureDays * DAY && !(uh !== null && uh.heldAt(W))
  // The optional retention campaign draws from its own stream (default runs never enter these branches).
  const up = ctx.uplift
  let upPending = up !== null && !(uh !== null && uh.heldAt(up.sec))
  let upT = Infinity

  for (;;) {
    const natT = alive ? tNext : Infinity
    if (wbPending && Math.min(natT, couponT) > W) {
      wbPending = false
      wbT = decideWinback(ctx, st, rng, alive, natT, wbOutcome)
    }
    if (up !== null && upPending && Math.min(natT, couponT, wbT) > up.sec) {
      upPending = false
      upT = decideUplift(ctx.cal, up, st, alive, natT)
    }
    const t = Math.min(natT, couponT, wbT, upT)
    if (t >= end) break
    if (up !== null && t === upT) {
      // The extra order must not change what later natural orders draw: it introduces no POS id and
      // links no duplicate rows (both change which draws a later order makes).
      const posKnown = st.posKnown
      emitOrder(ctx, st, up.rng, t, UPLIFT_EXTRA)
      st.posKnown = posKnown
      upT = Infinity
      continue
    }
    if (t === couponT) {
      emitOrder(ctx, st, rng, t, COUPON_EXTRA)
      couponT = Infinity
      continue
    }
    if (t === wbT) {
      emitOrder(ctx, st, rng, t, WINBACK_EXTRA)
      wbT = Infinity
      continue
    }
    emitOrder(ctx, st, rng, t, 0)
    natural++
    const u = rng.uniform()
    // Counterfactual without the tier effect: the same draws, with the plain drop-out probability.
    if (baseAlive && u < p) {
      baseAlive = false
      base = natural
    }
    const next = pt.next(t, lambda, rng.exp())
    if (u < (st.tierSec <= t ? p * tierMult : p)) {
      alive = false
      // The person becomes inactive some time before the purchase that will now never happen.
      st.deathSec = t + rng.uniform() * (next - t)
    } else {
      tNext = next
    }
  }
  if (baseAlive) base = natural
  if (up !== null) tallyUplift(up, st)
  if (uh !== null) uh.tallyPerson(st)
  T.naturalOrders += natural
  T.baseProcessOrders += base

  // Realised outcomes, on the whole-second times written to the files.
  if (st.expArm >= 0) {
    let converted = false
    for (let k = 0; k < st.nOrders; k++) {
      if ((st.oTime[k] ?? 0) <= st.regSec + expDays) converted = true
    }
    if (st.expArm === 1) {
      T.expTreatment++
      if (converted) T.expTreatmentConverted++
    } else {
      T.expControl++
      if (converted) T.expControlConverted++
    }
  }
  if (st.wbArm >= 0) {
    let converted = false
    for (let k = 0; k < st.nOrders; k++) {
      const o = st.oTime[k] ?? 0
      if (o > W && o <= wbOutcome) converted = true
    }
    if (converted) {
      if (st.wbArm === 1) T.wbTreatmentConverted++
      else T.wbHoldoutConverted++
    }
  }
}

/**
 * Win-back assignment at the campaign instant W: members registered ≥ 120 days before, with no order in
 * the 90 days before W and reachable by SMS or WeChat, are split 50/50. Returns the time of the planted
 * extra order, or Infinity.
 */
function decideWinback(
  ctx: SimContext,
  st: PersonState,
  rng: Rng,
  alive: boolean,
  nextNatural: number,
  outcomeEnd: number,
): number {
  const W = ctx.wbSec
  const wb = P.winback
  const T = ctx.tallies
  if (st.lastOrderSec > W - wb.inactiveDays * DAY) return Infinity
  const sms = st.consentSms && st.has(PHONE, W)
  const wechat = st.consentWechat && st.has(WECHAT, W)
  if (!sms && !wechat) return Infinity
  st.wbChannel = sms && (!wechat || rng.uniform() < 0.6) ? 0 : 1
  const treated = rng.chance(0.5)
  st.wbArm = treated ? 1 : 0
  st.wbSentSec = treated ? W + rng.int(3600) : W
  T.wbNaturalProbSum += alive
    ? -Math.expm1(-st.lambda * ctx.cal.purchase.between(W, outcomeEnd))
    : 0
  if (!treated) {
    T.wbHoldout++
    return Infinity
  }
  T.wbTreatment++
  if (!(alive && nextNatural <= outcomeEnd) && rng.chance(wb.conversion)) {
    T.wbInduced++
    // After the last touch has gone out (W + 1 h) and inside the outcome window.
    return W + 3660 + rng.uniform() * (wb.outcomeDays * DAY - 7200)
  }
  return Infinity
}

/**
 * A lower bound of the points the person can spend at time `t` on an order placed online (`online`) or in
 * a store, under the rules in MODEL_PARAMETERS.orders.pointsBalance. Before a duplicate's two
 * registrations are linked they are two members, so only the earlier orders of the same side count.
 */
function spendablePointsAtLeast(st: PersonState, t: number, online: boolean): number {
  const B = P.orders.pointsBalance
  const sameSideOnly = st.dup && t < st.linkSec
  let earned = 0
  for (let k = 0; k < st.nOrders; k++) {
    const at = st.oTime[k] ?? 0
    if (at > t - B.spendableAfterDays * DAY || at < t - B.spendableForDays * DAY) continue
    const flags = st.oFlags[k] ?? 0
    if ((flags & (CANCELLED | RETURNED)) !== 0) continue
    if (sameSideOnly && ((flags & ONLINE) !== 0) !== online) continue
    earned += Math.min(Math.floor((st.oNet[k] ?? 0) / 100) * B.earnedPerCny, B.perOrderCap)
  }
  return Math.max(0, earned - st.pointsUsed)
}

/** Writes one order (and its return) and records it in the person's scratch arrays. */
function emitOrder(ctx: SimContext, st: PersonState, rng: Rng, t: number, kind: number): void {
  const T = ctx.tallies
  const cal = ctx.cal
  const sec = Math.floor(t)
  const onlineIds = st.usableKinds(true, t) & (APP | PHONE)
  const storeIds = st.usableKinds(false, t) & (CARD | PHONE)
  let online: boolean
  if (onlineIds !== 0 && storeIds !== 0) {
    const h = cal.localHour(t)
    // Stores open 08:00–22:00 Beijing time.
    online = h < 8 || h >= 22 || rng.uniform() < st.onlineShare
  } else {
    online = onlineIds !== 0
  }

  let chan: number
  let storeId = ''
  let phoneCol = ''
  let appCol = ''
  let cardCol = ''
  let wechatCol = ''
  let posCol = ''
  let idKind = 0
  if (online) {
    chan = rng.uniform() < 0.8 ? st.mainOnline : rng.int(3)
    if ((onlineIds & APP) !== 0 && ((onlineIds & PHONE) === 0 || rng.uniform() < 0.85)) {
      appCol = st.appId
      idKind = BY_APP
    } else {
      const intl = rng.uniform() < 0.2
      phoneCol = formatPhone(st.phone, intl ? 1 : 0)
      idKind = intl ? BY_PHONE_INTL : BY_PHONE
    }
    if (chan === 1 && st.has(WECHAT, t)) wechatCol = st.wechat
  } else {
    chan = STORE
    const ids = ctx.storeIds[st.city] ?? []
    storeId = (rng.uniform() < 0.85 ? ids[st.homeStore] : ids[rng.int(ids.length)]) ?? ''
    if (st.posKnown && rng.uniform() < P.identities.storePosOnly) {
      posCol = st.pos
    } else {
      const usePhone =
        (storeIds & PHONE) !== 0 &&
        ((storeIds & CARD) === 0 || rng.uniform() < P.identities.storePhoneOnly)
      // Cashiers key phones in whatever way; offline systems store them unlike the member file.
      if (usePhone) phoneCol = formatPhone(st.phone, (st.memberPhoneFormat + 1 + rng.int(2)) % 3)
      else cardCol = st.card
      if (!st.posKnown && rng.uniform() < 0.3) {
        posCol = st.pos
        st.posKnown = true
      }
    }
  }
  // The first order after both registrations exist carries both: the app code scanned at the till, or
  // the store card bound in the app. This is the record that lets identity resolution merge the rows.
  if (st.dup && st.linkSec === Infinity && t >= st.bothSec && kind !== UPLIFT_EXTRA) {
    appCol = st.appId
    cardCol = st.card
    st.linkSec = t
    T.linkedByOrder++
  }

  const gross = Math.max(
    P.spend.minimumOrderValue * 100,
    Math.round((rng.gamma(P.spend.p) / st.nu) * 100),
  )
  let disc = 0
  let couponCol = ''
  const expCoupon =
    st.expArm === 1 && !st.expCouponUsed && sec <= st.regSec + P.experiment.outcomeDays * DAY
  if (kind === COUPON_EXTRA || expCoupon) {
    couponCol = P.experiment.couponId
    disc = Math.min(P.experiment.couponValue * 100, gross)
    st.expCouponUsed = true
  } else if (kind === WINBACK_EXTRA) {
    couponCol = P.winback.couponId
    disc = Math.min(P.winback.couponValue * 100, gross)
  } else if (
    rng.uniform() <
    (st.priceSensitive ? P.orders.couponUse.priceSensitive : P.orders.couponUse.other)
  ) {
    let best = -1
    for (let c = 0; c < ctx.couponMin.length; c++) if (gross >= (ctx.couponMin[c] ?? 0)) best = c
    if (best > 0 && rng.uniform() < 0.3) best = rng.int(best)
    if (best >= 0) {
      couponCol = ctx.couponId[best] ?? ''
      disc = ctx.couponValue[best] ?? 0
    }
  }
  const up = ctx.uplift
  if (up !== null && up.couponWindow(sec)) {
    // The campaign's coupon, decided once, on the person's first order in the window: always on the
    // order it brought back, else redeemed with probability ρ (drawn from the campaign's stream, so the
    // natural draws stay as they are).
    const coupon = upliftCoupon(up)
    if (coupon !== null && !up.couponDecided) {
      up.couponDecided = true
      if (kind === UPLIFT_EXTRA || up.rng.chance(up.redemption)) {
        couponCol = coupon.id
        disc = Math.min(coupon.cents, gross)
        up.couponRedeemed = true
      }
    }
  }
  let points = 0
  if (rng.uniform() < P.orders.pointsUseRate) {
    // 100 points = 1 CNY, so one point is one cent of discount; never more than the person can spend.
    const wanted = Math.min(100 * (1 + rng.int(20)), Math.floor((gross - disc) / 100) * 100)
    points = Math.min(wanted, Math.floor(spendablePointsAtLeast(st, t, online) / 100) * 100)
    disc += points
    st.pointsUsed += points
  }
  const net = gross - disc

  const seq = ++ctx.orderSeq
  const orderId = `${online ? 'O' : 'S'}${seq}`
  let flags = (online ? ONLINE : 0) | kind
  let status = 'paid'
  if (kind === 0 && rng.uniform() < P.orders.cancelRate) {
    status = 'cancelled'
    flags |= CANCELLED
    T.cancelled++
  } else if (
    net > 0 &&
    rng.uniform() < (st.dissatisfied ? P.returns.dissatisfiedRate : P.returns.rate)
  ) {
    const R = P.returns
    const rt = t + (R.minDays + rng.uniform() * (R.maxDays - R.minDays)) * DAY
    if (rt < cal.endSec) {
      const full = net < 2 || rng.uniform() < R.fullRefundShare
      const amount = full
        ? net
        : Math.max(1, Math.min(net - 1, Math.round(net * (0.1 + 0.6 * rng.uniform()))))
      status = full ? 'refunded' : 'partially_refunded'
      flags |= RETURNED
      T.returns++
      if (full) T.refunded++
      else T.partiallyRefunded++
      const reason = RETURN_REASONS_CSV[rng.int(RETURN_REASONS_CSV.length)] ?? ''
      ctx.out.returns?.add(
        `R${++ctx.returnSeq},${orderId},${ctx.fmt.ts(rt)},${money(amount)},${reason}`,
      )
    }
  }

  if (couponCol !== '')
    st.couponUses.push({
      code: couponCol,
      sec,
      orderId,
      ids: `${phoneCol},,${appCol},${cardCol},${wechatCol},${posCol}`,
      cancelled: status === 'cancelled',
    })
  ctx.out.orders?.add(
    `${orderId},${ctx.fmt.ts(sec)},${CHANNEL_NAMES[chan]},${storeId},${money(gross)},${money(disc)},` +
      `${money(net)},CNY,${status},${couponCol},${points > 0 ? points : ''},` +
      `${phoneCol},${appCol},${cardCol},${wechatCol},${posCol}`,
  )

  const k = st.pushOrder()
  st.oTime[k] = sec
  st.oSeq[k] = seq
  st.oGross[k] = gross
  st.oNet[k] = net
  st.oFlags[k] = flags
  st.oChannel[k] = chan
  st.oIdentity[k] = idKind
  // The win-back rule reads the natural history, so the optional campaign leaves it as it was.
  if (kind !== UPLIFT_EXTRA) st.lastOrderSec = sec
  T.orders++
  T.grossSum += gross
  if (kind === COUPON_EXTRA) T.couponOrders++
  if (kind === WINBACK_EXTRA) T.winbackOrders++

  // Tier: trailing-window net spend of non-cancelled orders; once reached, it is kept. The optional
  // campaign's extra orders do not count, so they leave the natural purchase process as it was.
  if ((flags & (CANCELLED | UPLIFT_EXTRA)) === 0) {
    st.rollNet += net
    const from = sec - P.tier.windowDays * DAY
    while (st.rollLo < k && (st.oTime[st.rollLo] ?? 0) <= from) {
      if (((st.oFlags[st.rollLo] ?? 0) & (CANCELLED | UPLIFT_EXTRA)) === 0)
        st.rollNet -= st.oNet[st.rollLo] ?? 0
      st.rollLo++
    }
    if (st.tierSec === Infinity && st.rollNet >= P.tier.spendThreshold * 100) {
      st.tierSec = t
      T.tierQualified++
    }
  }
}

/** One members.csv row for a registration with the identity kinds `kinds`. */
function addMemberRow(
  ctx: SimContext,
  st: PersonState,
  rng: Rng,
  rowSec: number,
  channel: number,
  kinds: number,
  birthday: string,
  gender: string,
  emailForm: number,
): void {
  const sources = ctx.sourceCsv[channel] ?? []
  const attributes = sources[rng.int(sources.length)] ?? ''
  const has = (k: number): boolean => (kinds & k) !== 0
  const line =
    `${ctx.fmt.ts(rowSec)},${REG_CHANNELS[channel]},${ctx.regionCsv[st.city]},${ctx.cityCsv[st.city]},` +
    `${birthday},${gender},${attributes},` +
    `${st.consentSms && has(PHONE)},${st.consentEmail && has(EMAIL)},` +
    `${st.consentWechat && has(WECHAT)},${st.consentPush && has(APP)},` +
    `${has(PHONE) ? formatPhone(st.phone, st.memberPhoneFormat) : ''},` +
    `${has(EMAIL) ? emailVariant(st.email, emailForm) : ''},` +
    `${has(APP) ? st.appId : ''},${has(CARD) ? st.card : ''},${has(WECHAT) ? st.wechat : ''}`
  ctx.memberRows.push([rowSec, line, st.index])
}

/** Index of the calendar month (in ctx.monthStarts) containing `sec`. */
function monthIndex(ctx: SimContext, sec: number): number {
  const m = ctx.monthStarts
  let i = m.length - 1
  while (i > 0 && (m[i] ?? 0) > sec) i--
  return i
}

function personTruth(ctx: SimContext, st: PersonState, gender: string): PersonTruth {
  const f = ctx.fmt
  const identities: PersonTruth['identities'] = {}
  if (st.phone) identities.phone = st.phone
  if (st.email) identities.email = st.email
  if (st.appId) identities.app_user_id = st.appId
  if (st.card) identities.card_no = st.card
  if (st.wechat) identities.wechat_unionid = st.wechat
  if (st.posKnown) identities.pos_customer_id = st.pos
  return {
    index: st.index,
    registeredAt: f.ts(st.regSec),
    registrationChannel: REG_CHANNELS[st.channel] ?? 'app',
    gender,
    duplicate: st.dup,
    memberRows: st.dup ? 2 : 1,
    linkedAt: st.dup ? f.ts(st.linkSec) : null,
    identities,
    lambda: st.lambda,
    p: st.p,
    nu: st.nu,
    meanOrderValue: P.spend.p / st.nu,
    priceSensitive: st.priceSensitive,
    serviceDissatisfied: st.dissatisfied,
    dropoutAt: st.deathSec < ctx.cal.endSec ? f.ts(st.deathSec) : null,
    tierAt: st.tierSec < ctx.cal.endSec ? f.ts(st.tierSec) : null,
    orders: st.nOrders,
    experimentArm: st.expArm < 0 ? null : st.expArm === 1 ? 'treatment' : 'control',
    winbackArm: st.wbArm < 0 ? null : st.wbArm === 1 ? 'treatment' : 'holdout',
  }
}
