/** The ledger's facts in a form two ledgers of the same history can be compared in, whatever their ids. */
import type { LedgerStore } from '../../src/ledger/stores/store.js'

/** Every ledger fact with surrogate ids replaced by the idempotency key of the entry they point to. */
export async function ledgerFacts(store: LedgerStore): Promise<Record<string, unknown>> {
  // The clients return int8 and numeric differently (number or text): compare values as text.
  const q = async (text: string) =>
    (await store.query(text)).map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => [
          k,
          v === null ? null : v instanceof Date ? v.toISOString() : String(v),
        ]),
      ),
    )
  const requests = await q(
    `SELECT r.idempotency_key, r.member_id, r.operation, r.request_hash, r.result, r.created_at
     FROM ledger_requests r ORDER BY r.idempotency_key`,
  )
  const keyOf = new Map(
    (await q('SELECT entry_id, idempotency_key FROM ledger_entries')).map((r) => [
      String(r['entry_id']),
      String(r['idempotency_key']),
    ]),
  )
  return {
    accounts: await q(
      `SELECT member_id, enrolled_at, birthday, balance, debt, tier, tier_since, downgrade_due_at,
         last_check_in, check_in_streak, updated_at FROM ledger_accounts ORDER BY member_id`,
    ),
    entries: await q(
      `SELECT member_id, kind, points, occurred_at, recorded_at, reason, source_type, source_id, idempotency_key
       FROM ledger_entries ORDER BY member_id, entry_id`,
    ),
    buckets: await q(
      `SELECT b.member_id, e.idempotency_key, b.order_id, b.earned_at, b.available_at, b.expires_at, b.points,
         b.remaining FROM ledger_buckets b JOIN ledger_entries e ON e.entry_id = b.entry_id
       ORDER BY b.member_id, b.bucket_id`,
    ),
    allocations: await q(
      `SELECT d.idempotency_key AS debit, c.idempotency_key AS credit, a.points
       FROM ledger_allocations a JOIN ledger_entries d ON d.entry_id = a.entry_id
       JOIN ledger_buckets b ON b.bucket_id = a.bucket_id JOIN ledger_entries c ON c.entry_id = b.entry_id
       ORDER BY 1, 2`,
    ),
    orders: await q(
      `SELECT o.order_id, o.member_id, o.ordered_at, o.channel, o.net_amount, o.earned_points,
         e.idempotency_key AS bucket_entry, o.returned_amount, o.reversed_points
       FROM ledger_orders o LEFT JOIN ledger_buckets b ON b.bucket_id = o.bucket_id
       LEFT JOIN ledger_entries e ON e.entry_id = b.entry_id ORDER BY o.order_id`,
    ),
    returns: await q(
      `SELECT return_id, order_id, amount, returned_at, reversed_points FROM ledger_returns ORDER BY return_id`,
    ),
    tierChanges: await q(
      `SELECT member_id, from_tier, to_tier, kind, changed_at, reason FROM ledger_tier_changes
       ORDER BY member_id, change_id`,
    ),
    requests: requests.map((r) => {
      const result = JSON.parse(String(r['result'])) as Record<string, unknown>
      const id = result['entryId']
      return {
        ...r,
        result: { ...result, entryId: id === null ? null : keyOf.get(String(id)) },
      }
    }),
  }
}
