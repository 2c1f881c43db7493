/** Shared helpers of the ledger tests: stores for each backend, a test program, invariant checks. */
import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import postgres from 'postgres'
import { fixedClock, type Clock } from '../../src/core/clock.js'
import { ensureLedgerSchema } from '../../src/ledger/ledger.table.js'
import { Ledger } from '../../src/ledger/ledger.service.js'
import { toInt } from '../../src/ledger/ledger.repository.js'
import type { Program } from '../../src/ledger/program.js'
import { openPgliteStore } from '../../src/ledger/stores/pglite-store.js'
import { openPostgresStore } from '../../src/ledger/stores/postgres-store.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import { T0, testProgram } from './fixtures.js'

export { T0, crashBatch, movableClock, testProgram } from './fixtures.js'

export const STORE_KINDS = ['pglite', 'postgres'] as const
export type StoreKindName = (typeof STORE_KINDS)[number]

/** The base URL of the test server, or a thrown error with the reason it could not start. */
export function postgresUrl(): string {
  const p = inject('ledgerPostgres')
  if (!p) throw new Error('the PostgreSQL globalSetup (test/ledger/postgres-setup.ts) did not run')
  if ('error' in p) throw new Error(`the local PostgreSQL server could not start: ${p.error}`)
  return p.url
}

/** A fresh database on the test server, so that test files running in parallel do not see each other. */
export async function freshPostgresDatabase(): Promise<string> {
  const base = postgresUrl()
  const name = `ledger_${randomBytes(6).toString('hex')}`
  const admin = postgres(base, { max: 1, onnotice: () => {} })
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const u = new URL(base)
  u.pathname = `/${name}`
  return u.toString()
}

/** Opens an empty store of the kind, with the ledger schema. `dir` makes a PGlite store file-backed. */
export async function openTestStore(
  kind: StoreKindName,
  options: { dir?: string; max?: number } = {},
): Promise<LedgerStore> {
  const store =
    kind === 'pglite'
      ? await openPgliteStore(options.dir ?? 'memory://')
      : await openPostgresStore(await freshPostgresDatabase(), { max: options.max ?? 16 })
  await ensureLedgerSchema(store)
  return store
}

/** Empties every ledger table (between tests sharing one store). */
export async function resetStore(store: LedgerStore): Promise<void> {
  await store.exec(
    `TRUNCATE ledger_hold_buckets, ledger_holds, ledger_allocations, ledger_buckets, ledger_returns, ledger_orders, ledger_tier_changes,
       ledger_entries, ledger_requests, ledger_rewards, ledger_accounts RESTART IDENTITY`,
  )
}

export function newLedger(
  store: LedgerStore,
  program: Program = testProgram(),
  clock: Clock = fixedClock(T0),
): Ledger {
  return new Ledger(store, program, { clock })
}

/**
 * Checks every ledger invariant on the whole store and returns the problems (empty when all hold):
 * cached balance = Σ entries; Σ entries = Σ bucket remaining − debt; no bucket consumed beyond its points
 * (allocations = points − remaining); every debit fully allocated except the debt; balance < 0 only with debt.
 */
export async function checkInvariants(store: LedgerStore): Promise<string[]> {
  const problems: string[] = []
  const q = async (label: string, text: string) => {
    const rows = await store.query(text)
    for (const r of rows) problems.push(`${label}: ${JSON.stringify(r)}`)
  }
  await q(
    'balance != sum(entries)',
    `SELECT a.member_id, a.balance, COALESCE(SUM(e.points), 0) AS sum FROM ledger_accounts a
     LEFT JOIN ledger_entries e ON e.member_id = a.member_id GROUP BY a.member_id, a.balance
     HAVING a.balance <> COALESCE(SUM(e.points), 0)`,
  )
  await q(
    'sum(entries) != sum(remaining) - debt',
    `SELECT a.member_id, a.balance, a.debt, COALESCE(b.r, 0) AS remaining FROM ledger_accounts a
     LEFT JOIN (SELECT member_id, SUM(remaining) AS r FROM ledger_buckets GROUP BY member_id) b ON b.member_id = a.member_id
     WHERE a.balance <> COALESCE(b.r, 0) - a.debt`,
  )
  await q(
    'bucket allocations != points - remaining',
    `SELECT b.bucket_id, b.points, b.remaining, COALESCE(SUM(x.points), 0) AS allocated FROM ledger_buckets b
     LEFT JOIN ledger_allocations x ON x.bucket_id = b.bucket_id GROUP BY b.bucket_id, b.points, b.remaining
     HAVING b.points - b.remaining <> COALESCE(SUM(x.points), 0)`,
  )
  await q(
    'debit over-allocated',
    `SELECT e.entry_id, e.points, SUM(x.points) AS allocated FROM ledger_entries e
     JOIN ledger_allocations x ON x.entry_id = e.entry_id GROUP BY e.entry_id, e.points HAVING SUM(x.points) > -e.points`,
  )
  await q(
    'unallocated debit other than return debt',
    `SELECT e.entry_id, e.kind, e.points, COALESCE(SUM(x.points), 0) AS allocated FROM ledger_entries e
     LEFT JOIN ledger_allocations x ON x.entry_id = e.entry_id WHERE e.points < 0 AND e.kind <> 'reverse'
     GROUP BY e.entry_id, e.kind, e.points HAVING COALESCE(SUM(x.points), 0) <> -e.points`,
  )
  await q(
    'debt != unallocated reversals',
    `SELECT a.member_id, a.debt, COALESCE(d.open, 0) AS open FROM ledger_accounts a LEFT JOIN (
       SELECT e.member_id, SUM(-e.points - COALESCE(x.p, 0)) AS open FROM ledger_entries e
       LEFT JOIN (SELECT entry_id, SUM(points) AS p FROM ledger_allocations GROUP BY entry_id) x ON x.entry_id = e.entry_id
       WHERE e.points < 0 GROUP BY e.member_id) d ON d.member_id = a.member_id
     WHERE a.debt <> COALESCE(d.open, 0)`,
  )
  await q(
    'negative balance without debt',
    `SELECT member_id, balance FROM ledger_accounts WHERE balance < 0 AND debt = 0`,
  )
  return problems
}

/** Σ of all entries and per-kind totals, as plain numbers. */
export async function totals(store: LedgerStore): Promise<Record<string, number>> {
  const rows = await store.query(
    `SELECT kind, SUM(points) AS p, count(*) AS n FROM ledger_entries GROUP BY kind ORDER BY kind`,
  )
  const out: Record<string, number> = {}
  for (const r of rows) {
    out[`${String(r['kind'])}_points`] = toInt(r['p'])
    out[`${String(r['kind'])}_count`] = toInt(r['n'])
  }
  return out
}
