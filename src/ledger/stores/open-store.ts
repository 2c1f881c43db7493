/**
 * Opens the ledger store named by `--ledger`: a PostgreSQL URL, or a directory for the embedded store.
 * @module
 */
import { ensureLedgerSchema } from '../ledger.table.js'
import { openPgliteStore } from './pglite-store.js'
import { openPostgresStore } from './postgres-store.js'
import type { LedgerStore } from './store.js'

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location)
}

export interface OpenLedgerOptions {
  /**
   * What this process is, written into an embedded ledger's lock file and named to a second process that
   * tries to open the directory (default: the command line, e.g. `memberlens points earn`).
   */
  readonly holder?: string
}

/** Opens the store without looking at its schema (for `memberlens ledger migrate`). */
export async function openLedgerStoreOnly(
  location: string,
  options: OpenLedgerOptions = {},
): Promise<LedgerStore> {
  return isPostgresUrl(location)
    ? openPostgresStore(location)
    : openPgliteStore(location, options.holder === undefined ? {} : { holder: options.holder })
}

/**
 * Opens the store and checks its schema version: an up-to-date ledger costs one read and no DDL; a new or
 * older one is migrated first (once, under an advisory lock; see `migrateLedger`).
 */
export async function openLedgerStore(
  location: string,
  options: OpenLedgerOptions = {},
): Promise<LedgerStore> {
  const store = await openLedgerStoreOnly(location, options)
  try {
    await ensureLedgerSchema(store)
  } catch (error) {
    await store.close()
    throw error
  }
  return store
}
