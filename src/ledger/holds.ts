/**
 * Points holds of the abuse review: a hold keeps a member's points from being spent while a reviewer looks at
 * them, and ends by itself. Placing one moves every open bucket of the member (points not yet spent, expired
 * or clawed back) that would be spendable before the end of the review window to that end (`available_at` =
 * `held_until`), and records what each bucket's date was. So:
 *
 * - redemptions of held points are refused as for any pending points (the rule reading spendable buckets is
 *   unchanged), and the balance still counts them;
 * - at `held_until` the points are spendable again with no job to run: a hold can never outlast its window,
 *   which is at most {@link MAX_REVIEW_DAYS} days;
 * - an operator's release before then puts back the recorded dates of the buckets the hold still holds.
 *
 * Points earned after a hold was placed are not held by it; a later review places a new hold. Each placement
 * and release goes through the ledger's write path (member lock, idempotency key), and the hold row keeps the
 * reason, who or what released it and when.
 * @module
 */
import { InputError, NotFoundError } from '../core/errors.js'
import type { Ledger, WriteResult } from './ledger.service.js'
import type { SqlExecutor } from './stores/store.js'

/** The longest review window a hold may have. */
export const MAX_REVIEW_DAYS = 30
const DAY_MS = 86_400_000

export interface PointsHold {
  readonly holdId: number
  readonly memberId: string
  readonly reason: string
  readonly placedAt: Date
  readonly heldUntil: Date
  /** Points held when the hold was placed. */
  readonly points: number
  readonly releasedAt: Date | null
  readonly releaseReason: string | null
}

function checkReviewDays(days: number): void {
  if (!Number.isInteger(days) || days < 1 || days > MAX_REVIEW_DAYS) {
    throw InputError.single({
      field: 'reviewDays',
      value: String(days),
      reason: `a whole number of days from 1 to ${MAX_REVIEW_DAYS}`,
    })
  }
}

/**
 * Holds the member's open points until `at` + `reviewDays` days. Repeating the same key answers the first
 * result and holds nothing more.
 */
export async function placeHold(
  ledger: Ledger,
  input: {
    memberId: string
    idempotencyKey: string
    reason: string
    reviewDays: number
    at?: Date
  },
): Promise<WriteResult> {
  checkReviewDays(input.reviewDays)
  if (input.reason.trim() === '') {
    throw InputError.single({ field: 'reason', value: '', reason: 'a hold needs a reason' })
  }
  const at = input.at ?? ledger.clock.now()
  const until = new Date(at.getTime() + input.reviewDays * DAY_MS)
  return ledger.write(
    'hold',
    input.memberId,
    input.idempotencyKey,
    { reason: input.reason, reviewDays: input.reviewDays, at: at.toISOString() },
    async (tx, account) => {
      const hold = await tx.query(
        `INSERT INTO ledger_holds (member_id, idempotency_key, reason, placed_at, held_until, points)
         VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz, 0) RETURNING hold_id`,
        [input.memberId, input.idempotencyKey, input.reason, at.toISOString(), until.toISOString()],
      )
      const holdId = Number(hold[0]?.['hold_id'])
      const held = await tx.query(
        `WITH b AS (
           SELECT bucket_id, available_at, remaining FROM ledger_buckets
            WHERE member_id = $1 AND remaining > 0 AND available_at < $2::timestamptz
              AND (expires_at IS NULL OR expires_at > $3::timestamptz)
            FOR UPDATE),
         saved AS (
           INSERT INTO ledger_hold_buckets (hold_id, bucket_id, available_before)
           SELECT $4, bucket_id, available_at FROM b),
         moved AS (
           UPDATE ledger_buckets SET available_at = $2::timestamptz
            WHERE bucket_id IN (SELECT bucket_id FROM b))
         SELECT COALESCE(SUM(remaining), 0)::bigint AS points FROM b`,
        [input.memberId, until.toISOString(), at.toISOString(), holdId],
      )
      const points = Number(held[0]?.['points'] ?? 0)
      await tx.query('UPDATE ledger_holds SET points = $2 WHERE hold_id = $1', [holdId, points])
      return {
        memberId: input.memberId,
        entryId: null,
        points: 0,
        balance: account.balance,
        tier: account.tier,
        details: { holdId, heldPoints: points, heldUntil: until.toISOString() },
      }
    },
  )
}

