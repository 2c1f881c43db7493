/**
 * Ledger benchmark: sustained earn transactions per second and p50 / p99 latency with 16 concurrent clients,
 * on the embedded store (PGlite) and on PostgreSQL (a throw-away local server, see scripts/local-postgres.ts);
 * then the batch replay throughput (orders/s through the live path). Ends with one JSON line.
 *
 *   npx tsx bench/ledger.bench.ts [--seconds 10] [--members 2000] [--replay-orders 20000]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startLocalPostgres } from '../scripts/local-postgres.js'
import { replayOrderHistory } from '../src/analytics/loyalty-replay.js'
import { fixedClock } from '../src/core/clock.js'
import { Ledger } from '../src/ledger/ledger.service.js'
import { loadProgram } from '../src/ledger/program.js'
import { openLedgerStore } from '../src/ledger/stores/open-store.js'
import { openDatabase } from '../src/store/database.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    members: { type: 'string', default: '2000' },
    'replay-orders': { type: 'string', default: '20000' },
  },
})
const SECONDS = Number(values.seconds)
const MEMBERS = Number(values.members)
const REPLAY_ORDERS = Number(values['replay-orders'])
const CLIENTS = 16
const AT = new Date('2026-06-01T00:00:00Z')
const program = await loadProgram('examples/loyalty-program.yaml')

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN
}

async function earnBench(location: string) {
  const store = await openLedgerStore(location)
  const ledger = new Ledger(store, program, { clock: fixedClock(AT) })
  for (let m = 0; m < MEMBERS; m++)
    await ledger.enroll({ memberId: `b${m}`, idempotencyKey: `enroll-b${m}`, at: AT })
  const latencies: number[] = []
  let seq = 0
  const end = performance.now() + SECONDS * 1000
  const client = async () => {
    while (performance.now() < end) {
      const i = seq++
      const t = performance.now()
      await ledger.earnForOrder({
        memberId: `b${i % MEMBERS}`,
        orderId: `bo${i}`,
        amount: '88.80',
        channel: 'app',
        idempotencyKey: `bench-${i}`,
        at: AT,
      })
      latencies.push(performance.now() - t)
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: CLIENTS }, client))
  const seconds = (performance.now() - started) / 1000
  await store.close()
  return {
    txPerSec: Math.round(latencies.length / seconds),
    p50Ms: +quantile(latencies, 0.5).toFixed(2),
    p99Ms: +quantile(latencies, 0.99).toFixed(2),
    transactions: latencies.length,
  }
}

async function replayBench(location: string) {
  const db = await openDatabase(':memory:', { threads: 2 })
  const members = Math.max(1, Math.round(REPLAY_ORDERS / 8))
  await db.driver.execute({
    sql: `INSERT INTO members (member_id, registered_at) SELECT i, TIMESTAMP '2024-01-01' FROM range(${members}) t(i)`,
    parameters: [],
  })
  await db.driver.execute({
    sql: `INSERT INTO orders (order_id, member_id, ordered_at, channel, net_amount, status)
          SELECT 'r' || i, i % ${members}, TIMESTAMP '2024-01-02' + INTERVAL (i * 37 % 86400) SECOND * 12, 'app', 10 + (i % 300), 'paid' FROM range(${REPLAY_ORDERS}) t(i)`,
    parameters: [],
  })
  const store = await openLedgerStore(location)
  const ledger = new Ledger(store, program, { clock: fixedClock(AT) })
  const t = performance.now()
  const s = await replayOrderHistory(db, ledger, { reviews: false })
  const seconds = (performance.now() - t) / 1000
  await store.close()
  await db.close()
  return {
    orders: s.orders,
    seconds: +seconds.toFixed(1),
    ordersPerSec: Math.round(s.orders / seconds),
  }
}

const dir = await mkdtemp(join(tmpdir(), 'memberlens-ledger-bench-'))
const pg = await startLocalPostgres()
const results: Record<string, unknown> = {}
try {
  results['pglite'] = await earnBench(join(dir, 'earn'))
  process.stderr.write(
    `earn, PGlite (embedded, 1 connection), ${CLIENTS} clients: ${JSON.stringify(results['pglite'])}\n`,
  )
  results['postgres'] = await earnBench(pg.url)
  process.stderr.write(
    `earn, PostgreSQL 15 (pool of ${CLIENTS}), ${CLIENTS} clients: ${JSON.stringify(results['postgres'])}\n`,
  )
  results['replayPglite'] = await replayBench(join(dir, 'replay'))
  process.stderr.write(
    `replay through the live path, PGlite: ${JSON.stringify(results['replayPglite'])}\n`,
  )
} finally {
  pg.stop()
  await rm(dir, { recursive: true, force: true })
}
process.stdout.write(
  `${JSON.stringify({ bench: 'ledger', clients: CLIENTS, seconds: SECONDS, ...results })}\n`,
)
