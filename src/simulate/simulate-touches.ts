/**
 * Campaign touches: a welcome message per registration, birthday greetings, monthly and festival promos
 * to a random share of consenting members, and the win-back campaign (treatment and holdout rows).
 * Only the win-back campaign has a planted effect (applied in the purchase loop). Members of the optional
 * universal holdout (universal-holdout.ts) get no touch from its start on; the draws are made all the same.
 * @module
 */
import { csvField, money } from './csv-format.js'
import { MODEL_PARAMETERS } from './model-parameters.js'
import { APP, EMAIL, PHONE, WECHAT, type PersonState } from './person-state.js'
import type { Rng } from '../core/random.js'
import type { SimContext } from './sim-context.js'

const M = MODEL_PARAMETERS
const SMS = 0
const MAIL = 1
const WX = 2
const PUSH = 3
const TOUCH_CHANNELS = ['sms', 'email', 'wechat', 'push'] as const
const COST = TOUCH_CHANNELS.map((c) => money(Math.round(M.touches.costPerTouch[c] * 100)))
const WINBACK_COST = [
  money(Math.round(M.winback.costPerTouch.sms * 100)),
  money(Math.round(M.winback.costPerTouch.wechat * 100)),
]
const WELCOME_OFFER = csvField('新人礼包 welcome pack')
const BIRTHDAY_OFFER = csvField('birthday coupon 20 CNY')
const WINBACK_OFFER = csvField(M.winback.offer)
const choices: number[] = []

/** Identity columns (phone, email, app_user_id, wechat_unionid) for a touch on channel `ch`. */
function ids(st: PersonState, ch: number): string {
  if (ch === SMS) return `${st.phone},,,`
  if (ch === MAIL) return `,${st.email},,`
  if (ch === WX) return `,,,${st.wechat}`
  return `,,${st.appId},`
}

/** Channels the person can be reached on at `t` (with consent), limited to identity kinds `kinds`. */
function reachable(st: PersonState, t: number, kinds: number, out: number[]): number[] {
  out.length = 0
  if (st.consentSms && (kinds & PHONE) !== 0 && st.has(PHONE, t)) out.push(SMS)
  if (st.consentEmail && (kinds & EMAIL) !== 0 && st.has(EMAIL, t)) out.push(MAIL)
  if (st.consentWechat && (kinds & WECHAT) !== 0 && st.has(WECHAT, t)) out.push(WX)
  if (st.consentPush && (kinds & APP) !== 0 && st.has(APP, t)) out.push(PUSH)
  return out
}

function firstOf(available: readonly number[], preference: readonly number[]): number {
  for (const ch of preference) if (available.includes(ch)) return ch
  return -1
}

/** Writes the person's touches. */
export function simulateTouches(ctx: SimContext, st: PersonState, rng: Rng): void {
  const w = ctx.out.touches
  if (!w) return
  const f = ctx.fmt
  const end = ctx.cal.endSec
  const held = ctx.universalHoldout
  const row = (campaign: string, ch: number, kind: string, t: number, offer: string): void => {
    // A member of the optional universal holdout gets no touch from its start on.
    if (t >= end || (held !== null && held.heldAt(t))) return
    w.add(
      `${campaign},${TOUCH_CHANNELS[ch]},${kind},${f.ts(t)},${offer},${COST[ch]},treatment,${ids(st, ch)}`,
    )
  }

  // Welcome, once per registration (a duplicate is welcomed twice, once per member record).
  const regs = st.dup
    ? [
        [st.storeRowSec, st.storeKinds],
        [st.appRowSec, st.appKinds],
      ]
    : [[st.regSec, st.kinds]]
  for (const [sec = 0, kinds = 0] of regs) {
    const t = sec + 60 + rng.int(540)
    const ch = firstOf(reachable(st, t, kinds, choices), [PUSH, SMS, WX, MAIL])
    if (ch >= 0) row('welcome', ch, 'welcome', t, WELCOME_OFFER)
  }

  // Birthday greetings at 09:00 Beijing time.
  if (st.birthMonth > 0) {
    const y0 = new Date(st.regSec * 1000).getUTCFullYear()
    const y1 = new Date(end * 1000).getUTCFullYear()
    for (let y = y0; y <= y1; y++) {
      const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
      const day = st.birthMonth === 2 && st.birthDay === 29 && !leap ? 28 : st.birthDay
      const t = Date.UTC(y, st.birthMonth - 1, day) / 1000 + 3600
      if (t <= st.regSec || t >= end) continue
      const ch = firstOf(reachable(st, t, st.kinds, choices), [SMS, WX, PUSH, MAIL])
      if (ch >= 0) row(`birthday_${y}`, ch, 'birthday', t, BIRTHDAY_OFFER)
    }
  }

  for (const promo of ctx.promos) {
    if (promo.sec <= st.regSec || rng.uniform() >= M.touches.promoShare) continue
    const available = reachable(st, promo.sec, st.kinds, choices)
    if (available.length === 0) continue
    const ch = available[rng.int(available.length)] ?? SMS
    row(promo.id, ch, 'promo', promo.sec + rng.int(1800), csvField(promo.offer))
  }

  if (st.wbArm >= 0) {
    const ch = st.wbChannel === 0 ? SMS : WX
    const treated = st.wbArm === 1
    w.add(
      `${ctx.wbCampaignId},${TOUCH_CHANNELS[ch]},winback,${f.ts(st.wbSentSec)},${WINBACK_OFFER},` +
        `${treated ? WINBACK_COST[st.wbChannel] : '0.00'},${treated ? 'treatment' : 'holdout'},` +
        ids(st, ch),
    )
  }
}
