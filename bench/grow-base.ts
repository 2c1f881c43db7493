/**
 * Grows a memberlens DuckDB database for the large-scale benchmarks without simulating again: copies it to
 * `--out`, then adds clones of members with new ids and all of their rows — orders (and their items and
 * returns) with new order ids, events, touches, feedback, subscriptions and identities with prefixed values.
 * The clones behave like the members they copy; the figures measured on the result are about engines and row
 * counts, not new behaviour. Two ways:
 *
 * - **Time extension** (default: `--every 2 --shift-months -12`): one clone of every `--every`-th member (by
 *   member id) with their rows moved by `--shift-months` (negative: earlier). A 24-month base becomes a
 *   36-month base (ending where it ended) with about 1.5× the rows.
 * - **Copies** (`--copies N --every 1 --shift-months 0`): N clones of every member at the same times, so the
 *   base grows (N + 1)-fold over the same span: a 100,000-member base with `--copies 9` has 1,000,000 members.
 *   Copy k (1 … N) takes the ids `member_id + k × max(member_id)` and the prefix `g<k>_` (copy 1 of the time
 *   extension keeps the prefix `g`).
 *
 * The tables ingest keeps beside the raw ones — the member × day activity rollup and the per-member purchase
 * summary (docs/metrics.md, "Rollups") — are then made current (`--derived`):
 *
 * - `rebuild` (default): recomputed from scratch by the product's own `rebuildRollups`, as
 *   `memberlens rollups rebuild` does;
 * - `clone`: their rows cloned like the members' (exact when the clones keep their times: `--shift-months 0`),
 *   with the recorded row counts updated — for bases where a rebuild takes long; the member × month table is
 *   then computed from the cloned day rollup by the product's `rebuildMonthRollup`;
 * - `check`: both, then the cloned rows are compared with the rebuilt ones (EXCEPT ALL both ways) and the run
 *   fails unless they are equal; the rebuilt tables stay.
 *
 * After the rollup is current the run checks its row count against the base's (× the number of copies + 1
 * in copies mode) and that `rollupIsCurrent` holds in its zone.
 *
 *   npx tsx bench/grow-base.ts --db bench/out/tree-1000000-24/memberlens.duckdb \
 *     --out bench/out/grown-1500000-36/memberlens.duckdb [--every 2] [--shift-months -12]
 *   npx tsx bench/grow-base.ts --db bench/out/tree-100000-24/memberlens.duckdb \
 *     --out bench/out/grown-1000000/memberlens.duckdb --copies 9 --every 1 --shift-months 0 [--derived check]
 */
import { copyFile, mkdir, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { DuckDBInstance } from '@duckdb/node-api'
import { systemClock } from '../src/core/clock.js'
import { rebuildRollups } from '../src/duckdb/rollups/member-days.js'
import { rebuildMonthRollup } from '../src/duckdb/rollups/member-months.js'
import { rollupIsCurrent, readRollupState } from '../src/engine/metrics/rollups.js'
import { sql, unsafeRaw } from '../src/engine/sql/fragment.js'
import { openDatabase } from '../src/store/database.js'

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    out: { type: 'string' },
    every: { type: 'string', default: '2' },
    'shift-months': { type: 'string', default: '-12' },
    copies: { type: 'string', default: '1' },
    derived: { type: 'string', default: 'rebuild' },
    'memory-limit': { type: 'string', default: '8GB' },
  },
})
if (!values.db || !values.out) throw new Error('--db and --out are required')
const every = Number(values.every)
const shift = Number(values['shift-months'])
const copies = Number(values.copies)
const derived = values.derived as string
if (!Number.isInteger(every) || every < 1) throw new Error('--every: a positive integer')
if (!Number.isInteger(shift)) throw new Error('--shift-months: an integer')
if (!Number.isInteger(copies) || copies < 1) throw new Error('--copies: a positive integer')
if (!['rebuild', 'clone', 'check'].includes(derived))
  throw new Error('--derived: one of rebuild, clone, check')
if (derived !== 'rebuild' && shift !== 0)
  throw new Error('--derived clone|check: only with --shift-months 0 (the clones keep their days)')
if (!/^\d+(\.\d+)?\s*[KMGT]i?B$/i.test(values['memory-limit'] as string))
  throw new Error('--memory-limit: a size such as 8GB')

await mkdir(dirname(values.out), { recursive: true })
await rm(values.out, { force: true })
await rm(`${values.out}.wal`, { force: true })
await copyFile(values.db, values.out)
const instance = await DuckDBInstance.create(values.out)
const c = await instance.connect()
const one = async (q: string) => (await c.runAndReadAll(q)).getRows()[0]?.[0]
const count = async (table: string) => BigInt(String(await one(`SELECT count(*) FROM ${table}`)))
await c.run(`SET memory_limit = '${values['memory-limit'] as string}'`)
// Clones need no particular order; without it DuckDB inserts in parallel with less memory.
await c.run('SET preserve_insertion_order = false')

