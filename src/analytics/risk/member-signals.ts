/**
 * One member's lifecycle stage and latest churn-risk score, for the member 360 view.
 * @module
 */
import { tableExists } from '../../engine/drivers/driver.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import {
  DEFAULT_LIFECYCLE_CONFIG,
  type LifecycleConfig,
  type LifecycleStage,
} from '../../engine/lifecycle/lifecycle-config.js'
import { buildMemberStagesQuery } from '../../engine/lifecycle/lifecycle-stages.js'
import { sql } from '../../engine/sql/fragment.js'
import { NotFoundError } from '../../core/errors.js'
import { getRun } from '../clv/store.js'
import type { SignalDetails } from './risk.js'

export interface MemberStageView {
  readonly asOf: string
  readonly stage: LifecycleStage
  readonly purchases: number
  readonly daysSinceLast: number | null
}

/** The member's lifecycle stage as of `asOf`, or undefined when the member registered later. */
export async function findMemberStage(
  driver: DuckDbDriver,
  memberId: bigint | number,
  asOf: string,
  config: LifecycleConfig = DEFAULT_LIFECYCLE_CONFIG,
): Promise<MemberStageView | undefined> {
  const r = await driver.first<{
    stage: LifecycleStage
    purchases: bigint
    daysSinceLast: number | null
  }>(
    sql`SELECT stage, purchases, days_since_last FROM (${buildMemberStagesQuery(asOf, config)})
      WHERE member_id = ${BigInt(memberId)}`,
  )
  if (r === undefined) return undefined
  return {
    asOf,
    stage: r.stage,
    purchases: Number(r.purchases),
    daysSinceLast: r.daysSinceLast === null ? null : Number(r.daysSinceLast),
  }
}

export interface MemberRiskView {
  readonly runId: string
  readonly score: number
  /** Reason codes: the features raising this member's risk most. */
  readonly reasons: readonly string[]
  /** Early-warning signals that fired. */
  readonly signals: readonly string[]
  /**
   * The figures behind signals that carry them, e.g. `points_expiring: { points, firstExpiresAt }`; empty for
   * scorings written before they were stored.
   */
  readonly signalDetails: SignalDetails
  readonly churnClass: string
  readonly playbook: string
}

/** The member's score in the latest risk scoring, or undefined when there is no scoring or no score. */
export async function findMemberRisk(
  driver: DuckDbDriver,
  memberId: bigint | number,
): Promise<MemberRiskView | undefined> {
  let runId: string
  try {
    runId = (await getRun(driver, 'risk-score')).runId
  } catch (e) {
    if (e instanceof NotFoundError) return undefined
    throw e
  }
  const r = await driver.first<{
    score: number
    reasons: string | null
    signals: string | null
    churnClass: string
    playbook: string
    signalDetails?: string | null
  }>(
    // SELECT *: scorings written before `signal_details` existed lack the column.
    sql`SELECT * FROM risk_scores WHERE run_id = ${runId} AND member_id = ${BigInt(memberId)}`,
  )
  if (r === undefined) return undefined
  const split = (s: string | null) => (s ? s.split(',').filter((x) => x !== '') : [])
  return {
    runId,
    score: r.score,
    reasons: split(r.reasons),
    signals: split(r.signals),
    signalDetails: r.signalDetails ? (JSON.parse(r.signalDetails) as SignalDetails) : {},
    churnClass: r.churnClass,
    playbook: r.playbook,
  }
}

/** A member's points and tier as of the last ledger sync into the engine (`loyalty_accounts`). */
export interface SyncedLoyaltyView {
  readonly balance: number
  readonly tier: string
  readonly tierSince: string | null
  readonly downgradeDueAt: string | null
  /** The points that expire first and when (UTC, ISO 8601), as the live ledger's balance says it; null if none. */
  readonly nextExpiry: { readonly at: string; readonly points: number } | null
  /** The figures come from the last sync, not from the live ledger. */
  readonly synced: true
}

/**
 * The member's account as last synced, or null without a sync or an account. `at` (an instant, ISO 8601 or
 * `YYYY-MM-DD`) is the point in time of the next expiry: the first open points that expire after it, as the
 * live ledger's balance at that time names them.
 */
export async function findSyncedLoyalty(
  driver: DuckDbDriver,
  memberId: number,
  at?: string,
): Promise<SyncedLoyaltyView | null> {
  if (!(await tableExists(driver, 'loyalty_accounts'))) return null
  const r = await driver.first<{
    balance: bigint | number
    tier: string
    tierSince: string | null
    downgradeDueAt: string | null
  }>(
    sql`SELECT balance, tier, ${driver.dialect.dateText(sql`tier_since`, 'instant')} AS tier_since,
        ${driver.dialect.dateText(sql`downgrade_due_at`, 'instant')} AS downgrade_due_at
      FROM loyalty_accounts WHERE member_id = ${memberId} ORDER BY updated_at DESC LIMIT 1`,
  )
  if (!r) return null
  // The open buckets with the earliest expiry after `at`, as the ledger's own balance reports them.
  const after = at === undefined ? sql`` : sql` AND expires_at > CAST(${at} AS TIMESTAMP)`
  const next = (await tableExists(driver, 'loyalty_buckets'))
    ? await driver.first<{ at: string | null; points: bigint | number | null }>(
        sql`SELECT ${driver.dialect.dateText(sql`expires_at`, 'instant')} AS at, sum(remaining) AS points
          FROM loyalty_buckets
          WHERE member_id = ${memberId} AND remaining > 0 AND expires_at = (
            SELECT min(expires_at) FROM loyalty_buckets
            WHERE member_id = ${memberId} AND remaining > 0 AND expires_at IS NOT NULL${after})
          GROUP BY expires_at`,
      )
    : undefined
  return {
    balance: Number(r.balance),
    tier: r.tier,
    tierSince: r.tierSince,
    downgradeDueAt: r.downgradeDueAt,
    nextExpiry:
      next?.at && next.points !== null ? { at: next.at, points: Number(next.points) } : null,
    synced: true,
  }
}
