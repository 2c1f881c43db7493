/**
 * Hand-written fixtures for the retention, lifecycle, RFM, survival, funnel and segment tests: an in-memory
 * database with the canonical schema and a typed row inserter (no ingest path, so each test shows its rows).
 */
import { ident, join, sql } from '../../src/engine/sql/fragment.js'
import type { SqlValue } from '../../src/engine/compiled-query.js'
import { openDatabase, type Database } from '../../src/store/database.js'

export async function memoryDb(): Promise<Database> {
  return openDatabase(':memory:', { threads: 1 })
}

/** Inserts rows given as objects; every row must have the same keys. */
export async function insert(
  db: Database,
  table: string,
  rows: ReadonlyArray<Record<string, SqlValue>>,
): Promise<void> {
  const first = rows[0]
  if (first === undefined) return
  const cols = Object.keys(first)
  const values = rows.map((r) => sql`(${join(cols.map((c) => r[c] ?? null))})`)
  await db.driver.execute(
    sql`INSERT INTO ${ident(table)} (${join(cols.map((c) => ident(c)))}) VALUES ${join(values)}`,
  )
}

/** Members with only the fields a test cares about. */
export function member(
  id: number,
  registeredAt: string,
  extra: Record<string, SqlValue> = {},
): Record<string, SqlValue> {
  return {
    member_id: id,
    registered_at: registeredAt,
    registration_channel: null,
    region: null,
    consent_sms: null,
    consent_email: null,
    consent_wechat: null,
    consent_push: null,
    attributes: null,
    ...extra,
  }
}

let orderSeq = 0
/** A purchase (status paid unless given). */
export function order(
  memberId: number,
  at: string,
  amount: number,
  status = 'paid',
  channel = 'app',
): Record<string, SqlValue> {
  orderSeq++
  return {
    order_id: `O${orderSeq}`,
    member_id: memberId,
    ordered_at: at,
    channel,
    net_amount: amount,
    status,
  }
}

let eventSeq = 0
export function event(
  memberId: number,
  at: string,
  type = 'login',
  properties: string | null = null,
): Record<string, SqlValue> {
  eventSeq++
  return { event_id: `E${eventSeq}`, member_id: memberId, ts: at, event_type: type, properties }
}
