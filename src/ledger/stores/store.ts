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
