/**
 * Facts about the database itself, kept in `memberlens_meta`: whether the demo built it.
 * @module
 */
import type { Driver } from '../engine/drivers/driver.js'
import { sql } from '../engine/sql/fragment.js'

/** Marks the database as the demo's, so that a later `demo` may rebuild it. */
export async function markDemoDatabase(driver: Driver): Promise<void> {
  await driver.execute(
    sql`INSERT INTO memberlens_meta VALUES ('demo', 'true') ON CONFLICT DO UPDATE SET value = 'true'`,
  )
}

/** Whether the demo built the database, and whether anything was ever loaded into it. */
export async function demoDatabaseState(
  driver: Driver,
): Promise<{ readonly isDemo: boolean; readonly empty: boolean }> {
  const row = await driver.first<{ demo: string | null; loads: bigint | number }>(
    sql`SELECT (SELECT value FROM memberlens_meta WHERE key = 'demo') AS demo, (SELECT count(*) FROM loads) AS loads`,
  )
  return { isDemo: row?.demo === 'true', empty: Number(row?.loads ?? 0) === 0 }
}
