/**
 * The embedded ledger store: PostgreSQL compiled to WebAssembly (PGlite), in-process, file-backed.
 *
 * Why PGlite and not DuckDB for the ledger: the ledger is many small read-modify-write transactions that must
 * lock one member's account (`SELECT … FOR UPDATE`) so two channels cannot spend the same points. DuckDB is an
 * analytics engine with optimistic concurrency control (conflicting writers abort rather than wait) and no row
 * locks; PGlite is PostgreSQL itself, so the embedded store runs the very SQL the PostgreSQL store runs.
 * PGlite has one connection: transactions queue and run one at a time, which is correct but does not scale
 * with clients (use PostgreSQL for several application instances). One process at a time may open a directory:
 * see ./dir-lock.ts.
 * @module
 */
import { mkdir } from 'node:fs/promises'
import { basename } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { lockLedgerDir, type DirLock } from './dir-lock.js'
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

/** What this process is, for the lock file: `memberlens points earn`, or the script node runs. */
export function describeThisProcess(): string {
  const script = basename(process.argv[1] ?? '')
  if (/^memberlens(\.[cm]?[jt]s)?$/.test(script)) {
    const words = process.argv
      .slice(2)
      .filter((a) => !a.startsWith('-'))
      .slice(0, 2)
    return ['memberlens', ...words].join(' ')
  }
  return `${basename(process.argv0)} ${script}`.trim()
}

export interface PgliteStoreOptions {
  /** What holds the directory, named to a second process that finds it locked (default: this command). */
  readonly holder?: string
}

/**
 * Opens (creating if needed) a PGlite ledger in `dir`, or in memory for `memory://`. A directory is locked for
 * this process until {@link LedgerStore.close} (or exit): a second process gets a {@link LedgerInUseError}
 * naming the holder instead of opening it, because PGlite does not share its files.
 */
export async function openPgliteStore(
  dir: string = DEFAULT_LEDGER_DIR,
  options: PgliteStoreOptions = {},
): Promise<LedgerStore> {
  const memory = dir === 'memory://' || dir === ':memory:'
  let lock: DirLock | undefined
  if (!memory) {
    await mkdir(dir, { recursive: true })
    lock = await lockLedgerDir(dir, options.holder ?? describeThisProcess())
  }
  let db: PGlite
  try {
    db = memory ? new PGlite() : new PGlite(dir)
    await db.waitReady
  } catch (error) {
    lock?.release()
    throw error
  }
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
    describeHolder: (holder) => lock?.describe(holder),
    close: async () => {
      try {
        await db.close()
      } finally {
        lock?.release()
      }
    },
  }
}
