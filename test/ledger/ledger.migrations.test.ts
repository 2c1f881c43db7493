/**
 * Schema migrations: applied once (versioned in `ledger_migrations`, under an advisory lock), adopted by a
 * ledger created before versioning, refused when newer than the code, and never run by opening an up-to-date
 * ledger. On PostgreSQL, CLI-style calls (open, one write, close) during concurrent earn load see no deadlock
 * and never fail, where running the schema DDL on every open deadlocked with the live earns.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/core/clock.js'
import { ConfigError } from '../../src/core/errors.js'
import {
  LEDGER_MIGRATIONS,
  LEDGER_SCHEMA_VERSION,
  ensureLedgerSchema,
  ledgerSchemaVersion,
  migrateLedger,
} from '../../src/ledger/ledger.table.js'
import { Ledger } from '../../src/ledger/ledger.service.js'
import { openLedgerStore } from '../../src/ledger/stores/open-store.js'
import { openPgliteStore } from '../../src/ledger/stores/pglite-store.js'
import { openPostgresStore } from '../../src/ledger/stores/postgres-store.js'
import { sqlState, type LedgerStore, type SqlExecutor } from '../../src/ledger/stores/store.js'
import { STORE_KINDS, T0, freshPostgresDatabase, testProgram } from './helpers.js'
import { runCli } from '../helpers/cli.js'

/** Opens an empty store of the kind without touching its schema. */
async function emptyStore(kind: (typeof STORE_KINDS)[number]): Promise<LedgerStore> {
  return kind === 'pglite'
    ? openPgliteStore('memory://')
    : openPostgresStore(await freshPostgresDatabase(), { max: 4 })
}

/** The store, with every statement it is sent (in or out of a transaction) appended to `log`. */
function recording(store: LedgerStore, log: string[]): LedgerStore {
  const watch = (db: SqlExecutor): SqlExecutor['query'] =>
    async function query<T extends Record<string, unknown>>(
      text: string,
      params?: readonly unknown[],
    ): Promise<T[]> {
      log.push(text)
      return db.query<T>(text, params)
    }
  return {
    ...store,
    query: watch(store),
    exec: async (text) => {
      log.push(text)
      await store.exec(text)
    },
    transaction: (fn) => {
      log.push('BEGIN')
      return store.transaction((tx) => fn({ ...tx, query: watch(tx) }))
    },
  }
}

/** Runs the CLI in-process; returns its exit code and what it printed. */
const cli = (...args: string[]) => runCli(args)

describe.each(STORE_KINDS)('ledger migrations on %s', (kind) => {
  it('applies every migration once, records it, and an up-to-date open runs one read and no DDL', async () => {
    const store = await emptyStore(kind)
    try {
      expect(await ledgerSchemaVersion(store)).toBe(0)
      const first = await ensureLedgerSchema(store)
      expect(first).toEqual({
        from: 0,
        to: LEDGER_SCHEMA_VERSION,
        applied: LEDGER_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
      })
      const rows = await store.query<{ version: unknown }>(
        'SELECT version FROM ledger_migrations ORDER BY version',
      )
      expect(rows.map((r) => Number(r.version))).toEqual(LEDGER_MIGRATIONS.map((m) => m.version))

      const log: string[] = []
      const again = await ensureLedgerSchema(recording(store, log))
      expect(again.applied).toEqual([])
      // One plain read of the version table: no transaction, no lock, no DDL.
      expect(log).toHaveLength(1)
      expect(log[0]).toMatch(/^SELECT\b/)
      expect(log.join('\n')).not.toMatch(/\b(CREATE|ALTER|DROP|LOCK|BEGIN)\b|advisory/i)
      // Migrating explicitly again finds nothing to do.
      expect((await migrateLedger(store)).applied).toEqual([])
    } finally {
      await store.close()
    }
  })

  it('adopts a ledger created before migrations were versioned, keeping its data', async () => {
    const store = await emptyStore(kind)
    try {
      await migrateLedger(store)
      const ledger = new Ledger(store, testProgram(), { clock: fixedClock(T0) })
      await ledger.enroll({ memberId: 'm1', idempotencyKey: 'enroll-m1', at: T0 })
      await ledger.earnForOrder({
        memberId: 'm1',
        orderId: 'O1',
        amount: '120',
        channel: 'web',
        idempotencyKey: 'order-O1',
        at: T0,
      })
      // What an earlier release left behind: the tables, no version table.
      await store.exec('DROP TABLE ledger_migrations')
      expect(await ledgerSchemaVersion(store)).toBe(0)
      const r = await ensureLedgerSchema(store)
      expect(r.from).toBe(0)
      expect(r.applied.map((m) => m.version)).toEqual(LEDGER_MIGRATIONS.map((m) => m.version))
      expect((await ledger.balance('m1', T0)).balance).toBe(120)
    } finally {
      await store.close()
    }
  })

  it('refuses a ledger whose schema is newer than this code', async () => {
    const store = await emptyStore(kind)
    try {
      await migrateLedger(store)
      await store.query('INSERT INTO ledger_migrations (version, name) VALUES ($1, $2)', [
        LEDGER_SCHEMA_VERSION + 1,
        'from a later release',
      ])
      const refused = ensureLedgerSchema(store)
      await expect(refused).rejects.toBeInstanceOf(ConfigError)
      await expect(ensureLedgerSchema(store)).rejects.toThrow(
        new RegExp(
          `schema version ${LEDGER_SCHEMA_VERSION + 1}, newer than this memberlens understands \\(${LEDGER_SCHEMA_VERSION}\\): upgrade memberlens`,
        ),
      )
      await expect(migrateLedger(store)).rejects.toBeInstanceOf(ConfigError)
    } finally {
      await store.close()
    }
  })
})

