/**
 * How well the churn-reason classes of a scoring find the members who really are of that type, given a
 * list of them (the simulator's `truth.json` `churnTypes`): per class, precision (members of the class who
 * are of the type) and recall (members of the type put in the class), next to the type's base rate.
 *
 * Classes are assigned first match wins with high value first, so a member of the type who is also high
 * value is never in the type's class; recall is therefore also given over the members outside
 * high-value-at-risk.
 * @module
 */
import { InputError } from '../../core/errors.js'
import { phoneReader } from '../../core/phone.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { sql } from '../../engine/sql/fragment.js'
import { getRun } from '../clv/store.js'
import type { ChurnClass } from './early-warning.js'

/** Known members of each hidden type, each as `identity_type:value` (phone as written, any format). */
export interface KnownChurnTypes {
  readonly priceSensitive: readonly string[]
  readonly serviceDissatisfied: readonly string[]
}

/** The classes that have a hidden type to be checked against. */
export const CHECKED_CLASSES = ['service-dissatisfied', 'price-sensitive'] as const
type CheckedClass = (typeof CHECKED_CLASSES)[number]

export interface ChurnClassCheck {
  readonly churnClass: CheckedClass
  /** Scored members put in the class. */
  readonly predicted: number
  /** Scored members of the type. */
  readonly actual: number
  readonly truePositives: number
  /** null when the class is empty. */
  readonly precision: number | null
  /** null when no scored member is of the type. */
  readonly recall: number | null
  /** Recall over the members of the type not classed high-value-at-risk. */
  readonly recallOutsideHighValue: number | null
  /** Share of the scored members who are of the type (what a random class of the same size would hit). */
  readonly baseRate: number | null
}

export interface ChurnClassEvaluation {
  readonly runId: string
  /** Scored members, and how many of the known identities matched a member. */
  readonly scored: number
  readonly matchedIdentities: number
  readonly knownIdentities: number
  readonly classes: readonly ChurnClassCheck[]
}

/** Checks the churn classes of the latest risk scoring (or `runId`) against the known types. */
export async function evaluateChurnClasses(
  driver: DuckDbDriver,
  known: KnownChurnTypes,
  runId?: string,
): Promise<ChurnClassEvaluation> {
  const run = await getRun(driver, 'risk-score', runId)
  const scores = await driver.all<{ memberId: number; churnClass: ChurnClass }>(
    sql`SELECT member_id::DOUBLE AS member_id, churn_class FROM risk_scores WHERE run_id = ${run.runId}`,
  )
  const members = await membersOf(driver, known)
  const types: Record<CheckedClass, ReadonlySet<number>> = {
    'service-dissatisfied': members.serviceDissatisfied,
    'price-sensitive': members.priceSensitive,
  }
  const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b)
  const classes = CHECKED_CLASSES.map((cls): ChurnClassCheck => {
    const type = types[cls]
    let predicted = 0
    let actual = 0
    let tp = 0
    let actualOutside = 0
    for (const s of scores) {
      const isType = type.has(s.memberId)
      if (isType) actual++
      if (isType && s.churnClass !== 'high-value-at-risk') actualOutside++
      if (s.churnClass === cls) {
        predicted++
        if (isType) tp++
      }
    }
    return {
      churnClass: cls,
      predicted,
      actual,
      truePositives: tp,
      precision: ratio(tp, predicted),
      recall: ratio(tp, actual),
      recallOutsideHighValue: ratio(tp, actualOutside),
      baseRate: ratio(actual, scores.length),
    }
  })
  return {
    runId: run.runId,
    scored: scores.length,
    matchedIdentities: members.matched,
    knownIdentities: known.priceSensitive.length + known.serviceDissatisfied.length,
    classes,
  }
}

/** Members per churn class in a scoring, in the order of the classes. */
export async function churnClassCounts(
  driver: DuckDbDriver,
  runId: string,
): Promise<{ churnClass: string; n: number }[]> {
  return driver.all<{ churnClass: string; n: number }>(
    sql`SELECT churn_class, count(*)::DOUBLE AS n FROM risk_scores WHERE run_id = ${runId}
      GROUP BY 1 ORDER BY 1`,
  )
}

/** The members the known identities resolve to, by type. */
async function membersOf(
  driver: DuckDbDriver,
  known: KnownChurnTypes,
): Promise<{
  priceSensitive: Set<number>
  serviceDissatisfied: Set<number>
  matched: number
}> {
  const rows = await driver.all<{ identityType: string; identityValue: string; memberId: number }>(
    sql`SELECT identity_type, identity_value, member_id::DOUBLE AS member_id FROM identities WHERE member_id IS NOT NULL`,
  )
  const byKey = new Map<string, number>()
  for (const r of rows) byKey.set(`${r.identityType}:${r.identityValue}`, r.memberId)
  const readPhone = phoneReader('86')
  let matched = 0
  const resolve = (list: readonly string[]): Set<number> => {
    const out = new Set<number>()
    for (const entry of list) {
      const at = entry.indexOf(':')
      if (at <= 0) {
        throw InputError.single({
          field: 'churnTypes',
          value: entry,
          reason: 'expected identity_type:value',
        })
      }
      const type = entry.slice(0, at)
      let value = entry.slice(at + 1)
      if (type === 'phone') {
        const r = readPhone(value)
        if (!r.ok) continue
        value = r.value
      }
      const id = byKey.get(`${type}:${value}`)
      if (id === undefined) continue
      matched++
      out.add(id)
    }
    return out
  }
  return {
    priceSensitive: resolve(known.priceSensitive),
    serviceDissatisfied: resolve(known.serviceDissatisfied),
    matched,
  }
}

/** The members of one churn class in the latest risk scoring (a segment for campaign simulation). */
export async function churnClassMembers(
  driver: DuckDbDriver,
  churnClass: ChurnClass,
): Promise<{ runId: string; members: Set<number> }> {
  const run = await getRun(driver, 'risk-score')
  const rows = await driver.all<{ memberId: number }>(
    sql`SELECT member_id::DOUBLE AS member_id FROM risk_scores WHERE run_id = ${run.runId} AND churn_class = ${churnClass}`,
  )
  return { runId: run.runId, members: new Set(rows.map((r) => r.memberId)) }
}
