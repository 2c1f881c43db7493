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

/** Opens the store and makes sure the ledger tables exist. */
export async function openLedgerStore(location: string): Promise<LedgerStore> {
  const store = isPostgresUrl(location)
    ? await openPostgresStore(location)
    : await openPgliteStore(location)
  try {
    await ensureLedgerSchema(store)
  } catch (error) {
    await store.close()
    throw error
  }
  return store
}
