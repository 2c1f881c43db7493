/**
 * One measured ingest run in its own process, so that its peak memory is its own.
 * Usage: tsx bench/ingest-worker.ts <floor|full> <csv> <db> <memory_limit>
 * Prints one JSON line: { seconds, rows, peakRssMb }.
 */
import { rm } from 'node:fs/promises'
import { systemClock } from '../src/core/clock.js'
import { sql } from '../src/engine/sql/fragment.js'
import { ingestFile } from '../src/duckdb/ingest/ingest.js'
import { openDatabase } from '../src/store/database.js'
import { peakRssMb } from './measure.js'

const [mode, csv, dbPath, memoryLimit] = process.argv.slice(2) as [string, string, string, string]

await rm(dbPath, { force: true })
await rm(`${dbPath}.wal`, { force: true })
const db = await openDatabase(dbPath, { memoryLimit })
const started = performance.now()
let rows: number
if (mode === 'floor') {
  // DuckDB's own reader into a plain table of the same database kind: the floor any ingest path stands on.
  rows = await db.driver.execute(sql`CREATE TABLE floor AS SELECT * FROM read_csv(${csv})`)
  await db.driver.execute(sql`CHECKPOINT`)
} else {
  const report = await ingestFile(db.driver, csv, { table: 'orders', clock: systemClock })
  await db.driver.execute(sql`CHECKPOINT`)
  rows = report.rowsRead
}
const seconds = (performance.now() - started) / 1000
await db.close()
await rm(dbPath, { force: true })
process.stdout.write(`${JSON.stringify({ seconds, rows, peakRssMb: peakRssMb() })}\n`)