const offset = BigInt(String(await one('SELECT max(member_id) FROM members')))
// Only the base's own members are cloned (ids up to the largest one before growing), each `copies` times:
// `k` runs over 1 … copies.
const clonedOf = (alias: string) =>
  `${alias}member_id % ${every} = 0 AND ${alias}member_id <= ${offset}`
const cloned = clonedOf('')
const copiesOf = `CROSS JOIN range(1, ${copies + 1}) AS copy(k)`
const id = `member_id + k * ${offset}`
const moved = (col: string) => (shift === 0 ? col : `${col} + INTERVAL (${shift}) MONTH`)
// Order ids, return ids and the like get a prefix per copy so that they stay unique.
const tag = (col: string) => (copies === 1 ? `'g' || ${col}` : `'g' || k || '_' || ${col}`)

const statements: Array<[string, string]> = [
  [
    'members',
    `INSERT INTO members SELECT ${id}, ${moved('registered_at')}, registration_channel, region, city, birthday,
       gender, attributes, consent_sms, consent_email, consent_wechat, consent_push FROM members ${copiesOf}
       WHERE ${cloned}`,
  ],
  [
    'identities',
    `INSERT INTO identities SELECT identity_type, ${tag('identity_value')}, ${id}, source_channel,
       ${moved('first_seen_at')} FROM identities ${copiesOf} WHERE ${cloned}`,
  ],
  [
    'orders',
    `INSERT INTO orders SELECT ${tag('order_id')}, ${id}, ${moved('ordered_at')}, channel, store_id, gross_amount,
       discount_amount, net_amount, currency, status, coupon_id, points_used FROM orders ${copiesOf}
       WHERE ${cloned}`,
  ],
  [
    'order_items',
    `INSERT INTO order_items SELECT ${tag('i.order_id')}, i.line_no, i.sku, i.category, i.quantity, i.unit_price
       FROM order_items i JOIN orders o ON o.order_id = i.order_id ${copiesOf} WHERE ${clonedOf('o.')}`,
  ],
  [
    'returns',
    `INSERT INTO returns SELECT ${tag('return_id')}, ${tag('order_id')}, ${id}, ${moved('returned_at')}, amount,
       reason FROM returns ${copiesOf} WHERE ${cloned}`,
  ],
  [
    'events',
    `INSERT INTO events SELECT ${tag('event_id')}, ${id}, ${moved('ts')}, event_type,
       ${tag('session_id')}, duration_s, channel, properties FROM events ${copiesOf} WHERE ${cloned}`,
  ],
  [
    'touches',
    `INSERT INTO touches SELECT campaign_id, ${id}, channel, kind, ${moved('sent_at')}, offer, cost,
       treatment_group FROM touches ${copiesOf} WHERE ${cloned}`,
  ],
  [
    'feedback',
    `INSERT INTO feedback SELECT ${tag('feedback_id')}, ${id}, ${moved('ts')}, kind, score, text, channel
       FROM feedback ${copiesOf} WHERE ${cloned}`,
  ],
  [
    'subscriptions',
    `INSERT INTO subscriptions SELECT ${id}, plan, ${moved('started_at')}, ${moved('ends_at')},
       ${moved('renewed_at')}, price FROM subscriptions ${copiesOf} WHERE ${cloned}`,
  ],
]

const DERIVED = {
  rollup: 'member_day_activity',
  rollupState: 'rollup_state',
  summary: 'member_purchase_summary',
  summaryState: 'member_purchase_state',
} as const
const hasTable = async (name: string) =>
  Number(
    await one(
      `SELECT count(*) FROM duckdb_tables() WHERE table_name = '${name}' AND NOT temporary`,
    ),
  ) > 0
const rollupBefore = (await hasTable(DERIVED.rollup)) ? await count(DERIVED.rollup) : undefined
const summaryBefore = (await hasTable(DERIVED.summary)) ? await count(DERIVED.summary) : undefined
if (derived !== 'rebuild' && (rollupBefore === undefined || summaryBefore === undefined))
  throw new Error(`--derived ${derived}: ${values.db} has no rollup and purchase summary to clone`)

