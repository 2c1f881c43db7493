/**
 * Ledger benchmark: sustained earn transactions per second and p50 / p99 latency with 16 concurrent clients,
 * on the embedded store (PGlite) and on PostgreSQL (a throw-away local server, see scripts/local-postgres.ts),
 * each one earn per transaction and with group commit (batches of earns per transaction); `pgbench -b
 * simple-update` with 16 clients on the same server in the same run, and the earn rate as a ratio of it; then
 * the batch replay throughput: orders/s through the live path (PGlite) and through the bulk path (PostgreSQL).
 * Ends with one JSON line.
 *
 *   npx tsx bench/ledger.bench.ts [--seconds 10] [--members 2000] [--runs 1] [--replay-orders 20000]
 *     [--bulk-orders 1000000] [--workers <cores, at most 8>]
 *     [--parts pglite,pglite-group,postgres,postgres-group,pgbench,replay-live,replay-bulk]
 */
import { spawnSync } from 'node:child_process'
import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { findPostgresBin, startLocalPostgres } from '../scripts/local-postgres.js'
import { bulkReplayOrderHistory } from '../src/analytics/loyalty/bulk-replay.js'
import { replayOrderHistory } from '../src/analytics/loyalty/replay.js'
import { fixedClock } from '../src/core/clock.js'
import { Ledger } from '../src/ledger/ledger.service.js'
import { LEDGER_ROW_TABLES } from '../src/ledger/replay-engine.js'
import { loadProgram } from '../src/ledger/program.js'
import { openLedgerStore } from '../src/ledger/stores/open-store.js'
import { openPostgresStore } from '../src/ledger/stores/postgres-store.js'
import { openDatabase } from '../src/store/database.js'
import { postmasterPid, processTreeCpuSeconds } from './measure.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    members: { type: 'string', default: '2000' },
    'replay-orders': { type: 'string', default: '20000' },
    'bulk-orders': { type: 'string', default: '1000000' },
    // worker threads of the bulk replay (0: the rules engine on the main thread)
    workers: { type: 'string' },
    // comma-separated parts to run: pglite, postgres (earn throughput), replay-live, replay-bulk
    parts: {
      type: 'string',
      default: 'pglite,pglite-group,postgres,postgres-group,pgbench,replay-live,replay-bulk',
    },
    runs: { type: 'string', default: '1' },
  },
})
const SECONDS = Number(values.seconds)
const MEMBERS = Number(values.members)
const REPLAY_ORDERS = Number(values['replay-orders'])
const BULK_ORDERS = Number(values['bulk-orders'])
const WORKERS = values.workers === undefined ? undefined : Number(values.workers)
const PARTS = new Set(values.parts.split(','))
const RUNS = Number(values.runs)
const CLIENTS = 16
const AT = new Date('2026-06-01T00:00:00Z')
const program = await loadProgram('examples/loyalty-program.yaml')

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN
}

const CORES = availableParallelism()

/**
 * CPU seconds spent from now until `stop()`: by this process (the clients and the ledger library, and PGlite
 * when it is the store) and by the PostgreSQL server's processes (`serverPid`, when the store is a server).
 * Unlike throughput, CPU per operation does not depend on what else runs on the machine, so it gives the rate
 * the work would reach on idle cores: `cores / (CPU seconds per operation)`, or less when one side is the
 * bottleneck.
 */
function cpuMeter(serverPid: number | null) {
  const node0 = process.cpuUsage()
  const server0 = serverPid === null ? 0 : processTreeCpuSeconds(serverPid)
  return () => {
    const n = process.cpuUsage(node0)
    return {
      node: (n.user + n.system) / 1e6,
      server: serverPid === null ? 0 : processTreeCpuSeconds(serverPid) - server0,
    }
  }
}

