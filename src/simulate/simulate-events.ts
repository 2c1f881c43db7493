/**
 * Behaviour events. Two kinds of sessions:
 * - browse sessions, a Poisson process at the person's session rate σ (tied to their purchase rate) on
 *   the session clock, fading linearly to zero over the last weeks before the drop-out moment and nearly
 *   silent afterwards — the "disengaged" early-warning signal;
 * - checkout sessions that end at each online order.
 * Plus the card-binding login that links a duplicate's two registrations when no order does.
 * @module
 */
import { CATEGORIES, PAGES, SEARCH_TERMS } from './catalog.js'
import { WEEK } from './calendar.js'
import { csvJson } from './csv-format.js'
import { formatPhone } from './identity-codes.js'
import { MODEL_PARAMETERS } from './model-parameters.js'
import { APP, BY_APP, BY_PHONE_INTL, ONLINE, PHONE, type PersonState } from './person-state.js'
import type { Rng } from '../core/random.js'
import type { SimContext } from './sim-context.js'
import { CHANNEL_NAMES } from './simulate-person.js'

const E = MODEL_PARAMETERS.events
const PAGE_PROPS = PAGES.map((page) => csvJson({ page }))
const SEARCH_PROPS = SEARCH_TERMS.map((q) => csvJson({ q }))
const START_PROPS = [
  [csvJson({ os: 'ios' }), csvJson({ os: 'android' })],
  [csvJson({ scene: 'chat' }), csvJson({ scene: 'moments' }), csvJson({ scene: 'search' })],
  [csvJson({ browser: 'chrome' }), csvJson({ browser: 'safari' }), csvJson({ browser: 'edge' })],
]
const CHECK_IN_PROPS = csvJson({ points: 5 })
const SHARE_PROPS = csvJson({ target: 'wechat_friend' })
const BENEFIT_PROPS = [csvJson({ benefit: 'free_delivery' }), csvJson({ benefit: 'member_price' })]
const COUPON_PROPS = [csvJson({ coupon_id: 'MJ99-20' }), csvJson({ coupon_id: 'MJ50-10' })]
const STEP_PROPS = [csvJson({ step: 1 }), csvJson({ step: 2 })]
const BIND_CARD_PROPS = csvJson({ action: 'bind_card' })
/** Median browse session length: 150 s. */
const LOG_MEDIAN_SESSION = Math.log(150)

function cartProps(rng: Rng, ctx: SimContext): string {
  const cat = CATEGORIES[rng.pickCumulative(ctx.categoryCum)]
  const code = cat?.code ?? 'FF'
  const sku = `${code}-${String(Math.floor((cat?.skus ?? 100) * rng.uniform() ** 2)).padStart(4, '0')}`
  return `"{""sku"":""${sku}"",""qty"":${1 + rng.int(3)}}"`
}

/** Writes the person's events. */
export function simulateEvents(ctx: SimContext, st: PersonState, rng: Rng): void {
  const w = ctx.out.events
  if (!w) return
  const cal = ctx.cal
  const ses = cal.session
  const end = cal.endSec
  const f = ctx.fmt
  const sigma = st.sessionRate
  const D = st.deathSec
  const fadeLen = E.fadeWeeks * WEEK
  const fadeStart = D - fadeLen
  const after = sigma * E.afterDropoutMultiplier

  /** Next browse session start after `from` (exact thinning of the fading Poisson process). */
  const nextBrowse = (from: number): number => {
    let t = from
    for (;;) {
      if (t < fadeStart) {
        const c = ses.next(t, sigma, rng.exp())
        if (c < fadeStart) return c
        t = fadeStart // memoryless: restart the clock at the segment boundary
      } else if (t < D) {
        const c = ses.next(t, sigma, rng.exp())
        if (c >= D) {
          t = D
          continue
        }
        if (rng.uniform() * fadeLen < D - c) return c
        t = c
      } else {
        return ses.next(t, after, rng.exp())
      }
    }
  }

  let tb = (st.kinds & (APP | PHONE)) !== 0 && sigma > 0 ? nextBrowse(st.regSec) : Infinity
  let oi = nextOnline(st, 0)
  let tl = st.linkByEvent ? st.linkSec : Infinity

  for (;;) {
    const to = oi < st.nOrders ? (st.oTime[oi] ?? Infinity) : Infinity
    const t = Math.min(tb, to, tl)
    if (t >= end) break
    // Every event of a session falls within an hour of its start (browse sessions last at most 3600 s).
    st.lastEventSec = t + 3600
    if (t === tl) {
      w.add(`E${++ctx.eventSeq},${f.ts(tl)},login,,,app,${BIND_CARD_PROPS},${st.appId},,${st.card}`)
      tl = Infinity
    } else if (t === to) {
      checkoutSession(ctx, st, rng, oi)
      oi = nextOnline(st, oi + 1)
    } else {
      browseSession(ctx, st, rng, tb)
      tb = nextBrowse(tb)
    }
  }
}

function nextOnline(st: PersonState, from: number): number {
  let k = from
  while (k < st.nOrders && ((st.oFlags[k] ?? 0) & ONLINE) === 0) k++
  return k
}

