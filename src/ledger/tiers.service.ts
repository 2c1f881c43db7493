/**
 * Tier review and downgrade warnings. Upgrades happen at once when an earn lifts the member's qualification
 * (see the ledger service); downgrades happen only here, at the periodic review, after a grace period:
 *
 * - a review that finds the member below the current tier's threshold starts the grace period
 *   (`downgrade_due_at` = review time + `grace_days`) and records it in the history;
 * - a later review at or after that date that still finds the member below moves them to the tier they qualify
 *   for, and records the reason; one that finds them qualified again clears the grace period.
 *
 * Qualification is the rolling window's net spend, order count or net points earned — never the balance.
 * @module
 */
import type { Account } from './ledger.table.js'
import * as repo from './ledger.repository.js'
import { qualificationAt, type Ledger } from './ledger.service.js'
import type { Program } from './program.js'
import { findTier } from './program.js'
import { belowTier, canDrop, reviewDecision, type ReviewDecision } from './replay-engine.js'
import { IDEMPOTENCY_KEY_RE } from './ledger.service.js'
import { InputError } from '../core/errors.js'
import type { SqlExecutor } from './stores/store.js'

export interface ReviewSummary {
  readonly at: Date
  readonly members: number
  readonly upgraded: number
  readonly downgraded: number
  readonly graceStarted: number
  readonly graceCleared: number
  readonly unchanged: number
}

/** The review decision for the account at `at` — the rule is the engine's; this reads the qualification. */
async function decide(
  ledger: Ledger,
  tx: SqlExecutor,
  account: Account,
  at: Date,
): Promise<ReviewDecision> {
  const q = await qualificationAt(tx, ledger.program, account.memberId, at)
  return reviewDecision(ledger.program, account, q, at)
}

/**
 * The review job: applies upgrades, grace periods and downgrades for every member at `at`. Each change is one
 * write with the key `<runKey>:<member>`, so a review interrupted half-way can be run again with the same key
 * and finishes the rest without repeating anything.
 */
export async function reviewTiers(
  ledger: Ledger,
  options: { at?: Date; runKey?: string; pageSize?: number } = {},
): Promise<ReviewSummary> {
  const at = options.at ?? ledger.clock.now()
  const runKey = options.runKey ?? `tier-review:${at.toISOString()}`
  if (!IDEMPOTENCY_KEY_RE.test(runKey) || runKey.length > 60) {
    throw InputError.single({
      field: 'runKey',
      value: runKey,
      reason: 'malformed review key (4–60 characters)',
    })
  }
  const counts = {
    members: 0,
    upgraded: 0,
    downgraded: 0,
    graceStarted: 0,
    graceCleared: 0,
    unchanged: 0,
  }
  let after: string | null = null
  for (;;) {
    const ids: string[] = await repo.listMemberIds(ledger.store, after, options.pageSize ?? 500)
    if (ids.length === 0) break
    for (const memberId of ids) {
      counts.members++
      const account = await repo.findAccount(ledger.store, memberId)
      if (!account) continue
      const d0 = await decide(ledger, ledger.store, account, at)
      if (d0.kind === 'none') {
        counts.unchanged++
        continue
      }
      const r = await ledger.write(
        'tier_review',
        memberId,
        `${runKey}:${memberId}`,
        { at },
        async (tx, locked, now) => {
          // Decide again under the lock: an earn may have changed the tier since the unlocked look.
          const d = await decide(ledger, tx, locked, at)
          const patch: repo.AccountPatch = {}
          switch (d.kind) {
            case 'none':
              break
            case 'upgrade':
            case 'downgrade':
              await repo.insertTierChange(tx, {
                memberId,
                fromTier: locked.tier,
                toTier: d.to,
                kind: d.kind,
                changedAt: at,
                reason: d.reason,
              })
              Object.assign(patch, { tier: d.to, tierSince: at, downgradeDueAt: null })
              break
            case 'grace_started':
              await repo.insertTierChange(tx, {
                memberId,
                fromTier: locked.tier,
                toTier: locked.tier,
                kind: d.kind,
                changedAt: at,
                reason: d.reason,
              })
              patch.downgradeDueAt = d.due
              break
            case 'grace_cleared':
              await repo.insertTierChange(tx, {
                memberId,
                fromTier: locked.tier,
                toTier: locked.tier,
                kind: d.kind,
                changedAt: at,
                reason: d.reason,
              })
              patch.downgradeDueAt = null
              break
            default: {
              const _exhaustive: never = d
              return _exhaustive
            }
          }
          if (d.kind !== 'none') await repo.updateAccount(tx, memberId, now, patch)
          return {
            memberId,
            entryId: null,
            points: 0,
            balance: locked.balance,
            tier: patch.tier ?? locked.tier,
            details: { decision: d.kind },
          }
        },
      )
      switch (r.details['decision']) {
        case 'upgrade':
          counts.upgraded++
          break
        case 'downgrade':
          counts.downgraded++
          break
        case 'grace_started':
          counts.graceStarted++
          break
        case 'grace_cleared':
          counts.graceCleared++
          break
        default:
          counts.unchanged++
      }
    }
    after = ids[ids.length - 1] ?? null
  }
  return { at, ...counts }
}

export interface DowngradeWarning {
  readonly memberId: string
  readonly tier: string
  /** The tier the member would hold if reviewed at `reviewAt` with no further activity. */
  readonly projectedTier: string
  readonly reviewAt: Date
  /** The qualification figure that would count then, and the current tier's threshold. */
  readonly value: string
  readonly threshold: string
  /** Set when a review already started the grace period. */
  readonly downgradeDueAt: Date | null
}

/**
 * Members who will lose their tier at the review at `reviewAt` unless they buy (or earn) more: their
 * qualification counted over the window ending at `reviewAt`, with only the activity already recorded. This
 * feeds the early-warning signal "tier about to drop".
 */
export async function downgradeWarnings(
  ledger: Ledger,
  reviewAt: Date,
  options: { at?: Date; limit?: number } = {},
): Promise<DowngradeWarning[]> {
  const program: Program = ledger.program
  const at = options.at ?? ledger.clock.now()
  const out: DowngradeWarning[] = []
  let after: string | null = null
  for (;;) {
    const ids: string[] = await repo.listMemberIds(ledger.store, after, 500)
    if (ids.length === 0) break
    for (const memberId of ids) {
      const a = await repo.findAccount(ledger.store, memberId)
      if (!a || !canDrop(program, a.tier)) continue
      const q = await qualificationAt(ledger.store, program, memberId, at, reviewAt)
      if (belowTier(program, a.tier, q)) {
        out.push({
          memberId,
          tier: a.tier,
          projectedTier: q.tier.id,
          reviewAt,
          value: q.value,
          threshold: findTier(program, a.tier)?.threshold ?? '0',
          downgradeDueAt: a.downgradeDueAt,
        })
        if (options.limit !== undefined && out.length >= options.limit) return out
      }
    }
    after = ids[ids.length - 1] ?? null
  }
  return out
}