async function earnBench(location: string, serverPid: number | null, group: boolean) {
  const store = await openLedgerStore(location)
  const ledger = new Ledger(store, program, { clock: fixedClock(AT), groupCommit: group })
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
  const meter = cpuMeter(serverPid)
  await Promise.all(Array.from({ length: CLIENTS }, client))
  const seconds = (performance.now() - started) / 1000
  const cpu = meter() // before closing: the server's backends exit with the pool
  await store.close()
  const n = latencies.length
  const perTx = { node: (cpu.node / n) * 1000, server: (cpu.server / n) * 1000 }
  return {
    txPerSec: Math.round(n / seconds),
    p50Ms: +quantile(latencies, 0.5).toFixed(2),
    p99Ms: +quantile(latencies, 0.99).toFixed(2),
    transactions: n,
    cpuMsPerTx: {
      node: +perTx.node.toFixed(3),
      server: +perTx.server.toFixed(3),
    },
    // The earn rate the measured CPU per earn allows on idle cores: both sides share them, and this process
    // (with PGlite in it, when that is the store) runs its JavaScript on one of them.
    idleCoresTxPerSec: Math.round(
      Math.min((CORES * 1000) / (perTx.node + perTx.server), 1000 / perTx.node),
    ),
  }
}

/** An analytics database with `orders` orders of orders / 8 members over 12 days, and a return for every 20th. */
async function historyDb(orders: number) {
  const db = await openDatabase(':memory:', { threads: 2 })
  const members = Math.max(1, Math.round(orders / 8))
  await db.driver.execute({
    sql: `INSERT INTO members (member_id, registered_at) SELECT i, TIMESTAMP '2024-01-01' FROM range(${members}) t(i)`,
    parameters: [],
  })
  await db.driver.execute({
    sql: `INSERT INTO orders (order_id, member_id, ordered_at, channel, net_amount, status)
          SELECT 'r' || i, i % ${members}, TIMESTAMP '2024-01-02' + INTERVAL (i * 37 % 86400) SECOND * 12, 'app', 10 + (i % 300), 'paid' FROM range(${orders}) t(i)`,
    parameters: [],
  })
  await db.driver.execute({
    sql: `INSERT INTO returns (return_id, order_id, member_id, returned_at, amount)
          SELECT 'x' || i, 'r' || i, i % ${members}, TIMESTAMP '2024-01-02' + INTERVAL (i * 37 % 86400) SECOND * 12 + INTERVAL 2 DAY, 5
          FROM range(0, ${orders}, 20) t(i)`,
    parameters: [],
  })
  return db
}

async function replayBench(
  location: string,
  orders: number,
  bulk: boolean,
  serverPid: number | null,
) {
  const db = await historyDb(orders)
  const store = await openLedgerStore(location)
  const ledger = new Ledger(store, program, { clock: fixedClock(AT) })
  const t = performance.now()
  const meter = cpuMeter(serverPid)
  const s = bulk
    ? await bulkReplayOrderHistory(db, ledger, { reviews: false, workers: WORKERS })
    : await replayOrderHistory(db, ledger, { reviews: false })
  const seconds = (performance.now() - t) / 1000
  const cpu = meter()
  await store.close()
  await db.close()
  // On idle cores the two sides overlap (the workers compute the next batch while one is written), so the
  // time is at least the server's CPU (one backend writes) and at least the total CPU spread over the cores.
  const idleSeconds = Math.max(cpu.server, (cpu.node + cpu.server) / CORES)
  return {
    orders: s.orders,
    returns: s.returns,
    seconds: +seconds.toFixed(1),
    ordersPerSec: Math.round(s.orders / seconds),
    cpuSeconds: { node: +cpu.node.toFixed(1), server: +cpu.server.toFixed(1) },
    cpuMicrosPerOrder: {
      node: Math.round((cpu.node * 1e6) / s.orders),
      server: Math.round((cpu.server * 1e6) / s.orders),
    },
    idleCoresOrdersPerSec: Math.round(s.orders / idleSeconds),
    idleCoresSecondsFor10M: Math.round((idleSeconds * 10_000_000) / s.orders),
  }
}

/**
 * A bare `COPY` of the rows the bulk replay wrote: each ledger table is copied out of `url` to a file, then
 * the files are loaded with one `COPY … FROM STDIN` per table, in one transaction, into tables of the same
 * columns without keys, indexes or constraints — the floor of moving those rows into the server. The load is
 * timed with the server's CPU; the copying out is not.
 */
