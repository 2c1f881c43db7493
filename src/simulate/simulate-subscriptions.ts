/**
 * Paid membership (续费): some persons buy a plan and renew each term with a fixed personal churn
 * probability θ ~ Beta(α, β) — the shifted-beta-geometric model (Fader & Hardie, "How to project customer
 * retention", J. Interactive Marketing 21(1), 2007). One row per term.
 * @module
 */
import { DAY, addMonths } from './calendar.js'
import { money } from './csv-format.js'
import { MODEL_PARAMETERS } from './model-parameters.js'
import { APP, PHONE, type PersonState } from './person-state.js'
import type { Rng } from '../core/random.js'
import type { SimContext } from './sim-context.js'

const S = MODEL_PARAMETERS.subscriptions

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1
}

/** Draws the person's subscription history (always, so events can use it) and writes its rows. */
export function simulateSubscriptions(ctx: SimContext, st: PersonState, rng: Rng): void {
  const end = ctx.cal.endSec
  const T = ctx.tallies
  if (!rng.chance(Math.min(0.5, S.buyBase + S.buyPerLambda * st.lambda))) return
  let start = Math.floor(st.regSec + rng.exp() * S.startMeanDays * DAY)
  // Only members who are still engaged buy a plan.
  if (start >= Math.min(end, st.deathSec)) return
  let ids: string
  if (st.has(APP, start)) ids = `,${st.appId}`
  else if (st.has(PHONE, start)) ids = `${st.phone},`
  else return

  const annual = rng.chance(S.plans.plus_annual.share)
  const plan = annual ? 'plus_annual' : 'plus_monthly'
  const def = annual ? S.plans.plus_annual : S.plans.plus_monthly
  const theta = rng.beta(def.alpha, def.beta)
  const price = money(def.price * 100)
  const f = ctx.fmt
  const w = ctx.out.subscriptions
  bump(T.subscribers, plan)
  for (;;) {
    const ends = addMonths(start, def.termMonths)
    const renews = rng.uniform() >= theta
    // Auto-renewal charges up to three days before the term ends.
    const renewedAt = ends - Math.floor(rng.uniform() * 3 * DAY)
    st.pushSubscription(start, ends)
    bump(T.terms, plan)
    if (renews && renewedAt < end) {
      bump(T.renewals, plan)
      w?.add(`${plan},${f.ts(start)},${f.ts(ends)},${f.ts(renewedAt)},${price},${ids}`)
      start = ends
      if (start >= end) return
      continue
    }
    if (!renews && ends <= end) bump(T.nonRenewals, plan)
    else bump(T.censored, plan)
    w?.add(`${plan},${f.ts(start)},${f.ts(ends)},,${price},${ids}`)
    return
  }
}
