/**
 * The coupons file: one row per coupon issued to a person, with the order it was redeemed on.
 *
 * Every order that carries a coupon code (written by the purchase loop) is a redemption, so the coupons
 * agree with orders.coupon_id by construction; the issues that were never used are added here:
 * - the new-member experiment's coupon (NEWMEMBER30) is issued to every treatment member at assignment and
 *   is valid for the experiment's outcome window;
 * - the win-back coupon (WINBACK20) is issued to every treatment member of the win-back campaign at the
 *   send and is valid for its outcome window (only the orders the touch brought back use it);
 * - the optional retention campaign's coupons (RETAIN10, RETAIN20) likewise, to its coupon arms;
 * - the store's threshold coupons (满减, `catalog.ts` COUPONS, campaign = the coupon code) are issued
 *   1–30 days before the order that uses them and are valid for 30 days; each one used comes with a
 *   geometric number of others of its kind, issued in the 90 days before it and never used, so that the
 *   share used is {@link COUPON_PARAMETERS}.storeRedemption for the person's type.
 * A coupon of a cancelled order is not redeemed (it goes back to the member and expires).
 *
 * Draws come from the person's own coupon stream, so no other file changes with this one; identity
 * columns are those of the order (redeemed) or of the touch or assignment (issued only), so a coupon row
 * never links two member records.
 * @module
 */
import { COUPONS } from './catalog.js'
import { DAY, HOUR } from './calendar.js'
import { money } from './csv-format.js'
import { MODEL_PARAMETERS } from './model-parameters.js'
import { APP, PHONE, WECHAT, type CouponUse, type PersonState } from './person-state.js'
import type { Rng } from '../core/random.js'
import type { SimContext } from './sim-context.js'
import { COUPON_PARAMETERS } from './coupon-tallies.js'
import { UPLIFT_PARAMETERS, upliftCoupon } from './uplift-campaign.js'

const STORE_CHANNEL = 3
const STORE_BY_CODE = new Map(COUPONS.map((c) => [c.id, c]))

interface Campaign {
  readonly campaign: string
  readonly faceCents: number
  readonly thresholdCents: number | null
  readonly issuedSec: number
  readonly expiresSec: number
  /** Identity columns for an issue that was never used. */
  readonly ids: string
}

/** Identity columns (coupons.csv order) holding one identity. */
const idsOf = {
  phone: (v: string) => `${v},,,,,`,
  app: (v: string) => `,,${v},,,`,
  card: (v: string) => `,,,${v},,`,
  wechat: (v: string) => `,,,,${v},`,
}

/** The targeted campaigns the person holds a coupon of (one coupon each). */
function targetedCampaigns(ctx: SimContext, st: PersonState): Map<string, Campaign> {
  const P = MODEL_PARAMETERS
  const out = new Map<string, Campaign>()
  if (st.expArm === 1) {
    // As the experiments row identifies the member: the card for store registrations, else the app id.
    const ids = st.channel === STORE_CHANNEL ? idsOf.card(st.card) : idsOf.app(st.appId)
    out.set(P.experiment.couponId, {
      campaign: ctx.experimentId,
      faceCents: P.experiment.couponValue * 100,
      thresholdCents: null,
      issuedSec: st.regSec,
      expiresSec: st.regSec + P.experiment.outcomeDays * DAY,
      ids,
    })
  }
  if (st.wbArm === 1) {
    out.set(P.winback.couponId, {
      campaign: ctx.wbCampaignId,
      faceCents: P.winback.couponValue * 100,
      thresholdCents: null,
      issuedSec: st.wbSentSec,
      expiresSec: ctx.wbSec + P.winback.outcomeDays * DAY,
      ids: st.wbChannel === 0 ? idsOf.phone(st.phone) : idsOf.wechat(st.wechat),
    })
  }
  const up = ctx.uplift
  const coupon = up === null ? null : upliftCoupon(up)
  if (up !== null && coupon !== null) {
    const ch = up.channel
    out.set(coupon.id, {
      campaign: up.campaignId,
      faceCents: coupon.cents,
      thresholdCents: null,
      issuedSec: up.sentSec,
      expiresSec: up.sec + UPLIFT_PARAMETERS.outcomeDays * DAY,
      ids:
        ch === 0 ? idsOf.phone(st.phone) : ch === 1 ? idsOf.wechat(st.wechat) : idsOf.app(st.appId),
    })
  }
  return out
}

/** An identity the person holds at `t` for a store coupon that was never used (empty: none yet). */
function anyIdentity(st: PersonState, t: number): string {
  if (st.has(PHONE, t)) return idsOf.phone(st.phone)
  if (st.has(APP, t)) return idsOf.app(st.appId)
  if (st.has(WECHAT, t)) return idsOf.wechat(st.wechat)
  return ''
}

/** Writes the person's coupons (issued, and redeemed where used) to coupons.csv and tallies them. */
export function simulateCoupons(ctx: SimContext, st: PersonState, rng: Rng): void {
  const w = ctx.out.coupons
  const tally = ctx.coupons
  const f = ctx.fmt
  const end = ctx.cal.endSec
  const row = (
    campaign: string,
    faceCents: number,
    thresholdCents: number | null,
    issued: number,
    expires: number,
    use: CouponUse | null,
    ids: string,
  ): void => {
    const redeemed = use !== null && !use.cancelled
    tally.add(campaign, redeemed, faceCents)
    w?.add(
      `CP${++tally.seq},${campaign},${f.ts(issued)},${money(faceCents)},` +
        `${thresholdCents === null ? '' : money(thresholdCents)},${f.ts(expires)},` +
        `${redeemed ? `${f.ts(use.sec)},${use.orderId}` : ','},${use === null ? ids : use.ids}`,
    )
  }

  const targeted = targetedCampaigns(ctx, st)
  const used = new Set<string>()
  const S = COUPON_PARAMETERS
  const keep = st.priceSensitive ? S.storeRedemption.priceSensitive : S.storeRedemption.other
  for (const use of st.couponUses) {
    const t = targeted.get(use.code)
    if (t !== undefined && !used.has(use.code)) {
      used.add(use.code)
      row(
        t.campaign,
        t.faceCents,
        t.thresholdCents,
        t.issuedSec,
        Math.max(t.expiresSec, use.sec),
        use,
        t.ids,
      )
      continue
    }
    const store = STORE_BY_CODE.get(use.code)
    if (store === undefined) continue
    const lead = (1 + rng.uniform() * (S.storeIssueLeadDays - 1)) * DAY
    const issued = Math.max(st.regSec, use.sec - Math.floor(lead))
    row(
      use.code,
      store.value * 100,
      store.min * 100,
      issued,
      issued + S.storeValidDays * DAY,
      use,
      '',
    )
    if (use.cancelled) continue
    // Coupons of the same kind issued and never used: failures before this success, each issued in the
    // months before it (so that the share used does not drift with the person's activity).
    const unused = Math.floor(Math.log(1 - rng.uniform()) / Math.log(1 - keep))
    for (let k = 0; k < unused; k++) {
      const back = Math.floor(HOUR + rng.uniform() * S.unusedWithinDays * DAY)
      const at = Math.max(st.regSec, use.sec - back)
      const ids = anyIdentity(st, at)
      if (ids === '') continue
      row(use.code, store.value * 100, store.min * 100, at, at + S.storeValidDays * DAY, null, ids)
    }
  }
  for (const [code, t] of targeted) {
    if (used.has(code) || t.issuedSec >= end) continue
    row(t.campaign, t.faceCents, t.thresholdCents, t.issuedSec, t.expiresSec, null, t.ids)
  }
}
