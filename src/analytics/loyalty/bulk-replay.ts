/**
 * Bulk replay of the member database's history: stages the events in DuckDB (orders, the points paid in them,
 * returns, and the check-ins and reviews the program rewards, each member ranked in the live replay's enrolment
 * order) and hands them member by member to the ledger's bulk replay (`ledger/bulk-replay.ts`), which runs the
 * rules engine and writes the rows with `COPY`.
 * @module
 */
import { sql } from '../../engine/sql/fragment.js'
import {
  bulkHistoryDays,
  bulkHistoryMonths,
  dropBulkHistory,
  stageBulkHistory,
} from '../../duckdb/loyalty-history.js'
import {
  bulkReplay,
  type BulkReplayOptions,
  type BulkReplaySource,
  type MemberHistory,
  type ReplaySummary,
} from '../../ledger/bulk-replay.js'
import { toInt } from '../../ledger/ledger.repository.js'
import type { Ledger } from '../../ledger/ledger.service.js'
import type { ReplayEvent } from '../../ledger/replay-engine.js'
import type { Database } from '../../store/database.js'
import { historyKinds } from './replay.js'

export type { BulkReplayOptions } from '../../ledger/bulk-replay.js'

interface EventRow extends ReplayEvent, Record<string, unknown> {
  memberRank: number | bigint
}

/** The staged history of the member database as a bulk replay source (also read by the backtest). */
export function stagedSource(db: Pick<Database, 'driver'>): BulkReplaySource {
  const d = db.driver
  return {
    days: async () =>
      (await bulkHistoryDays(d)).map((r) => ({ localDay: r.localDay, first: Number(r.first) })),
    months: async () =>
      (await bulkHistoryMonths(d)).map((r) => ({ month: r.month, first: Number(r.first) })),
    async *members(size: number) {
      const total = toInt(
        (
          await d.all<{ n: number | bigint }>(sql`SELECT count(*) AS n FROM loyalty_bulk_members`)
        )[0]?.n ?? 0,
      )
      for (let lo = 1; lo <= total; lo += size) {
        const hi = lo + size - 1
        const members = await d.all<{
          memberRank: number | bigint
          memberId: string
          registeredAt: number | bigint
          birthday: string | null
        }>(
          sql`SELECT member_rank, member_id, registered_at, birthday FROM loyalty_bulk_members
              WHERE member_rank BETWEEN ${lo} AND ${hi} ORDER BY member_rank`,
        )
        const events = await d.all<EventRow>(
          sql`SELECT member_rank, kind, id, order_id, ts, channel, amount FROM loyalty_bulk_events
              WHERE member_rank BETWEEN ${lo} AND ${hi} ORDER BY member_rank, ts, seq, id`,
        )
        const batch: MemberHistory[] = []
        let ei = 0
        for (const row of members) {
          const rank = Number(row.memberRank)
          const from = ei
          while (ei < events.length && Number((events[ei] as EventRow).memberRank) === rank) ei++
          batch.push({
            member: {
              memberId: row.memberId,
              enrolledAt: Number(row.registeredAt),
              birthday: row.birthday,
            },
            events: events.slice(from, ei),
          })
        }
        yield batch
      }
    },
    orphans: async () =>
      (
        await d.all<EventRow>(
          sql`SELECT member_rank, kind, id, order_id, ts, channel, amount, member_id FROM loyalty_bulk_events
              WHERE member_rank = 0 ORDER BY ts, seq, id`,
        )
      ).map((e) => ({ ...e, memberId: String(e['memberId']) })),
  }
}

/**
 * Replays members and their history (orders, points paid, returns, check-ins, reviews) into an empty ledger store,
 * in bulk. Returns the same summary as the live replay.
 */
export async function bulkReplayOrderHistory(
  db: Database,
  ledger: Ledger,
  options: BulkReplayOptions = {},
): Promise<ReplaySummary> {
  await stageBulkHistory(db.driver, historyKinds(ledger.program))
  try {
    return await bulkReplay(stagedSource(db), ledger, options)
  } finally {
    await dropBulkHistory(db.driver)
  }
}
