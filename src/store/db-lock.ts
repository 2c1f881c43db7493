/**
 * Waiting for a DuckDB database file that another process holds. The code lives with the DuckDB driver
 * (`engine/drivers/lock-wait.ts`), which uses it on every open; this module keeps the names where the CLI,
 * the server and the tests have always imported them.
 * @module
 */
export {
  DatabaseBusyError,
  lockHolderOf,
  lockWaitPolicy,
  retryWhileLocked,
  setLockWaitPolicy,
  type LockHolder,
  type LockWaitPolicy,
} from '../duckdb/lock-wait.js'
