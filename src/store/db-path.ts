/**
 * Where the member database is by default, and whether a database file is there. Kept apart from
 * `database.ts` so that the CLI's configuration can name the default without loading the DuckDB engine.
 * @module
 */
import { existsSync } from 'node:fs'

export const DEFAULT_DB_PATH = './memberlens.duckdb'

/** True for `:memory:` and for a database file that exists. */
export function databaseExists(path: string): boolean {
  return path === ':memory:' || existsSync(path)
}
