/**
 * Batch replay: computes points and tiers for the whole loaded history by sending every event in DuckDB through
 * the live ledger path, in time order, with the historical time as `at`: orders (earn), the points paid in them
 * (a redemption just before the order earns), returns (reversal), and the check-ins and reviews the program
 * rewards (bonus). Keys are derived from the source ids (`enroll:<member>`, `order:<id>`, `payment:<order>`,
 * `return:<id>`, `check_in:<event>`, `product_review:<feedback>`), so a replay is idempotent and can be resumed,
 * and the ledger it produces is the one the live API would have produced had it received the same events.
 * The expiry job runs at the start of every day the history crosses, and the tier review at the start of every
 * review period (`review_every_months`), exactly as scheduled jobs would have.
 * @module
 */
import { InsufficientPointsError } from '../../core/errors.js'
import { readEnrolments, readHistoryPage, type HistoryKinds } from '../../duckdb/loyalty-history.js'
import { reviewPeriodOf, type ReplaySummary } from '../../ledger/bulk-replay.js'
import type { Ledger } from '../../ledger/ledger.service.js'
import type { Program } from '../../ledger/program.js'
import { isRefusal, REPLAY_KEYS } from '../../ledger/replay-engine.js'
import { dayStart, localDay, offsetMinutes } from '../../ledger/rules.js'
import { reviewTiers } from '../../ledger/tiers.service.js'
import type { Database } from '../../store/database.js'

export type { ReplaySummary } from '../../ledger/bulk-replay.js'

export interface ReplayOptions {
  /** Events read from DuckDB per page (default 5,000). */
  readonly pageSize?: number
  /** Run the tier review at each review date (default true). */
  readonly reviews?: boolean
  readonly onProgress?: (done: number) => void
  /** How many refusal reasons the summary keeps (default 20). */
  readonly reasons?: number
}

/** The source events the program rewards: check-ins and reviews only when it has those earn rules. */
export function historyKinds(program: Program): HistoryKinds {
  return {
    checkIns: program.earn.check_in !== undefined,
    reviews: program.earn.review !== undefined,
    offsetMinutes: offsetMinutes(program),
  }
}

/**
 * Replays members, orders (not cancelled), the points paid in them, returns, check-ins and reviews from the
 * analytics database into the ledger.
 */
export async function replayOrderHistory(
  db: Database,
  ledger: Ledger,
  options: ReplayOptions = {},
): Promise<ReplaySummary> {
  const d = db.driver
  const program = ledger.program
  const pageSize = options.pageSize ?? 5_000
  let members = 0
  let orders = 0
  let returns = 0
  let skipped = 0
  let expiryRuns = 0
  let reviews = 0
  let checkIns = 0
  let reviewBonuses = 0
  let redemptions = 0
  let redeemedPoints = 0
  let refusedRedemptions = 0
  let refusedRedemptionPoints = 0
  const skippedReasons: string[] = []
  const kinds = historyKinds(program)

  const memberRows = await readEnrolments(d)
  for (const m of memberRows) {
    await ledger.enroll({
      memberId: m.memberId,
      idempotencyKey: `enroll:${m.memberId}`,
      at: new Date(m.registeredAt),
      ...(m.birthday ? { birthday: m.birthday } : {}),
    })
    members++
  }

  // Orders and returns in one time line; at equal times an order comes before its returns.
  let lastDay: string | null = null
  let lastPeriod: string | null = null
  let offset = 0
  for (;;) {
    const page = await readHistoryPage(d, kinds, offset, pageSize)
    if (page.length === 0) break
    offset += page.length
    for (const e of page) {
      const at = new Date(e.ts)
      const day = localDay(program, at)
      if (day !== lastDay) {
        const r = await ledger.expireDue(dayStart(program, day))
        if (r.members > 0) expiryRuns++
        lastDay = day
      }
      const period = reviewPeriodOf(at, program.tiers.review_every_months)
      if (options.reviews !== false && period !== lastPeriod) {
        if (lastPeriod !== null) {
          await reviewTiers(ledger, {
            at: new Date(`${period}T00:00:00Z`),
            runKey: `review:${period}`,
          })
          reviews++
        }
        lastPeriod = period
      }
      try {
        switch (e.kind) {
          case 'order':
            await ledger.earnForOrder({
              memberId: e.memberId,
              orderId: e.id,
              amount: e.amount ?? '',
              channel: e.channel ?? 'unknown',
              idempotencyKey: REPLAY_KEYS.order(e.id),
              at,
            })
            orders++
            break
          case 'payment': {
            const r = await ledger.redeem({
              memberId: e.memberId,
              points: Number(e.amount),
              orderId: e.id,
              ...(e.channel === null ? {} : { channel: e.channel }),
              idempotencyKey: REPLAY_KEYS.payment(e.id),
              at,
            })
            redemptions++
            redeemedPoints -= r.points
            break
          }
          case 'return':
            await ledger.reverseForReturn({
              returnId: e.id,
              orderId: e.orderId ?? '',
              amount: e.amount ?? '',
              idempotencyKey: REPLAY_KEYS.return(e.id),
              at,
            })
            returns++
            break
          case 'check_in':
          case 'review':
            await ledger.earnBonus({
              memberId: e.memberId,
              kind: e.kind,
              ...(e.kind === 'review' ? { sourceId: e.id } : {}),
              idempotencyKey: REPLAY_KEYS[e.kind](e.id),
              at,
            })
            if (e.kind === 'check_in') checkIns++
            else reviewBonuses++
            break
          default:
            throw new Error(`unknown history event kind ${e.kind}`)
        }
      } catch (error) {
        // Source data the ledger refuses is reported, not fatal: one bad return must not stop a history.
        if (!isRefusal(error)) throw error
        skipped++
        if (e.kind === 'payment' && error instanceof InsufficientPointsError) {
          refusedRedemptions++
          refusedRedemptionPoints += Number(e.amount)
        }
        if (skippedReasons.length < (options.reasons ?? 20))
          skippedReasons.push(`${e.kind} ${e.id}: ${error.message}`)
      }
    }
    options.onProgress?.(offset)
    if (page.length < pageSize) break
  }
  return {
    members,
    orders,
    returns,
    checkIns,
    reviewBonuses,
    redemptions,
    redeemedPoints,
    refusedRedemptions,
    refusedRedemptionPoints,
    skipped,
    skippedReasons,
    expiryRuns,
    reviews,
  }
}
