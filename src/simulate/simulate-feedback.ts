/**
 * Feedback: NPS surveys and reviews after orders, complaints and support tickets (with CSAT) as hazards
 * that rise for service-dissatisfied persons and in the weeks before drop-out, and a trickle of
 * suggestions, social comments and message-board posts. Texts are short zh / en phrases.
 * @module
 */
import {
  COMPLAINT_TEXTS,
  MESSAGE_BOARD_TEXTS,
  NPS_COMMENTS,
  REVIEW_TEXTS,
  SOCIAL_TEXTS,
  SUGGESTION_TEXTS,
  TICKET_TEXTS,
} from './catalog.js'
import { DAY, WEEK } from './calendar.js'
import { csvField } from './csv-format.js'
import { emailVariant, formatPhone } from './identity-codes.js'
import { MODEL_PARAMETERS } from './model-parameters.js'
import {
  APP,
  CANCELLED,
  CARD,
  EMAIL,
  ONLINE,
  PHONE,
  RETURNED,
  WECHAT,
  type PersonState,
} from './person-state.js'
import type { Rng } from '../core/random.js'
import type { SimContext } from './sim-context.js'

const F = MODEL_PARAMETERS.feedback
const CH_APP = 0
const CH_SMS = 1
const CH_EMAIL = 2
const CH_HOTLINE = 3
const CH_WECHAT = 4
const CH_STORE = 5
const CHANNELS = ['app', 'sms', 'email', 'hotline', 'wechat', 'store']
const FALLBACK = [CH_APP, CH_SMS, CH_STORE, CH_WECHAT, CH_EMAIL]

const csv = (list: readonly string[]): string[] => list.map(csvField)
const REVIEW_CSV = REVIEW_TEXTS.map(csv)
const NPS_CSV = NPS_COMMENTS.map(csv)
const COMPLAINT_CSV = csv(COMPLAINT_TEXTS)
const TICKET_CSV = csv(TICKET_TEXTS)
const SUGGESTION_CSV = csv(SUGGESTION_TEXTS)
const SOCIAL_CSV = csv(SOCIAL_TEXTS)
const BOARD_CSV = csv(MESSAGE_BOARD_TEXTS)

// Per-person buffers, reused: rows are sorted by time before they get their ids.
const times: number[] = []
const lines: string[] = []
const order: number[] = []

function pick(rng: Rng, list: readonly string[]): string {
  return list[rng.int(list.length)] ?? ''
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x
}

/**
 * Identity columns (phone, email, app_user_id, card_no, wechat_unionid) for feedback arriving through
 * channel `ch` at `t`, or '' if the person has no identity for it.
 */
function identityFor(st: PersonState, rng: Rng, ch: number, t: number): string {
  switch (ch) {
    case CH_APP:
      return st.has(APP, t) ? `,,${st.appId},,` : ''
    case CH_SMS:
      return st.has(PHONE, t) ? `${st.phone},,,,` : ''
    case CH_EMAIL:
      return st.has(EMAIL, t) ? `,${emailVariant(st.email, [0, 2, 3][rng.int(3)] ?? 0)},,,` : ''
    case CH_HOTLINE:
      return st.has(PHONE, t) ? `${formatPhone(st.phone, 1 + rng.int(2))},,,,` : ''
    case CH_WECHAT:
      return st.has(WECHAT, t) ? `,,,,${st.wechat}` : ''
    case CH_STORE:
      if (st.has(CARD, t)) return `,,,${st.card},`
      return st.has(PHONE, t) ? `${formatPhone(st.phone, 2)},,,,` : ''
    default:
      return ''
  }
}

/** Queues one feedback row through the preferred channel, falling back to any channel that works. */
function add(
  st: PersonState,
  rng: Rng,
  ctx: SimContext,
  t: number,
  kind: string,
  score: string,
  text: string,
  preferred: number,
): void {
  if (t >= ctx.cal.endSec) return
  let ch = preferred
  let ids = identityFor(st, rng, ch, t)
  for (let k = 0; ids === '' && k < FALLBACK.length; k++) {
    ch = FALLBACK[k] ?? CH_APP
    ids = identityFor(st, rng, ch, t)
  }
  if (ids === '') return
  times.push(t)
  lines.push(`,${ctx.fmt.ts(t)},${kind},${score},${text},${CHANNELS[ch]},${ids}`)
}

