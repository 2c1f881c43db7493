/**
 * Batch replay: computes points and tiers for the whole loaded order history by sending every order and return
 * in DuckDB through the live ledger path, in time order, with the historical time as `at`. Keys are derived from
 * the source ids (`enroll:<member>`, `order:<id>`, `return:<id>`), so a replay is idempotent and can be resumed,
 * and the ledger it produces is the one the live API would have produced had it received the same events.
 * The expiry job runs at the start of every day the history crosses, and the tier review at the start of every
 * review period (`review_every_months`), exactly as scheduled jobs would have.
 * @module
 */
import { InputError, LedgerConflictError, NotFoundError } from '../../core/errors.js'
import { readEnrolments, readHistoryPage } from '../../duckdb/loyalty-history.js'
import type { Ledger } from '../../ledger/ledger.service.js'
import { dayStart, localDay } from '../../ledger/rules.js'
import { reviewTiers } from '../../ledger/tiers.service.js'
import type { Database } from '../../store/database.js'

export interface ReplaySummary {
  readonly members: number
  readonly orders: number
  readonly returns: number
  /** Events the ledger refused (e.g. a return above the order's net amount), with the first reasons. */
  readonly skipped: number
  readonly skippedReasons: readonly string[]
  readonly expiryRuns: number
  readonly reviews: number
}

export interface ReplayOptions {
  /** Events read from DuckDB per page (default 5,000). */
  readonly pageSize?: number
  /** Run the tier review at each review date (default true). */
  readonly reviews?: boolean
  readonly onProgress?: (done: number) => void
}

function firstOfPeriod(at: Date, months: number): string {
  const y = at.getUTCFullYear()
  const m = Math.floor(at.getUTCMonth() / months) * months
  return `${y}-${String(m + 1).padStart(2, '0')}-01`
}

/** Replays members, orders (not cancelled) and returns from the analytics database into the ledger. */
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
  const skippedReasons: string[] = []

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
    const page = await readHistoryPage(d, offset, pageSize)
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
      const period = firstOfPeriod(at, program.tiers.review_every_months)
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
        if (e.kind === 'order') {
          await ledger.earnForOrder({
            memberId: e.memberId,
            orderId: e.id,
            amount: e.amount,
            channel: e.channel ?? 'unknown',
            idempotencyKey: `order:${e.id}`,
            at,
          })
          orders++
        } else {
          await ledger.reverseForReturn({
            returnId: e.id,
            orderId: e.orderId,
            amount: e.amount,
            idempotencyKey: `return:${e.id}`,
            at,
          })
          returns++
        }
      } catch (error) {
        // Source data the ledger refuses is reported, not fatal: one bad return must not stop a history.
        if (!(
          error instanceof InputError ||
          error instanceof NotFoundError ||
          error instanceof LedgerConflictError
        ))
          throw error
        skipped++
        if (skippedReasons.length < 20) skippedReasons.push(`${e.kind} ${e.id}: ${error.message}`)
      }
    }
    options.onProgress?.(offset)
    if (page.length < pageSize) break
  }
  return { members, orders, returns, skipped, skippedReasons, expiryRuns, reviews }
}
