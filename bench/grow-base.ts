/**
 * Grows a memberlens DuckDB database for the large-scale benchmarks without simulating again: copies it to
 * `--out`, then adds a clone of every `--every`-th member (by member id) with a new id (old id + the largest id)
 * and all of their rows moved by `--shift-months` (negative: earlier) — orders (and their items and returns) with new order ids,
 * events, touches, feedback, subscriptions and identities with prefixed values. The clones extend the time span
 * by the shift and add their share of the rows, so a 24-month base with `--every 2 --shift-months -12` becomes a
 * 36-month base (ending where it ended) with about 1.5× the rows. The clones behave like the members they copy; the figures measured on
 * the result are about engines and row counts, not new behaviour.
 *
 *   npx tsx bench/grow-base.ts --db bench/out/tree-1000000-24/memberlens.duckdb \
 *     --out bench/out/grown-1500000-36/memberlens.duckdb [--every 2] [--shift-months -12]
 */
import { copyFile, mkdir, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { DuckDBInstance } from '@duckdb/node-api'

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    out: { type: 'string' },
    every: { type: 'string', default: '2' },
    'shift-months': { type: 'string', default: '-12' },
  },
})
if (!values.db || !values.out) throw new Error('--db and --out are required')
const every = Number(values.every)
const shift = Number(values['shift-months'])
if (!Number.isInteger(every) || every < 1) throw new Error('--every: a positive integer')
if (!Number.isInteger(shift)) throw new Error('--shift-months: an integer')

await mkdir(dirname(values.out), { recursive: true })
await rm(values.out, { force: true })
await rm(`${values.out}.wal`, { force: true })
await copyFile(values.db, values.out)
const instance = await DuckDBInstance.create(values.out)
const c = await instance.connect()
const one = async (q: string) => (await c.runAndReadAll(q)).getRows()[0]?.[0]

const offset = BigInt(String(await one('SELECT max(member_id) FROM members')))
const cloned = `member_id % ${every} = 0`
const id = `member_id + ${offset}`
const moved = (col: string) => `${col} + INTERVAL (${shift}) MONTH`
// Order ids, return ids and the like get a prefix so that they stay unique.
const tag = (col: string) => `'g' || ${col}`

const statements: Array<[string, string]> = [
  [
    'members',
    `INSERT INTO members SELECT ${id}, ${moved('registered_at')}, registration_channel, region, city, birthday,
       gender, attributes, consent_sms, consent_email, consent_wechat, consent_push FROM members WHERE ${cloned}`,
  ],
  [
    'identities',
    `INSERT INTO identities SELECT identity_type, ${tag('identity_value')}, ${id}, source_channel,
       ${moved('first_seen_at')} FROM identities WHERE ${cloned}`,
  ],
  [
    'orders',
    `INSERT INTO orders SELECT ${tag('order_id')}, ${id}, ${moved('ordered_at')}, channel, store_id, gross_amount,
       discount_amount, net_amount, currency, status, coupon_id, points_used FROM orders WHERE ${cloned}`,
  ],
  [
    'order_items',
    `INSERT INTO order_items SELECT ${tag('i.order_id')}, i.line_no, i.sku, i.category, i.quantity, i.unit_price
       FROM order_items i JOIN orders o ON o.order_id = i.order_id WHERE o.${cloned}`,
  ],
  [
    'returns',
    `INSERT INTO returns SELECT ${tag('return_id')}, ${tag('order_id')}, ${id}, ${moved('returned_at')}, amount,
       reason FROM returns WHERE ${cloned}`,
  ],
  [
    'events',
    `INSERT INTO events SELECT ${tag('event_id')}, ${id}, ${moved('ts')}, event_type,
       ${tag('session_id')}, duration_s, channel, properties FROM events WHERE ${cloned}`,
  ],
  [
    'touches',
    `INSERT INTO touches SELECT campaign_id, ${id}, channel, kind, ${moved('sent_at')}, offer, cost,
       treatment_group FROM touches WHERE ${cloned}`,
  ],
  [
    'feedback',
    `INSERT INTO feedback SELECT ${tag('feedback_id')}, ${id}, ${moved('ts')}, kind, score, text, channel
       FROM feedback WHERE ${cloned}`,
  ],
  [
    'subscriptions',
    `INSERT INTO subscriptions SELECT ${id}, plan, ${moved('started_at')}, ${moved('ends_at')},
       ${moved('renewed_at')}, price FROM subscriptions WHERE ${cloned}`,
  ],
]

const started = performance.now()
await c.run('BEGIN')
for (const [table, statement] of statements) {
  const t = performance.now()
  const before = BigInt(String(await one(`SELECT count(*) FROM ${table}`)))
  await c.run(statement)
  const after = BigInt(String(await one(`SELECT count(*) FROM ${table}`)))
  process.stderr.write(
    `${table.padEnd(14)} ${before.toLocaleString('en-US').padStart(12)} → ${after.toLocaleString('en-US').padStart(12)} rows  ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
  )
}
await c.run('COMMIT')
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
