import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fixedClock } from '../../src/core/clock.js'
import {
  ingestFile,
  type IngestOptions,
  type IngestReport,
} from '../../src/duckdb/ingest/ingest.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { INGEST_TABLES, type IngestTable } from '../../src/core/schema.js'
import type { DuckDbDriver } from '../../src/duckdb/driver.js'

export const TEST_CLOCK = fixedClock('2026-11-01T00:00:00Z')

/** A scratch directory and an in-memory database, removed by `cleanup`. */
export async function scratch(): Promise<{
  dir: string
  db: Database
  file: (name: string, content: string | Buffer) => Promise<string>
  ingest: (table: IngestTable, path: string, opts?: Partial<IngestOptions>) => Promise<IngestReport>
  cleanup: () => Promise<void>
}> {
  const dir = await mkdtemp(join(tmpdir(), 'memberlens-test-'))
  const db = await openDatabase(':memory:', { threads: 1 })
  return {
    dir,
    db,
    file: async (name, content) => {
      const p = join(dir, name)
      await writeFile(p, content)
      return p
    },
    ingest: (table, path, opts = {}) =>
      ingestFile(db.driver, path, { table, clock: TEST_CLOCK, ...opts }),
    cleanup: async () => {
      await db.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Loads the files a simulation wrote (`files`, by table name) into `driver` through ingest, in the order of
 * `tables` (default: every table, in load order); a table without a file is skipped.
 */
export async function ingestSimulated(
  driver: DuckDbDriver,
  files: Readonly<Record<string, string>>,
  tables: readonly IngestTable[] = INGEST_TABLES,
): Promise<void> {
  for (const t of tables) {
    const f = files[t]
    if (f !== undefined) await ingestFile(driver, f, { table: t, clock: TEST_CLOCK })
  }
}

/** Every canonical table's rows, for "nothing changed" assertions. */
export async function snapshot(db: Database): Promise<string> {
  const tables = [
    'members',
    'identities',
    'member_merges',
    'orders',
    'order_items',
    'returns',
    'events',
    'feedback',
    'touches',
    'experiments',
    'subscriptions',
    'acquisition_spend',
    'visitors',
    'coupons',
    'loads',
  ]
  const out: Record<string, unknown> = {}
  for (const t of tables) {
    out[t] = await db.driver.all({ sql: `SELECT * FROM ${t} ORDER BY ALL`, parameters: [] })
  }
  return JSON.stringify(out, (_, v) => (typeof v === 'bigint' ? v.toString() : v))
}
