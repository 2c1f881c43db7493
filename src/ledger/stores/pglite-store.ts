/**
 * The embedded ledger store: PostgreSQL compiled to WebAssembly (PGlite), in-process, file-backed.
 *
 * Why PGlite and not DuckDB for the ledger: the ledger is many small read-modify-write transactions that must
 * lock one member's account (`SELECT … FOR UPDATE`) so two channels cannot spend the same points. DuckDB is an
 * analytics engine with optimistic concurrency control (conflicting writers abort rather than wait) and no row
 * locks; PGlite is PostgreSQL itself, so the embedded store runs the very SQL the PostgreSQL store runs.
 * PGlite has one connection: transactions queue and run one at a time, which is correct but does not scale
 * with clients (use PostgreSQL for several application instances).
 * @module
 */
import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { copyStatement, type LedgerStore, type SqlExecutor } from './store.js'

/** The default embedded ledger directory. */
export const DEFAULT_LEDGER_DIR = './memberlens-ledger'

type Queryable = Pick<PGlite, 'query'>

function executor(db: Queryable): SqlExecutor {
  return {
    async query<T extends Record<string, unknown>>(text: string, params: readonly unknown[] = []) {
      const r = await db.query<T>(text, params as unknown[])
      return r.rows
    },
    async copyIn(table, columns, text) {
      // PGlite reads COPY input from a blob attached to the query.
      await db.query(copyStatement(table, columns, "'/dev/blob'"), [], { blob: new Blob([text]) })
    },
  }
}

/**
 * Opens (creating if needed) a PGlite ledger in `dir`, or in memory for `memory://`.
 * A second process must not open the same directory at the same time: PGlite does not share files.
 */
export async function openPgliteStore(dir: string = DEFAULT_LEDGER_DIR): Promise<LedgerStore> {
  const memory = dir === 'memory://' || dir === ':memory:'
  if (!memory) await mkdir(dir, { recursive: true })
  const db = memory ? new PGlite() : new PGlite(dir)
  await db.waitReady
  const top = executor(db)
  return {
    kind: 'pglite',
    location: memory ? 'memory://' : dir,
    query: top.query,
    copyIn: top.copyIn,
    transaction: (fn) => db.transaction((tx) => fn(executor(tx))),
    exec: async (text) => {
      await db.exec(text)
    },
    close: () => db.close(),
  }
}