/** Writes the person's feedback rows. */
export function simulateFeedback(ctx: SimContext, st: PersonState, rng: Rng): void {
  const w = ctx.out.feedback
  if (!w) return
  times.length = 0
  lines.length = 0
  const end = ctx.cal.endSec
  const D = st.deathSec
  const near = F.nearChurnWeeks * WEEK
  // 0 far from drop-out, rising linearly to 1 at the drop-out moment (and after it).
  const closeness = (t: number): number => (D === Infinity ? 0 : clamp(1 - (D - t) / near, 0, 1))
  const diss = st.dissatisfied ? 1 : 0

  for (let o = 0; o < st.nOrders; o++) {
    const flags = st.oFlags[o] ?? 0
    if ((flags & CANCELLED) !== 0) continue
    const tOrder = st.oTime[o] ?? 0
    const returned = (flags & RETURNED) !== 0 ? 1 : 0
    if (rng.uniform() < F.npsAfterOrder) {
      const t = tOrder + (1 + 2 * rng.uniform()) * DAY
      const mu =
        F.npsBase +
        st.satisfaction -
        F.npsDissatisfiedPenalty * diss -
        F.npsNearChurnPenalty * closeness(t) -
        returned
      const score = clamp(Math.round(mu + 1.2 * rng.normal()), 0, 10)
      const text =
        rng.uniform() < 0.25 ? pick(rng, NPS_CSV[score <= 6 ? 0 : score <= 8 ? 1 : 2] ?? []) : ''
      const u = rng.uniform()
      add(
        st,
        rng,
        ctx,
        t,
        'nps',
        String(score),
        text,
        u < 0.5 ? CH_SMS : u < 0.7 ? CH_EMAIL : CH_APP,
      )
    }
    if ((flags & ONLINE) !== 0 && rng.uniform() < F.reviewAfterOnlineOrder) {
      const t = tOrder + (2 + 5 * rng.uniform()) * DAY
      const mu = 4.2 + 0.5 * st.satisfaction - 1.2 * diss - 1.5 * closeness(t) - 1.2 * returned
      const score = clamp(Math.round(mu + 0.8 * rng.normal()), 1, 5)
      const text = pick(rng, REVIEW_CSV[score <= 2 ? 0 : score === 3 ? 1 : 2] ?? [])
      add(st, rng, ctx, t, 'review', String(score), text, CH_APP)
    }
    if (returned && rng.uniform() < F.complaintAfterReturn) {
      const t = tOrder + (3 + 12 * rng.uniform()) * DAY
      add(
        st,
        rng,
        ctx,
        t,
        'complaint',
        '',
        pick(rng, COMPLAINT_CSV),
        rng.chance(0.5) ? CH_HOTLINE : CH_APP,
      )
    }
  }

  // Hazards on the session clock (so they follow the time of day), thinned for the pre-churn rise.
  const ses = ctx.cal.session
  const hazard = (
    perWeek: number,
    boost: number,
    until: number,
    emit: (t: number) => void,
  ): void => {
    if (perWeek <= 0) return
    let t = st.regSec
    for (;;) {
      t = ses.next(t, perWeek * (1 + boost), rng.exp())
      if (t >= until) return
      if (rng.uniform() * (1 + boost) < 1 + boost * closeness(t)) emit(t)
    }
  }
  const lateEnd = Math.min(end, D + 4 * WEEK)
  const aliveEnd = Math.min(end, D)
  hazard(
    F.complaintPerWeek * (diss ? F.dissatisfiedComplaintMultiplier : 1),
    F.nearChurnComplaintBoost,
    lateEnd,
    (t) => {
      const u = rng.uniform()
      add(
        st,
        rng,
        ctx,
        t,
        'complaint',
        '',
        pick(rng, COMPLAINT_CSV),
        u < 0.4 ? CH_HOTLINE : u < 0.8 ? CH_APP : CH_STORE,
      )
    },
  )
  hazard(
    F.ticketPerWeek * (diss ? F.dissatisfiedTicketMultiplier : 1),
    F.nearChurnTicketBoost,
    lateEnd,
    (t) => {
      const u = rng.uniform()
      const ch = u < 0.5 ? CH_APP : u < 0.9 ? CH_HOTLINE : CH_WECHAT
      add(st, rng, ctx, t, 'support_ticket', '', pick(rng, TICKET_CSV), ch)
      if (rng.uniform() < F.csatAfterTicket) {
        const mu = 3.8 + 0.6 * st.satisfaction - diss - closeness(t)
        const score = clamp(Math.round(mu + 0.8 * rng.normal()), 1, 5)
        add(st, rng, ctx, t + DAY * (0.5 + rng.uniform()), 'csat', String(score), '', ch)
      }
    },
  )
  hazard(F.suggestionPerWeek, 0, aliveEnd, (t) => {
    add(
      st,
      rng,
      ctx,
      t,
      'suggestion',
      '',
      pick(rng, SUGGESTION_CSV),
      rng.chance(0.6) ? CH_APP : CH_STORE,
    )
  })
  hazard(F.socialCommentPerWeek, 0, aliveEnd, (t) => {
    add(st, rng, ctx, t, 'social_comment', '', pick(rng, SOCIAL_CSV), CH_WECHAT)
  })
  hazard(F.messageBoardPerWeek, 0, aliveEnd, (t) => {
    add(st, rng, ctx, t, 'message_board', '', pick(rng, BOARD_CSV), CH_APP)
  })

  order.length = 0
  for (let k = 0; k < times.length; k++) order.push(k)
  order.sort((a, b) => (times[a] ?? 0) - (times[b] ?? 0) || a - b)
  for (const k of order) w.add(`F${++ctx.feedbackSeq}${lines[k]}`)
}