/** One browse session starting at `t0`. */
function browseSession(ctx: SimContext, st: PersonState, rng: Rng, t0: number): void {
  const w = ctx.out.events
  if (!w) return
  const usable = st.usableKinds(true, t0)
  let ids: string
  if ((usable & APP) !== 0 && ((usable & PHONE) === 0 || rng.uniform() < 0.85)) {
    ids = `${st.appId},,`
  } else if ((usable & PHONE) !== 0) {
    ids = `,${formatPhone(st.phone, rng.uniform() < 0.8 ? 0 : 1)},`
  } else {
    return // no online identity yet (a duplicate before its app registration)
  }
  const end = ctx.cal.endSec
  const f = ctx.fmt
  const chan = rng.uniform() < 0.8 ? st.mainOnline : rng.int(3)
  const ch = CHANNEL_NAMES[chan]
  const startProps = START_PROPS[chan] ?? []
  const sid = `S${++ctx.sessionSeq}`
  const dur = Math.min(3600, Math.max(5, Math.round(rng.logNormal(LOG_MEDIAN_SESSION, 0.9))))
  w.add(
    `E${++ctx.eventSeq},${f.ts(t0)},session_start,${sid},${dur},${ch},` +
      `${startProps[rng.int(startProps.length)]},${ids}`,
  )
  if (rng.uniform() < 0.35 && t0 + 1 < end)
    w.add(`E${++ctx.eventSeq},${f.ts(t0 + 1)},login,${sid},,${ch},,${ids}`)

  const views = rng.poisson(E.meanPageViewsPerSession)
  const search = rng.uniform() < 0.35
  const cart = rng.uniform() < 0.2
  const checkIn = rng.uniform() < (st.priceSensitive ? 0.25 : 0.1)
  const share = rng.uniform() < 0.03
  const coupon = rng.uniform() < (st.priceSensitive ? 0.15 : 0.03)
  const benefit = st.subscribedAt(t0) ? rng.uniform() < 0.3 : rng.uniform() < 0.01
  const n =
    views +
    (search ? 1 : 0) +
    (cart ? 1 : 0) +
    (checkIn ? 1 : 0) +
    (share ? 1 : 0) +
    (coupon ? 1 : 0) +
    (benefit ? 1 : 0)
  const step = dur / (n + 1)
  let t = t0 + 2
  const emit = (type: string, duration: string, props: string): void => {
    t += step * (0.5 + rng.uniform())
    if (t >= end) return
    w.add(`E${++ctx.eventSeq},${f.ts(t)},${type},${sid},${duration},${ch},${props},${ids}`)
  }
  if (checkIn) emit('check_in', '', CHECK_IN_PROPS)
  for (let v = 0; v < views; v++) {
    emit('page_view', String(3 + rng.int(120)), PAGE_PROPS[rng.int(PAGE_PROPS.length)] ?? '')
    if (v === 0 && search) emit('search', '', SEARCH_PROPS[rng.int(SEARCH_PROPS.length)] ?? '')
  }
  if (views === 0 && search) emit('search', '', SEARCH_PROPS[rng.int(SEARCH_PROPS.length)] ?? '')
  if (cart) emit('add_to_cart', '', cartProps(rng, ctx))
  if (coupon) emit('coupon_claim', '', COUPON_PROPS[rng.int(COUPON_PROPS.length)] ?? '')
  if (benefit) emit('benefit_use', '', BENEFIT_PROPS[rng.int(BENEFIT_PROPS.length)] ?? '')
  if (share) emit('share', '', SHARE_PROPS)
}

/** The session that ends with online order `o`: browse, add to cart, two checkout steps. */
function checkoutSession(ctx: SimContext, st: PersonState, rng: Rng, o: number): void {
  const w = ctx.out.events
  if (!w) return
  const f = ctx.fmt
  const tOrder = st.oTime[o] ?? 0
  const how = st.oIdentity[o] ?? BY_APP
  const ids =
    how === BY_APP ? `${st.appId},,` : `,${formatPhone(st.phone, how === BY_PHONE_INTL ? 1 : 0)},`
  const chan = st.oChannel[o] ?? 0
  const ch = CHANNEL_NAMES[chan]
  const dur = 120 + rng.int(780)
  const t0 = Math.max(st.regSec, tOrder - dur)
  const sid = `S${++ctx.sessionSeq}`
  const startProps = START_PROPS[chan] ?? []
  w.add(
    `E${++ctx.eventSeq},${f.ts(t0)},session_start,${sid},${Math.round(tOrder - t0)},${ch},` +
      `${startProps[rng.int(startProps.length)]},${ids}`,
  )
  const views = 1 + rng.int(2)
  const carts = 1 + rng.int(3)
  const step = (tOrder - t0) / (views + carts + 3)
  let t = t0
  for (let v = 0; v < views; v++) {
    t += step
    w.add(
      `E${++ctx.eventSeq},${f.ts(t)},page_view,${sid},${Math.round(step)},${ch},` +
        `${PAGE_PROPS[2]},${ids}`,
    )
  }
  for (let c = 0; c < carts; c++) {
    t += step
    w.add(`E${++ctx.eventSeq},${f.ts(t)},add_to_cart,${sid},,${ch},${cartProps(rng, ctx)},${ids}`)
  }
  for (let s = 0; s < 2; s++) {
    t += step
    w.add(`E${++ctx.eventSeq},${f.ts(t)},checkout_step,${sid},,${ch},${STEP_PROPS[s]},${ids}`)
  }
}