/**
 * Ends a hold before its window does: the buckets it still holds (those whose date it set and nothing changed
 * since) get their recorded dates back. Releasing a hold that has ended or was released answers as it stands.
 * @throws NotFoundError when there is no such hold.
 */
export async function releaseHold(
  ledger: Ledger,
  input: { holdId: number; idempotencyKey: string; reason: string; at?: Date },
): Promise<WriteResult> {
  const found = await ledger.store.query('SELECT member_id FROM ledger_holds WHERE hold_id = $1', [
    input.holdId,
  ])
  const memberId = found[0]?.['member_id']
  if (memberId === undefined) throw new NotFoundError(`unknown hold ${input.holdId}`)
  const at = input.at ?? ledger.clock.now()
  return ledger.write(
    'release_hold',
    String(memberId),
    input.idempotencyKey,
    { holdId: input.holdId, reason: input.reason, at: at.toISOString() },
    async (tx, account) => {
      const rows = await tx.query(
        `UPDATE ledger_holds SET released_at = $2::timestamptz, release_reason = $3
          WHERE hold_id = $1 AND released_at IS NULL AND held_until > $2::timestamptz
          RETURNING held_until`,
        [input.holdId, at.toISOString(), input.reason],
      )
      let released = 0
      if (rows.length > 0) {
        const back = await tx.query(
          `UPDATE ledger_buckets b SET available_at = hb.available_before
             FROM ledger_hold_buckets hb
            WHERE hb.hold_id = $1 AND b.bucket_id = hb.bucket_id
              AND b.available_at = $2::timestamptz
              AND NOT EXISTS (
                SELECT 1 FROM ledger_hold_buckets o JOIN ledger_holds h ON h.hold_id = o.hold_id
                 WHERE o.bucket_id = b.bucket_id AND o.hold_id <> $1 AND h.released_at IS NULL
                   AND h.held_until > $3::timestamptz)
          RETURNING b.remaining`,
          [
            input.holdId,
            new Date(rows[0]?.['held_until'] as string | Date).toISOString(),
            at.toISOString(),
          ],
        )
        released = back.reduce((a, r) => a + Number(r['remaining']), 0)
      }
      return {
        memberId: String(memberId),
        entryId: null,
        points: 0,
        balance: account.balance,
        tier: account.tier,
        details: { holdId: input.holdId, releasedPoints: released, active: false },
      }
    },
  )
}

/** Holds of a member (all members when `memberId` is absent), newest first; `activeAt` keeps those in force. */
export async function listHolds(
  tx: SqlExecutor,
  options: { memberId?: string; activeAt?: Date; limit?: number } = {},
): Promise<PointsHold[]> {
  const rows = await tx.query(
    `SELECT * FROM ledger_holds
      WHERE ($1::text IS NULL OR member_id = $1)
        AND ($2::timestamptz IS NULL OR (released_at IS NULL AND held_until > $2::timestamptz))
      ORDER BY hold_id DESC LIMIT $3`,
    [options.memberId ?? null, options.activeAt?.toISOString() ?? null, options.limit ?? 1000],
  )
  return rows.map((r) => ({
    holdId: Number(r['hold_id']),
    memberId: String(r['member_id']),
    reason: String(r['reason']),
    placedAt: new Date(r['placed_at'] as string | Date),
    heldUntil: new Date(r['held_until'] as string | Date),
    points: Number(r['points']),
    releasedAt: r['released_at'] === null ? null : new Date(r['released_at'] as string | Date),
    releaseReason: r['release_reason'] === null ? null : String(r['release_reason']),
  }))
}
