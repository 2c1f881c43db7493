/**
 * The demo's loyalty program replays the whole history: the points paid in orders are redeemed (the simulator
 * pays with points only up to what the member can spend, so none is refused), check-ins earn their bonus once a day, so
 * `loyalty metrics` shows redemptions and a breakage below 100% — checked against independent SQL counts over
 * the simulated source tables.
 */
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { runDemoLoyalty } from '../../src/cli/commands/demo.js'
import { INGEST_TABLES } from '../../src/core/schema.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { sql } from '../../src/engine/sql/fragment.js'
import { simulate } from '../../src/simulate/simulate.js'
import { openDatabase } from '../../src/store/database.js'
import { runCli } from '../helpers/cli.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let dbPath: string
let loyalty: Awaited<ReturnType<typeof runDemoLoyalty>>
let source: { paidOrders: number; paidPoints: number; checkInDays: number; checkInEvents: number }

beforeAll(async () => {
  s = await scratch()
  dbPath = join(s.dir, 'demo.duckdb')
  const db = await openDatabase(dbPath, { threads: 1 })
  try {
    const sim = await simulate(`${s.dir}/data`, { members: 300, months: 12, seed: 5 })
    for (const t of INGEST_TABLES) {
      const file = (sim.files as Record<string, string | undefined>)[t]
      if (file !== undefined) await ingestFile(db.driver, file, { table: t, clock: TEST_CLOCK })
    }
    // Independent counts over the source: the orders of members paid partly with points (not cancelled), and
    // the members' check-in days in the program's zone (+08:00).
    const paid = await db.driver.first<{ n: unknown; p: unknown }>(
      sql`SELECT count(*) AS n, sum(points_used) AS p FROM orders
          WHERE status <> 'cancelled' AND points_used > 0 AND member_id IN (SELECT member_id FROM members)`,
    )
    const checkIns = await db.driver.first<{ days: unknown; n: unknown }>(
      sql`SELECT count(DISTINCT (member_id, CAST(ts + INTERVAL 8 HOUR AS DATE))) AS days, count(*) AS n
          FROM events WHERE event_type = 'check_in' AND member_id IN (SELECT member_id FROM members)`,
    )
    source = {
      paidOrders: Number(paid?.n),
      paidPoints: Number(paid?.p),
      checkInDays: Number(checkIns?.days),
      checkInEvents: Number(checkIns?.n),
    }
    loyalty = await runDemoLoyalty(db, join(s.dir, 'ledger'), TEST_CLOCK)
  } finally {
    await db.close()
  }
}, 180_000)
afterAll(async () => {
  await s?.cleanup()
})

it('redeems exactly the points paid in orders: the simulated members never pay with points they lack', async () => {
  if ('skipped' in loyalty) throw new Error(loyalty.skipped)
  expect(source.paidOrders).toBeGreaterThan(10)
  expect(loyalty.refusedRedemptions).toBe(0)
  expect(loyalty.refusedRedemptionPoints).toBe(0)
  expect(loyalty.redemptions).toBe(source.paidOrders)
  expect(loyalty.redeemedPoints).toBe(source.paidPoints)

  const r = await runCli([
    'loyalty',
    'metrics',
    '--db',
    dbPath,
    '--from',
    '2000-01-01',
    '--to',
    '2100-01-01',
    '--json',
  ])
  expect(r.code).toBe(0)
  const m = JSON.parse(r.out) as { redeemed: number; expired: number; breakage: number | null }
  // The ledger's redemptions are exactly the points paid in the orders it accepted.
  expect(m.redeemed).toBe(loyalty.redeemedPoints)
  expect(m.redeemed).toBeGreaterThan(0)
  expect(m.breakage).not.toBeNull()
  expect(m.breakage as number).toBeLessThan(1)
  expect(m.breakage).toBeCloseTo(m.expired / (m.expired + m.redeemed), 10)
})

it('credits one check-in a day per member, as the source holds them', async () => {
  if ('skipped' in loyalty) throw new Error(loyalty.skipped)
  expect(source.checkInDays).toBeGreaterThan(100)
  expect(loyalty.checkIns).toBe(source.checkInDays)
  const db = await openDatabase(dbPath, { readOnly: true })
  try {
    const e = await db.driver.first<{ n: unknown; p: unknown }>(
      sql`SELECT count(*) AS n, sum(points) AS p FROM loyalty_entries WHERE reason = 'check_in'`,
    )
    // Every day earns at least the daily points (5) unless the day's cap is reached, which the demo never does.
    expect(Number(e?.n)).toBe(source.checkInDays)
    expect(Number(e?.p)).toBeGreaterThanOrEqual(5 * source.checkInDays)
  } finally {
    await db.close()
  }
})

it('reports the redeemed and the refused payments in the replay command', async () => {
  if ('skipped' in loyalty) throw new Error(loyalty.skipped)
  const r = await runCli([
    'loyalty',
    'replay',
    '--bulk',
    '--db',
    dbPath,
    '--ledger',
    join(s.dir, 'ledger-cli'),
    '--program',
    resolve(import.meta.dirname, '../../examples/loyalty-program.yaml'),
  ])
  expect(r.code, r.err).toBe(0)
  const line = (label: string) =>
    r.out.split('\n').find((l) => l.trim().startsWith(label)) ?? `no line ${label}`
  const n = (v: number) => v.toLocaleString('en-US')
  expect(line('orders paid with points')).toMatch(
    new RegExp(`${n(loyalty.redemptions + loyalty.refusedRedemptions)}$`),
  )
  expect(line('redeemed')).toContain(
    `${n(loyalty.redemptions)} (${n(loyalty.redeemedPoints)} points)`,
  )
  expect(line('refused')).toContain(
    `${n(loyalty.refusedRedemptions)} (${n(loyalty.refusedRedemptionPoints)} points)`,
  )
  expect(line('check-ins')).toMatch(new RegExp(`${n(loyalty.checkIns)}$`))
})
