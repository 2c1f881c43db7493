/**
 * Targeting checked against known true effects (the simulator's truth): the planned policy, the oracle
 * (which knows every member's true effects and costs) at the same budget, "highest risk first" and
 * "random" sending the baseline arm, each valued with the true effects.
 * @module
 */
import { phoneReader } from '../../core/phone.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { sql } from '../../engine/sql/fragment.js'
import { expectedArmCost, type ArmConfig, type ArmsFile } from './arms.js'
import {
  chooseWithinBudget,
  rankWithinBudget,
  seededRandom,
  type PlanInternals,
  type TargetingPlan,
} from './targeting.js'

/** A member's true effect of one arm: incremental retention, incremental revenue, expected cost (CNY). */
export interface TrueArmEffect {
  readonly retention: number
  readonly value: number
  readonly cost: number
}

/**
 * The true effect of `arm` on a person who buys in the window with probability `natural` without a
 * touch, is brought back with probability `induced` when they would not, and redeems the arm's coupon
 * with probability `redemption` on an order they would have made anyway (the planted-effect model of
 * the simulator's retention campaign).
 */
export function trueArmEffect(
  arm: ArmConfig,
  natural: number,
  induced: number,
  redemption: number,
  orderValue: number,
): TrueArmEffect {
  const retention = induced * (1 - natural)
  const redeem = arm.coupon_id === undefined ? 0 : retention + natural * redemption
  return {
    retention,
    value: retention * orderValue,
    cost: expectedArmCost(arm, redeem, natural + retention, orderValue),
  }
}

/** One identity of a person with known effects, and those effects per arm (arms-file order). */
export interface KnownPerson {
  readonly identityType: 'phone' | 'wechat_unionid' | 'app_user_id'
  readonly identityValue: string
  readonly effects: readonly TrueArmEffect[]
}

/**
 * Resolves persons to member ids through the identities table (phones read as Chinese numbers by
 * default, as ingest does); persons whose identity is not found are left out.
 */
export async function resolveKnownPersons(
  driver: DuckDbDriver,
  persons: readonly KnownPerson[],
): Promise<Map<number, readonly TrueArmEffect[]>> {
  const rows = await driver.all<{ identityType: string; identityValue: string; memberId: number }>(
    sql`SELECT identity_type, identity_value, member_id::DOUBLE AS member_id FROM identities
      WHERE identity_type IN ('phone', 'wechat_unionid', 'app_user_id') AND member_id IS NOT NULL`,
  )
  const byKey = new Map<string, number>()
  for (const r of rows) byKey.set(`${r.identityType}\u0000${r.identityValue}`, r.memberId)
  const readPhone = phoneReader('86')
  const out = new Map<number, readonly TrueArmEffect[]>()
  for (const p of persons) {
    let value = p.identityValue
    if (p.identityType === 'phone') {
      const r = readPhone(value)
      if (!r.ok) continue
      value = r.value
    }
    const id = byKey.get(`${p.identityType}\u0000${value}`)
    if (id !== undefined) out.set(id, p.effects)
  }
  return out
}

/** A policy valued with the true effects. */
export interface PolicyOutcome {
  readonly policy: 'uplift' | 'oracle' | 'highest_risk' | 'random'
  readonly members: number
  readonly retained: number
  readonly revenue: number
  readonly cost: number
  readonly net: number
}

/** The comparison printed by `memberlens target --evaluate`. */
export interface TargetingEvaluation {
  readonly membersWithTruth: number
  readonly baselineArm: string
  readonly policies: readonly PolicyOutcome[]
  /** The planned policy's true net value over the oracle's (null when the oracle's is not positive). */
  readonly shareOfOracle: number | null
  /**
   * The same comparison at a tenth, a fifth and half of the budget and at the budget itself: the plan's
   * choice rule on its estimates against the oracle's on the true effects, both within that budget.
   */
  readonly byBudget: readonly {
    readonly budget: number
    readonly plan: number
    readonly oracle: number
    readonly share: number | null
  }[]
  /**
   * What the oracle would spend (true cost) with no budget at all: every member with a positive true net
   * value gets their best arm. The budget binds when it is below this.
   */
  readonly oracleUnlimitedCost: number
  /** Whether the true retained members, revenue and net value lie inside the plan's intervals. */
  readonly insideInterval: {
    readonly retained: boolean | null
    readonly revenue: boolean | null
    readonly net: boolean | null
  }
}

