/**
 * The ledger's storage interface: PostgreSQL-dialect SQL with `$n` placeholders, run either in-process on
 * PGlite (the embedded default) or on a PostgreSQL server through postgres.js. Both run the same SQL text.
 * @module
 */

/** Runs SQL inside a transaction (or autocommit outside one). Values come back as the client returns them. */
export interface SqlExecutor {
  query<T extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<T[]>
  /**
   * Appends rows to `table` with `COPY … FROM STDIN`: `text` is in PostgreSQL's COPY text format (one row per
   * line, columns separated by tabs, `\N` for null; see {@link copyText}), as a string or UTF-8 bytes. For
   * bulk loads only.
   */
  copyIn(table: string, columns: readonly string[], text: string | Uint8Array<ArrayBuffer>): Promise<void>
}

const IDENTIFIER_RE = /^[a-z_][a-z0-9_]*$/

/** The `COPY … FROM <source>` statement for validated identifiers. */
export function copyStatement(table: string, columns: readonly string[], source: string): string {
  for (const name of [table, ...columns]) {
    if (!IDENTIFIER_RE.test(name)) throw new Error(`not a plain identifier: ${name}`)
  }
  return `COPY ${table} (${columns.join(', ')}) FROM ${source}`
}

/** One value in COPY text format: null as `\N`; backslash, tab, newline and carriage return escaped. */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N'
  const s = typeof v === 'string' ? v : String(v)
  return /[\\\t\n\r]/.test(s)
    ? s.replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      )
    : s
}

/** Rows `[from, to)` of column arrays in COPY text format. */
export function copyText(
  cols: readonly (readonly unknown[])[],
  from = 0,
  to = cols[0]?.length ?? 0,
): string {
  const lines: string[] = []
  const line: string[] = new Array<string>(cols.length)
  for (let r = from; r < to; r++) {
    for (let c = 0; c < cols.length; c++) line[c] = copyValue((cols[c] as readonly unknown[])[r])
    lines.push(line.join('\t'))
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}

export type StoreKind = 'pglite' | 'postgres'

/** An open ledger store. Repository functions take a {@link SqlExecutor} (the transaction) first. */
export interface LedgerStore extends SqlExecutor {
  readonly kind: StoreKind
  /** Data directory, `memory://`, or the server URL without its password. */
  readonly location: string
  /**
   * Runs `fn` in one READ COMMITTED transaction: committed when it resolves, rolled back when it throws.
   * Row locks (`SELECT … FOR UPDATE`) taken inside are held until the end.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>
  /** Runs several statements separated by `;` (schema creation). No parameters. */
  exec(text: string): Promise<void>
  /**
   * Says what holds the store, for the message another process gets when it finds the embedded ledger
   * directory locked (e.g. `memberlens serve at http://127.0.0.1:3000`). A no-op where nothing is locked.
   */
  describeHolder(holder: string): void
  close(): Promise<void>
}

/** SQLSTATE codes the service retries: a unique key taken concurrently, a serialization failure, a deadlock. */
export const RETRYABLE_SQLSTATES = new Set(['23505', '40001', '40P01'])

/** The SQLSTATE of a database error from either client, if any. */
export function sqlState(error: unknown): string | undefined {
  if (error !== null && typeof error === 'object' && 'code' in error) {
    const c = (error as { code: unknown }).code
    if (typeof c === 'string' && /^[0-9A-Z]{5}$/.test(c)) return c
  }
  return undefined
}
