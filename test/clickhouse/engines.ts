/**
 * The two engines of the differential tests: a small simulated member base loaded through the ordinary
 * ingest path into DuckDB, and the same tables copied into ClickHouse (chdb, in-process).
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '@clickhouse/client'
import { createChdbConnection } from 'chdb/connection'
import { copyToClickHouse, ensureClickHouseSchema } from '../../src/engine/clickhouse/load.js'
import { ClickHouseDriver } from '../../src/engine/drivers/clickhouse-driver.js'
import { ingestFile } from '../../src/ingest/ingest.js'
import { simulate } from '../../src/simulate/simulate.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { TEST_CLOCK } from '../helpers/db.js'
import type { IngestTable } from '../../src/core/schema.js'

/** The demo's load order: members first, then what refers to them, then what refers to orders. */
const LOAD_ORDER: readonly IngestTable[] = [
  'members',
  'orders',
  'order_items',
  'returns',
  'events',
  'feedback',
  'touches',
  'experiments',
  'subscriptions',
  'acquisition_spend',
]

export interface Engines {
  readonly duck: Database
  readonly ch: ClickHouseDriver
  /** Rows copied per table. */
  readonly copied: Record<string, number>
  close(): Promise<void>
}

/** A DuckDB database of `members` simulated persons over `months` months, loaded by the ordinary ingest. */
export async function simulatedDuckDb(dir: string, members = 600, months = 14): Promise<Database> {
  const sim = await simulate(dir, { members, months, seed: 11, end: '2026-10-31' })
  const duck = await openDatabase(':memory:', { threads: 1 })
  const files = sim.files as Record<string, string>
  for (const t of LOAD_ORDER) {
    const f = files[t]
    if (f !== undefined) await ingestFile(duck.driver, f, { table: t, clock: TEST_CLOCK })
  }
  return duck
}

/** Simulates `members` persons over `months` months, ingests them into DuckDB and copies them to chdb. */
export async function openEngines(members = 600, months = 14): Promise<Engines> {
  const dir = await mkdtemp(join(tmpdir(), 'memberlens-ch-'))
  const duck = await simulatedDuckDb(dir, members, months)
  const chdbDir = join(dir, 'chdb')
  // chdb implements the client's Connection interface; its declarations come from client-common, whose
  // settings type the client re-declares, so the two are structurally equal but not assignable.
  type ClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection']
  const connection = createChdbConnection({ path: chdbDir }) as unknown as ClientConnection
  const client = createClient({ connection })
  const ch = ClickHouseDriver.fromClient(client)
  await ensureClickHouseSchema(ch)
  const copied = await copyToClickHouse(duck.driver, ch)
  return {
    duck,
    ch,
    copied,
    close: async () => {
      await ch.close()
      await duck.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
