/**
 * What `memberlens serve` pays for opening its database on demand (`npx tsx bench/db-open.bench.ts --db FILE`).
 *
 * The server opens the database for a request when it is closed (after a second without requests) and keeps
 * it open while requests follow each other. This measures, on an existing database (the demo's, by default
 * `./memberlens.duckdb`), in one run:
 *
 * - **open**: opening the file read-write and preparing the connection, then closing it;
 * - **cold request**: open + the data-version query every cached answer runs + the overview, then close;
 * - **warm request**: the same two queries on the open database (the baseline).
 *
 * Medians over --repeat rounds (default 20).
 */
import { parseArgs } from 'node:util'
import { DataCache } from '../src/api/data-cache.js'
import { DuckDbDriver } from '../src/duckdb/driver.js'
import { getOverview } from '../src/engine/metrics/overview.js'
import { DEFAULT_DB_PATH, databaseExists } from '../src/store/db-path.js'
import { median } from './measure.js'

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: DEFAULT_DB_PATH },
    repeat: { type: 'string', default: '20' },
  },
})
const path = values.db
const repeat = Number(values.repeat)
if (!databaseExists(path)) {
  process.stderr.write(
    `no database at ${path}: build one with \`memberlens demo --no-serve --db ${path}\`\n`,
  )
  process.exit(3)
}

async function request(driver: DuckDbDriver): Promise<void> {
  await new DataCache(driver).version()
  await getOverview(driver)
}

const open: number[] = []
const cold: number[] = []
const warm: number[] = []
const kept = await DuckDbDriver.open({ path, readOnly: true })
await request(kept) // warm-up
await kept.close()
for (let i = 0; i < repeat; i++) {
  let t = performance.now()
  const opened = DuckDbDriver.shared({ path }, { idleMs: 60_000 })
  const release = await opened.hold()
  open.push(performance.now() - t)
  release()
  await opened.close()

  t = performance.now()
  const shared = DuckDbDriver.shared({ path }, { idleMs: 60_000 })
  await request(shared)
  cold.push(performance.now() - t)
  t = performance.now()
  await request(shared)
  warm.push(performance.now() - t)
  await shared.close()
}
const ms = (x: number) => `${x.toFixed(1)} ms`
const m = { open: median(open), cold: median(cold), warm: median(warm) }
process.stdout.write(
  `database ${path}, median of ${repeat}\n` +
    `  open + close        ${ms(m.open)}\n` +
    `  cold request        ${ms(m.cold)}\n` +
    `  warm request        ${ms(m.warm)}   (cold − warm: ${ms(m.cold - m.warm)})\n`,
)
process.stdout.write(`${JSON.stringify({ bench: 'db-open', db: path, repeat, ...m })}\n`)
