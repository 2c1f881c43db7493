/**
 * Where the database lives by default. Kept apart from `database.ts` so that code which only needs the
 * path does not load the database engine.
 * @module
 */

/** The database file used when no other is given. */
export const DEFAULT_DB_PATH = './memberlens.duckdb'
