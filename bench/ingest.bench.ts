/**
 * Ingest benchmark (`npm run bench -- --only ingest`): ingest of simulated orders through the full path (validation, identity resolution,
 * idempotent upsert) against DuckDB's bare `read_csv` of the same file into a plain table, measured in the same
 * run. Each measurement runs in its own process (peak memory is per process); medians over --repeat runs.
 *
 *   npm run bench -- --only ingest [--orders 10000000] [--repeat 3] [--memory-limit 4GB] [--keep]
 *   npm run bench -- --only ingest --orders 10000000 --prepare-only    # simulate and keep the file, measure later
 */
import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { simulate } from '../src/simulate/simulate.js'
import { median } from './measure.js'

const { values } = parseArgs({
  strict: false,
  options: {
    orders: { type: 'string', default: '10000000' },
    repeat: { type: 'string', default: '3' },
    'memory-limit': { type: 'string', default: '4GB' },
    keep: { type: 'boolean', default: false },
    'prepare-only': { type: 'boolean', default: false },
  },
})
const targetOrders = Number(values.orders as string)
const repeat = Number(values.repeat as string)
const memoryLimit = values['memory-limit'] as string
const dir = join('bench', 'out')
await mkdir(dir, { recursive: true })

interface Run {
  seconds: number
  rows: number
  peakRssMb: number
}

function worker(mode: 'floor' | 'full', csv: string): Run {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/ingest-worker.ts',
      mode,
      csv,
      join(dir, `${mode}.duckdb`),
      memoryLimit,
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    },
  )
  return JSON.parse(out.trim().split('\n').pop() as string) as Run
}

// The simulator's orders for enough members to reach the target: a small pilot run with the same settings
// gives the orders per member.
const dataDir = join(dir, `orders-${targetOrders}`)
const csv = join(dataDir, 'orders.csv')
if (!existsSync(csv)) {
  const pilot = await simulate(join(dir, 'pilot'), {
    members: 20_000,
    months: 36,
    seed: 1,
    tables: ['orders'],
  })
  const perMember = (pilot.rows['orders'] ?? 1) / 20_000
  await rm(join(dir, 'pilot'), { recursive: true, force: true })
  const members = Math.max(1000, Math.round(targetOrders / perMember))
  process.stderr.write(`simulating orders for ${members.toLocaleString('en-US')} members…\n`)
  const t = performance.now()
  const sim = await simulate(dataDir, { members, months: 36, seed: 1, tables: ['orders'] })
  process.stderr.write(
    `  ${sim.rows['orders']?.toLocaleString('en-US')} orders in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
  )
}
const sizeMb = statSync(csv).size / 1024 / 1024
if (values['prepare-only'] === true) {
  process.stderr.write(
    `${csv} kept (${sizeMb.toFixed(0)} MB); run again without --prepare-only to measure\n`,
  )
  process.exit(0)
}

const floors: Run[] = []
const fulls: Run[] = []
for (let i = 0; i < repeat; i++) {
  floors.push(worker('floor', csv))
  fulls.push(worker('full', csv))
  process.stderr.write(
    `  run ${i + 1}/${repeat}: floor ${floors.at(-1)?.seconds.toFixed(2)} s, full ${fulls.at(-1)?.seconds.toFixed(2)} s\n`,
  )
}
const rows = fulls[0]?.rows ?? 0
const floorS = median(floors.map((r) => r.seconds))
const fullS = median(fulls.map((r) => r.seconds))
const result = {
  benchmark: 'ingest orders from CSV',
  loadAverage: loadavg()[0] ?? 0,
  rows,
  fileMb: Math.round(sizeMb),
  memoryLimit,
  repeat,
  floor: {
    medianSeconds: floorS,
    rowsPerSecond: rows / floorS,
    peakRssMb: Math.max(...floors.map((r) => r.peakRssMb)),
  },
  full: {
    medianSeconds: fullS,
    rowsPerSecond: rows / fullS,
    peakRssMb: Math.max(...fulls.map((r) => r.peakRssMb)),
  },
  ratio: floorS / fullS,
  target: 0.4,
}
const f = (n: number) => Math.round(n).toLocaleString('en-US')
process.stdout.write(
  [
    `ingest: ${f(rows)} orders, ${f(sizeMb)} MB CSV, DuckDB memory_limit ${memoryLimit}, median of ${repeat}; load average ${result.loadAverage.toFixed(1)} at the end`,
    `  floor  DuckDB read_csv → table   ${floorS.toFixed(2)} s   ${f(result.floor.rowsPerSecond)} rows/s   peak RSS ${f(result.floor.peakRssMb)} MB`,
    `  full   memberlens ingest orders  ${fullS.toFixed(2)} s   ${f(result.full.rowsPerSecond)} rows/s   peak RSS ${f(result.full.peakRssMb)} MB`,
    `  ratio  ${(result.ratio * 100).toFixed(1)}% of the floor's rows/s (target ≥ 40%)`,
    '',
  ].join('\n'),
)
process.stdout.write(`${JSON.stringify(result)}\n`)
if (!values.keep) await rm(dataDir, { recursive: true, force: true })
