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
import { ensureLoyaltyTables } from '../../src/analytics/loyalty/sync.js'
import {
  copyLoyaltyTables,
  copyToClickHouse,
  ensureClickHouseSchema,
} from '../../src/duckdb/clickhouse-copy.js'
import { sql } from '../../src/engine/sql/fragment.js'
import { ClickHouseDriver } from '../../src/engine/drivers/clickhouse-driver.js'
import { simulate } from '../../src/simulate/simulate.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { ingestSimulated } from '../helpers/db.js'

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
  await ingestSimulated(duck.driver, sim.files)
  return duck
}

/**
 * Fills the loyalty tables from the simulated orders: two members in three enrolled a day after registering,
 * earning a point per unit of net amount, redeeming half of every fourth order's points an hour later, losing
 * 10 points to expiry 30 days after every seventh order; upgrades and downgrades for some members.
 */
async function addLoyalty(duck: Database): Promise<void> {
  await ensureLoyaltyTables(duck.driver)
  const d = duck.driver
  await d.execute(sql`INSERT INTO loyalty_accounts
    SELECT 'L' || member_id, member_id, registered_at + INTERVAL 1 DAY, 0, 0,
      CASE WHEN member_id % 3 = 1 THEN 'gold' ELSE 'silver' END, NULL, NULL, registered_at
    FROM members WHERE member_id % 3 <> 0`)
  await d.execute(sql`INSERT INTO loyalty_entries
    SELECT row_number() OVER (ORDER BY ts, ledger_member, kind), ledger_member, member_id, kind, points, ts, ts, 'test', 'order', order_id
    FROM (
      SELECT a.ledger_member, a.member_id, 'earn' AS kind, CAST(floor(o.net_amount) AS BIGINT) AS points, o.ordered_at AS ts, o.order_id, o.n
      FROM (SELECT *, row_number() OVER (ORDER BY order_id) AS n FROM orders WHERE status <> 'cancelled') o
        JOIN loyalty_accounts a ON a.member_id = o.member_id
      UNION ALL
      SELECT a.ledger_member, a.member_id, 'redeem', -CAST(floor(o.net_amount / 2) AS BIGINT), o.ordered_at + INTERVAL 1 HOUR, o.order_id, o.n
      FROM (SELECT *, row_number() OVER (ORDER BY order_id) AS n FROM orders WHERE status <> 'cancelled') o
        JOIN loyalty_accounts a ON a.member_id = o.member_id WHERE o.n % 4 = 0
      UNION ALL
      SELECT a.ledger_member, a.member_id, 'expire', -10, o.ordered_at + INTERVAL 30 DAY, o.order_id, o.n
      FROM (SELECT *, row_number() OVER (ORDER BY order_id) AS n FROM orders WHERE status <> 'cancelled') o
        JOIN loyalty_accounts a ON a.member_id = o.member_id WHERE o.n % 7 = 0
    ) e`)
  await d.execute(sql`INSERT INTO loyalty_tier_changes
    SELECT row_number() OVER (ORDER BY member_id, kind), ledger_member, member_id, from_tier, to_tier, kind, ts, 'test'
    FROM (
      SELECT ledger_member, member_id, 'silver' AS from_tier, 'gold' AS to_tier, 'upgrade' AS kind, enrolled_at + INTERVAL 40 DAY AS ts
      FROM loyalty_accounts WHERE member_id % 5 = 0
      UNION ALL
      SELECT ledger_member, member_id, 'gold', 'silver', 'downgrade', enrolled_at + INTERVAL 200 DAY
      FROM loyalty_accounts WHERE member_id % 10 = 0
    ) t`)
  await d.execute(
    sql`INSERT INTO loyalty_sync_state VALUES ('point_value', '0.01'), ('currency', 'CNY')`,
  )
}

/** Simulates `members` persons over `months` months, ingests them into DuckDB and copies them to chdb. */
export async function openEngines(members = 400, months = 13): Promise<Engines> {
  const { duck, ch, dir } = await openDuckAndChdb(members, months)
  const copied = await copyToClickHouse(duck.driver, ch, { fileAccess: 'local' })
  Object.assign(copied, await copyLoyaltyTables(duck.driver, ch, { fileAccess: 'local' }))
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

/** The simulated DuckDB database (with loyalty tables) and an empty chdb with the canonical tables. */
export async function openDuckAndChdb(
  members: number,
  months: number,
): Promise<{ duck: Database; ch: ClickHouseDriver; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'memberlens-ch-'))
  const duck = await simulatedDuckDb(dir, members, months)
  await addLoyalty(duck)
  const chdbDir = join(dir, 'chdb')
  // chdb implements the client's Connection interface; its declarations come from client-common, whose
  // settings type the client re-declares, so the two are structurally equal but not assignable.
  type ClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection']
  const connection = createChdbConnection({ path: chdbDir }) as unknown as ClientConnection
  const client = createClient({ connection })
  const ch = ClickHouseDriver.fromClient(client)
  await ensureClickHouseSchema(ch)
  return { duck, ch, dir }
}