const started = performance.now()
for (const [table, statement] of statements) {
  const t = performance.now()
  const before = await count(table)
  await c.run(statement)
  const after = await count(table)
  process.stderr.write(
    `${table.padEnd(24)} ${before.toLocaleString('en-US').padStart(13)} → ${after.toLocaleString('en-US').padStart(13)} rows  ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
  )
}

if (derived !== 'rebuild') {
  // The clones' derived rows are their originals' with the new id: same days, same purchases.
  const t = performance.now()
  await c.run(`INSERT INTO ${DERIVED.rollup} SELECT ${id}, day, fact, event_type, n, amount, last_ts
    FROM ${DERIVED.rollup} ${copiesOf} WHERE ${cloned}`)
  await c.run(`INSERT INTO ${DERIVED.summary} SELECT ${id}, purchases, first_ts, last_ts, median_gap_days,
    net_amount, reactivated_at FROM ${DERIVED.summary} ${copiesOf} WHERE ${cloned}`)
  await c.run(`UPDATE ${DERIVED.rollupState} SET orders_rows = (SELECT count(*) FROM orders),
    events_rows = (SELECT count(*) FROM events), feedback_rows = (SELECT count(*) FROM feedback),
    rollup_rows = (SELECT count(*) FROM ${DERIVED.rollup})`)
  await c.run(`UPDATE ${DERIVED.summaryState} SET orders_rows = (SELECT count(*) FROM orders),
    summary_rows = (SELECT count(*) FROM ${DERIVED.summary})`)
  process.stderr.write(
    `cloned the rollup (${(await count(DERIVED.rollup)).toLocaleString('en-US')} rows) and the purchase summary (${(await count(DERIVED.summary)).toLocaleString('en-US')} rows)  ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
  )
  if (derived === 'check') {
    await c.run(`CREATE TABLE _grown_rollup AS SELECT * FROM ${DERIVED.rollup}`)
    await c.run(`CREATE TABLE _grown_summary AS SELECT * FROM ${DERIVED.summary}`)
  }
}
await c.run('CHECKPOINT')
const span = await c.runAndReadAll(
  `SELECT min(ordered_at)::VARCHAR, max(ordered_at)::VARCHAR,
     (SELECT count(*) FROM orders) + (SELECT count(*) FROM events) FROM orders`,
)
const [from, to, rows] = span.getRows()[0] ?? []
process.stderr.write(
  `orders from ${String(from)} to ${String(to)}; ${BigInt(String(rows)).toLocaleString('en-US')} order and event rows; ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
)
c.closeSync()
instance.closeSync()

// The derived tables through the product's own code, then the checks.
const db = await openDatabase(values.out, { memoryLimit: values['memory-limit'] as string })
try {
  if (derived !== 'clone') {
    const report = await rebuildRollups(db.driver, { clock: systemClock })
    process.stderr.write(
      `rebuilt the rollup (${report.rows.toLocaleString('en-US')} rows, ${report.members.toLocaleString('en-US')} members, zone ${report.timezone}) and the purchase summary  ${report.seconds.toFixed(1)} s\n`,
    )
  }
  if (derived === 'clone') {
    // The member × month table is the day rollup's months: computed from the cloned day rows.
    const t = performance.now()
    const rows = await db.driver.transaction(() => rebuildMonthRollup(db.driver))
    process.stderr.write(
      `computed the member × month table from the day rollup (${rows.toLocaleString('en-US')} rows)  ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
    )
  }
  const n = async (q: string) =>
    BigInt(
      String(
        Object.values((await db.driver.first<Record<string, unknown>>(unsafeRaw(q))) ?? {})[0],
      ),
    )
  if (derived === 'check') {
    for (const [grown, table] of [
      ['_grown_rollup', DERIVED.rollup],
      ['_grown_summary', DERIVED.summary],
    ] as const) {
      const missing = await n(
        `SELECT count(*) FROM (SELECT * FROM ${table} EXCEPT ALL SELECT * FROM ${grown})`,
      )
      const extra = await n(
        `SELECT count(*) FROM (SELECT * FROM ${grown} EXCEPT ALL SELECT * FROM ${table})`,
      )
      if (missing !== 0n || extra !== 0n)
        throw new Error(
          `${table}: the cloned rows differ from the rebuilt ones (${missing} missing, ${extra} extra)`,
        )
      process.stderr.write(`${table}: cloned rows equal the rebuilt ones\n`)
      await db.driver.execute(unsafeRaw(`DROP TABLE ${grown}`))
    }
  }
  const state = await readRollupState(db.driver)
  if (state === undefined || !(await rollupIsCurrent(db.driver, state.timezone)))
    throw new Error('the rollup is not current after growing')
  const rollupAfter = await n(`SELECT count(*) FROM ${DERIVED.rollup}`)
  const summaryAfter = await n(`SELECT count(*) FROM ${DERIVED.summary}`)
  if (every === 1 && shift === 0 && rollupBefore !== undefined && summaryBefore !== undefined) {
    const factor = BigInt(copies + 1)
    if (rollupAfter !== rollupBefore * factor || summaryAfter !== summaryBefore * factor)
      throw new Error(
        `expected ${factor}× the base's derived rows: rollup ${rollupAfter} (base ${rollupBefore}), summary ${summaryAfter} (base ${summaryBefore})`,
      )
  }
  process.stderr.write(
    `rollup current in ${state.timezone}: ${rollupAfter.toLocaleString('en-US')} rows${rollupBefore === undefined ? '' : ` (base ${rollupBefore.toLocaleString('en-US')})`}; purchase summary ${summaryAfter.toLocaleString('en-US')} rows${summaryBefore === undefined ? '' : ` (base ${summaryBefore.toLocaleString('en-US')})`}\n`,
  )
  await db.driver.execute(sql`CHECKPOINT`)
} finally {
  await db.close()
}
process.stderr.write(`done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
