/**
 * The member database as commands open it: the `--db` option and one helper that opens the file for reading
 * or writing, runs a function and closes it, whatever happens.
 * @module
 */
import { Option } from 'commander'
import { DEFAULT_DB_PATH, openDatabase, type Database } from '../store/database.js'

/** `--db <file>`: the member database (default `./memberlens.duckdb`, or the config's `db`). */
export const dbOption = (description = 'database file') =>
  new Option('--db <file>', description).default(DEFAULT_DB_PATH)

/**
 * Opens the database, runs `fn`, closes it. `read` opens it read-only (other readers may share the file;
 * nothing can be written); `write` opens it for writing and creates missing tables.
 */
export async function withDatabase<T>(
  path: string,
  access: 'read' | 'write',
  fn: (db: Database) => Promise<T>,
): Promise<T> {
  const db = await openDatabase(path, { readOnly: access === 'read' })
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}