async function bareCopy(url: string, serverPid: number) {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    const files: Array<{ table: string; file: string }> = []
    let rows = 0
    let bytes = 0
    for (const { table } of Object.values(LEDGER_ROW_TABLES)) {
      const file = join(dir, `${table}.copy`)
      // A connection of its own for each copy out (postgres.js stalled on a second COPY TO on one connection).
      const out = postgres(url, { max: 1, onnotice: () => {} })
      try {
        await pipeline(await out.unsafe(`COPY ${table} TO STDOUT`).readable(), createWriteStream(file))
      } finally {
        await out.end({ timeout: 5 })
      }
      const n = await sql.unsafe(`SELECT count(*)::int AS n FROM ${table}`)
      rows += Number(n[0]?.['n'])
      bytes += (await stat(file)).size
      await sql.unsafe(`CREATE TABLE bare_${table} (LIKE ${table})`)
      files.push({ table: `bare_${table}`, file })
    }
    const t = performance.now()
    const meter = cpuMeter(serverPid)
    await sql.begin(async (tx) => {
      for (const f of files) {
        await pipeline(createReadStream(f.file), await tx.unsafe(`COPY ${f.table} FROM STDIN`).writable())
      }
    })
    const seconds = (performance.now() - t) / 1000
    const cpu = meter()
    for (const f of files) await rm(f.file, { force: true })
    return {
      rows,
      megabytes: Math.round(bytes / 1e6),
      seconds: +seconds.toFixed(1),
      cpuSeconds: { node: +cpu.node.toFixed(1), server: +cpu.server.toFixed(1) },
    }
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/**
 * `pgbench -b simple-update` (one UPDATE, one SELECT and one INSERT per transaction) with CLIENTS clients for
 * SECONDS on the same server: the server's own rate for small durable write transactions on this machine now.
 */
function pgbench(url: string) {
  const dir = findPostgresBin()
  const bin = dir && existsSync(join(dir, 'pgbench')) ? join(dir, 'pgbench') : 'pgbench'
  const u = new URL(url)
  const common = ['-h', u.hostname, '-p', u.port, '-U', u.username || 'postgres']
  const run = (args: string[]) => {
    const r = spawnSync(bin, [...common, ...args], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`pgbench ${args.join(' ')} failed: ${r.stderr || r.error}`)
    return `${r.stdout}\n${r.stderr}`
  }
  run(['-i', '-q', '-s', '4', 'pgb'])
  const out = run([
    '-b',
    'simple-update',
    '-n',
    '-c',
    String(CLIENTS),
    '-j',
    '2',
    '-T',
    String(SECONDS),
    'pgb',
  ])
  const tps = /tps = ([\d.]+)/.exec(out)
  const latency = /latency average = ([\d.]+) ms/.exec(out)
  if (!tps) throw new Error(`pgbench printed no tps:\n${out}`)
  return { txPerSec: Math.round(Number(tps[1])), avgMs: latency ? Number(latency[1]) : null }
}

async function pgAdmin(url: string, statement: string): Promise<void> {
  const store = await openPostgresStore(url, { max: 1 })
  try {
    await store.exec(statement)
  } finally {
    await store.close()
  }
}

const dir = await mkdtemp(join(tmpdir(), 'memberlens-ledger-bench-'))
// Durable settings only: fsync and synchronous_commit stay on, so every acknowledged earn is on disk.
// commit_delay lets the commits of concurrent clients share one WAL flush (group commit).
const PG_SETTINGS = { commit_delay: '200', commit_siblings: '4' }
const pg = await startLocalPostgres({ settings: PG_SETTINGS })
const results: Record<string, unknown> = {}

/** Runs `fn` RUNS times on fresh stores and keeps the run with the median throughput. */
async function medianRun<T extends { txPerSec: number }>(
  fn: (run: number) => Promise<T>,
): Promise<T> {
  const runs: T[] = []
  for (let r = 0; r < RUNS; r++) runs.push(await fn(r))
  runs.sort((a, b) => a.txPerSec - b.txPerSec)
  return { ...(runs[Math.floor(runs.length / 2)] as T), runs: runs.map((x) => x.txPerSec) }
}

try {
  for (const group of [false, true]) {
    const suffix = group ? '-group' : ''
    const label = group ? 'group commit' : 'one earn per transaction'
    if (PARTS.has(`pglite${suffix}`)) {
      results[`pglite${suffix}`] = await medianRun((r) =>
        earnBench(join(dir, `earn${suffix}${r}`), null, group),
      )
      process.stderr.write(
        `earn, PGlite (embedded, 1 connection), ${label}, ${CLIENTS} clients: ${JSON.stringify(results[`pglite${suffix}`])}\n`,
      )
    }
    if (PARTS.has(`postgres${suffix}`)) {
      results[`postgres${suffix}`] = await medianRun(async (r) => {
        const name = `earn${group ? 'g' : ''}${r}`
        await pgAdmin(pg.url, `CREATE DATABASE ${name}`)
        return earnBench(
          pg.url.replace(/\/postgres$/, `/${name}`),
          postmasterPid(pg.dataDir),
          group,
        )
      })
      process.stderr.write(
        `earn, PostgreSQL (pool of ${CLIENTS}, ${JSON.stringify(PG_SETTINGS)}), ${label}, ${CLIENTS} clients: ${JSON.stringify(results[`postgres${suffix}`])}\n`,
      )
    }
  }
  if (PARTS.has('pgbench')) {
    await pgAdmin(pg.url, 'CREATE DATABASE pgb')
    const runs = Array.from({ length: RUNS }, () => pgbench(pg.url)).sort(
      (a, b) => a.txPerSec - b.txPerSec,
    )
    const median = runs[Math.floor(runs.length / 2)] as { txPerSec: number; avgMs: number | null }
    const ratio = (k: string) => {
      const r = results[k] as { txPerSec: number } | undefined
      return r ? +(r.txPerSec / median.txPerSec).toFixed(2) : null
    }
    results['pgbench'] = {
      ...median,
      runs: runs.map((r) => r.txPerSec),
      earnRatio: ratio('postgres'),
      groupEarnRatio: ratio('postgres-group'),
    }
    process.stderr.write(
      `pgbench -b simple-update, ${CLIENTS} clients, same server: ${JSON.stringify(results['pgbench'])}\n`,
    )
  }
  if (PARTS.has('replay-live')) {
    results['replayPglite'] = await replayBench(join(dir, 'replay'), REPLAY_ORDERS, false, null)
    process.stderr.write(
      `replay through the live path, PGlite: ${JSON.stringify(results['replayPglite'])}\n`,
    )
  }
  if (PARTS.has('replay-bulk')) {
    await pgAdmin(pg.url, 'CREATE DATABASE bulk')
    const url = pg.url.replace(/\/postgres$/, '/bulk')
    const replay = await replayBench(url, BULK_ORDERS, true, postmasterPid(pg.dataDir))
    const load = loadavg().map((x) => +x.toFixed(1))
    process.stderr.write(`bulk replay, PostgreSQL: ${JSON.stringify(replay)}\n`)
    const bare = await bareCopy(url, postmasterPid(pg.dataDir))
    results['bulkPostgres'] = {
      ...replay,
      loadAverage: load,
      bareCopy: bare,
      // How many times the bare COPY of the same rows the replay takes, wall time and server CPU.
      bareCopyRatio: +(replay.seconds / bare.seconds).toFixed(2),
      bareCopyServerCpuRatio: +(replay.cpuSeconds.server / Math.max(0.1, bare.cpuSeconds.server)).toFixed(2),
    }
    process.stderr.write(`bare COPY of the same rows: ${JSON.stringify(bare)}\n`)
  }
} finally {
  await pg.stop()
  await rm(dir, { recursive: true, force: true })
}
process.stdout.write(
  `${JSON.stringify({ bench: 'ledger', clients: CLIENTS, seconds: SECONDS, loadAverage: loadavg().map((x) => +x.toFixed(1)), ...results })}\n`,
)