/**
 * Values the plan and the comparison policies with the true effects. Candidates are the members with
 * known effects (the plan must have been made with them as its candidates, at the same budget).
 */
export function evaluateTargeting(
  plan: TargetingPlan & { readonly internals: PlanInternals },
  arms: ArmsFile,
  truth: ReadonlyMap<number, readonly TrueArmEffect[]>,
  seed = 1,
): TargetingEvaluation {
  const { memberId, estimates, choice } = plan.internals
  const names = Object.keys(arms.arms)
  const n = memberId.length
  const known = (i: number): readonly TrueArmEffect[] | undefined =>
    truth.get(memberId[i] as number)
  const eligible = (i: number) => plan.internals.eligible(i) && known(i) !== undefined
  const value = (policy: PolicyOutcome['policy'], arm: Int32Array): PolicyOutcome => {
    let members = 0
    let retained = 0
    let revenue = 0
    let cost = 0
    for (let i = 0; i < n; i++) {
      const k = arm[i] as number
      const e = k >= 0 ? known(i)?.[k] : undefined
      if (e === undefined) continue
      members++
      retained += e.retention
      revenue += e.value
      cost += e.cost
    }
    return { policy, members, retained, revenue, cost, net: revenue - cost }
  }
  // The oracle: true net and true cost, the same greedy rule and budget.
  const trueNet = names.map((_, k) =>
    Float64Array.from({ length: n }, (_, i) => {
      const e = eligible(i) ? known(i)?.[k] : undefined
      return e === undefined ? 0 : e.value - e.cost
    }),
  )
  const trueCost = names.map((_, k) =>
    Float64Array.from({ length: n }, (_, i) => known(i)?.[k]?.cost ?? 0),
  )
  const oracle = chooseWithinBudget(trueNet, trueCost, plan.budget, eligible)
  const unlimited = value('oracle', chooseWithinBudget(trueNet, trueCost, Infinity, eligible))
  const byBudget = [0.1, 0.2, 0.5, 1].map((f) => {
    const budget = plan.budget * f
    const mine = value(
      'uplift',
      chooseWithinBudget(estimates.net, estimates.cost, budget, eligible),
    )
    const best = value('oracle', chooseWithinBudget(trueNet, trueCost, budget, eligible))
    return {
      budget,
      plan: mine.net,
      oracle: best.net,
      share: best.net > 0 ? mine.net / best.net : null,
    }
  })
  const baselineArm = arms.baseline_arm ?? (names[0] as string)
  const b = names.indexOf(baselineArm)
  const pool = Array.from({ length: n }, (_, i) => i).filter(eligible)
  const byRisk = [...pool].sort(
    (x, y) => (estimates.control[x] as number) - (estimates.control[y] as number) || x - y,
  )
  const random = seededRandom(seed)
  const shuffled = [...pool]
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[shuffled[i], shuffled[j]] = [shuffled[j] as number, shuffled[i] as number]
  }
  const policies = [
    value('uplift', choice),
    value('oracle', oracle),
    value('highest_risk', rankWithinBudget(byRisk, b, estimates.cost, plan.budget, n)),
    value('random', rankWithinBudget(shuffled, b, estimates.cost, plan.budget, n)),
  ]
  const [mine, best] = policies as [PolicyOutcome, PolicyOutcome]
  const inside = (v: number, i: { low: number | null; high: number | null }): boolean | null =>
    i.low === null || i.high === null ? null : v >= i.low && v <= i.high
  return {
    membersWithTruth: pool.length,
    baselineArm,
    policies,
    shareOfOracle: best.net > 0 ? mine.net / best.net : null,
    byBudget,
    oracleUnlimitedCost: unlimited.cost,
    insideInterval: {
      retained: inside(mine.retained, plan.policy.retained),
      revenue: inside(mine.revenue, plan.policy.revenue),
      net: inside(mine.net, plan.policy.net),
    },
  }
}