describe('memberlens ledger migrate', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memberlens-migrate-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it.each(STORE_KINDS)('creates the schema on %s, then reports it up to date', async (kind) => {
    const location = kind === 'pglite' ? join(dir, 'ledger') : await freshPostgresDatabase()
    const first = await cli('ledger', 'migrate', '--ledger', location, '--json')
    expect(first.code, first.err).toBe(0)
    expect(JSON.parse(first.out)).toMatchObject({
      from: 0,
      to: LEDGER_SCHEMA_VERSION,
      applied: LEDGER_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
    })
    const second = await cli('ledger', 'migrate', '--ledger', location)
    expect(second.code, second.err).toBe(0)
    expect(second.out).toMatch(new RegExp(`schema version ${LEDGER_SCHEMA_VERSION}, up to date`))
  })

  it('applies the migrations exactly once when several instances start at once on one server', async () => {
    const url = await freshPostgresDatabase()
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => openPostgresStore(url, { max: 1 })),
    )
    try {
      const reports = await Promise.all(stores.map((s) => ensureLedgerSchema(s)))
      expect(reports.flatMap((r) => r.applied).map((m) => m.version)).toEqual(
        LEDGER_MIGRATIONS.map((m) => m.version),
      )
    } finally {
      await Promise.all(stores.map((s) => s.close()))
    }
  })
})

describe('CLI calls during earn load on PostgreSQL', () => {
  it('never deadlock and never fail', async () => {
    const url = await freshPostgresDatabase()
    const setup = await openLedgerStore(url)
    const MEMBERS = 12
    const program = testProgram()
    // The live side, like a server: a pooled store whose deadlocks (retried invisibly by the ledger) are counted.
    const seen: string[] = []
    const watch = (db: SqlExecutor): SqlExecutor['query'] =>
      async function query<T extends Record<string, unknown>>(
        text: string,
        params?: readonly unknown[],
      ): Promise<T[]> {
        try {
          return await db.query<T>(text, params)
        } catch (error) {
          seen.push(sqlState(error) ?? String(error))
          throw error
        }
      }
    const live: LedgerStore = {
      ...setup,
      query: watch(setup),
      transaction: (fn) => setup.transaction((tx) => fn({ ...tx, query: watch(tx) })),
    }
    const server = new Ledger(live, program, { clock: fixedClock(T0) })
    for (let m = 0; m < MEMBERS; m++)
      await server.enroll({ memberId: `m${m}`, idempotencyKey: `enroll-m${m}`, at: T0 })
    // Orders the CLI will return while the load runs.
    for (let i = 0; i < 8; i++)
      await server.earnForOrder({
        memberId: `m${i % MEMBERS}`,
        orderId: `R${i}`,
        amount: '80',
        channel: 'store',
        idempotencyKey: `order-R${i}`,
        at: T0,
      })

    let stop = false
    let loadEarns = 0
    const loadErrors: unknown[] = []
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        try {
          await server.earnForOrder({
            memberId: `m${(w + i) % MEMBERS}`,
            orderId: `L${w}-${i}`,
            amount: '5',
            channel: 'app',
            idempotencyKey: `order-L${w}-${i}`,
            at: T0,
          })
          loadEarns++
        } catch (error) {
          loadErrors.push(error)
        }
      }
    }
    const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)))

    // The CLI side: each call opens the ledger as `memberlens points …` does, writes once, and closes.
    const cliErrors: unknown[] = []
    let cliCalls = 0
    try {
      for (let i = 0; i < 8; i++) {
        for (const op of ['return', 'earn'] as const) {
          try {
            const store = await openLedgerStore(url)
            try {
              const ledger = new Ledger(store, program, { clock: fixedClock(T0) })
              if (op === 'return')
                await ledger.reverseForReturn({
                  orderId: `R${i}`,
                  returnId: `RET${i}`,
                  amount: '40',
                  idempotencyKey: `return-RET${i}`,
                  at: T0,
                })
              else
                await ledger.earnForOrder({
                  memberId: `m${i % MEMBERS}`,
                  orderId: `C${i}`,
                  amount: '30',
                  channel: 'store',
                  idempotencyKey: `order-C${i}`,
                  at: T0,
                })
              cliCalls++
            } finally {
              await store.close()
            }
          } catch (error) {
            cliErrors.push(error)
          }
        }
      }
    } finally {
      stop = true
      await load
    }
    try {
      expect(cliErrors).toEqual([])
      expect(cliCalls).toBe(16)
      expect(loadErrors).toEqual([])
      expect(loadEarns).toBeGreaterThan(0)
      expect(seen.filter((s) => s === '40P01')).toEqual([])
      const returns = await setup.query<{ n: unknown }>('SELECT count(*) AS n FROM ledger_returns')
      expect(Number(returns[0]?.n)).toBe(8)
    } finally {
      await setup.close()
    }
    // The server's own count, once every session has ended and flushed its statistics.
    const admin = postgres(url, { max: 1, onnotice: () => {} })
    try {
      await new Promise((ok) => setTimeout(ok, 1_500))
      const [row] = await admin<{ deadlocks: string }[]>`
        SELECT deadlocks::text AS deadlocks FROM pg_stat_database WHERE datname = current_database()`
      expect(row?.deadlocks).toBe('0')
    } finally {
      await admin.end()
    }
  })
})
