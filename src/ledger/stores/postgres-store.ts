/**
 * The server ledger store: PostgreSQL through postgres.js, for deployments with several application
 * instances. Same SQL as the embedded store; concurrency comes from the server's row locks.
 * @module
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import postgres from 'postgres'
import { copyStatement, type LedgerStore, type SqlExecutor } from './store.js'

export interface PostgresStoreOptions {
  /** Connections in the pool (default 16). */
  readonly max?: number
}

/** `postgres://user:secret@host/db` → `postgres://user@host/db`, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    u.password = ''
    return u.toString()
  } catch {
    return 'postgres://(unparsable url)'
  }
}

type Unsafe = Pick<postgres.Sql, 'unsafe'>

function executor(sql: Unsafe): SqlExecutor {
  return {
    async query<T extends Record<string, unknown>>(text: string, params: readonly unknown[] = []) {
      const rows = await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], {
        prepare: true,
      })
      return rows as unknown as T[]
    },
    async copyIn(table, columns, text) {
      const sink = await sql.unsafe(copyStatement(table, columns, 'STDIN')).writable()
      await pipeline(Readable.from([typeof text === 'string' ? Buffer.from(text) : text]), sink)
    },
  }
}

/** Connects to PostgreSQL at `url` (postgres:// or postgresql://). */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<LedgerStore> {
  const sql = postgres(url, {
    max: options.max ?? 16,
    onnotice: () => {},
    // Points and money are read as text and converted by the repository, identically for both stores.
    types: {},
  })
  // Fail at open, with the server's reason, rather than on the first write.
  await sql`select 1`
  const top = executor(sql)
  return {
    kind: 'postgres',
    location: redactUrl(url),
    query: top.query,
    copyIn: top.copyIn,
    transaction: async (fn) =>
      (await sql.begin((tx) => fn(executor(tx)))) as Awaited<ReturnType<typeof fn>>,
    exec: async (text) => {
      await sql.unsafe(text)
    },
    // Many processes share a server: nothing is locked, nothing to describe.
    describeHolder: () => {},
    close: () => sql.end({ timeout: 5 }),
  }
}
