/**
 * `:yoy_event` on the command line (`metrics get`, `tree --yoy-event`) and in the API (`/metrics/query`,
 * `/tree?yoyEvent=true`), on hand-placed orders: February 2026 holds 春节 (2026-02-17); a year earlier 春节 was
 * 2025-01-29, 384 days before, so February 2026 is compared with 2025-01-13 … 2025-02-09.
 *   Feb 2026: 3 orders (10 Feb).  In the aligned window: 2 orders (20 Jan 2025).  Feb 2025: 4 orders (15 Feb).
 *   :yoy = 3 / 4 − 1 = −25 %;  :yoy_event = 3 / 2 − 1 = +50 %.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/api/app.js'
import { KeyStore } from '../../src/api/keys.js'
import { fixedClock } from '../../src/core/clock.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { runCli } from '../helpers/cli.js'
import { TEST_CLOCK } from '../helpers/db.js'

let dir: string
let dbPath: string

const ORDERS = [
  ['O1', '13800000001', '2025-01-20T03:00:00Z', '100'],
  ['O2', '13800000002', '2025-01-20T04:00:00Z', '100'],
  ['O3', '13800000001', '2025-02-15T03:00:00Z', '100'],
  ['O4', '13800000002', '2025-02-15T04:00:00Z', '100'],
  ['O5', '13800000003', '2025-02-15T05:00:00Z', '100'],
  ['O6', '13800000003', '2025-02-15T06:00:00Z', '100'],
  ['O7', '13800000001', '2026-02-10T03:00:00Z', '100'],
  ['O8', '13800000002', '2026-02-10T04:00:00Z', '100'],
  ['O9', '13800000003', '2026-02-10T05:00:00Z', '100'],
]

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-yoy-event-'))
  dbPath = join(dir, 'x.duckdb')
  const db = await openDatabase(dbPath)
  const m = join(dir, 'm.csv')
  await writeFile(
    m,
    'phone,registered_at\n13800000001,2024-12-01\n13800000002,2024-12-01\n13800000003,2024-12-01\n',
  )
  const o = join(dir, 'o.csv')
  await writeFile(
    o,
    `order_id,phone,ordered_at,channel,net_amount\n${ORDERS.map((r) => `${r[0]},${r[1]},${r[2]},app,${r[3]}`).join('\n')}\n`,
  )
  await ingestFile(db.driver, m, { table: 'members', clock: TEST_CLOCK })
  await ingestFile(db.driver, o, { table: 'orders', clock: TEST_CLOCK })
  await db.close()
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const args = ['--from', '2026-02', '--to', '2026-02', '--db'] as const

describe(':yoy_event on the command line', () => {
  it('metrics get --json: the aligned and the calendar 同比 side by side, with what was compared', async () => {
    const r = await runCli([
      'metrics',
      'get',
      'orders',
      'orders:yoy',
      'orders:yoy_event',
      ...args,
      dbPath,
      '--json',
    ])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.out) as {
      columns: { key: string; trend: { kind: string } | null; unit: string }[]
      rows: { values: Record<string, number | null>; alignments: Record<string, unknown> }[]
    }
    expect(out.columns[2]).toMatchObject({ key: 'orders:yoy_event', trend: { kind: 'yoy_event' } })
    expect(out.columns[2]?.unit).toBe('change')
    expect(out.rows[0]?.values).toEqual({
      orders: 3,
      'orders:yoy': -0.25,
      'orders:yoy_event': 0.5,
    })
    expect(out.rows[0]?.alignments['orders:yoy_event']).toEqual({
      event: {
        id: 'spring_festival',
        name: { zh: '春节', en: 'Chinese New Year' },
        date: '2026-02-17',
        lastYear: '2025-01-29',
      },
      daysBack: 384,
      against: { from: '2025-01-13', to: '2025-02-09' },
    })
  })

  it('metrics get: says in the language what each period was compared with, and when it fell back', async () => {
    const en = await runCli(['metrics', 'get', 'orders:yoy_event', ...args, dbPath])
    expect(en.out).toContain('+50.0%')
    expect(en.out).toContain(
      '2026-02: aligned on Chinese New Year (2026-02-17; last year 2025-01-29), against 2025-01-13 … 2025-02-09',
    )
    const zh = await runCli([
      'metrics',
      'get',
      'orders:yoy_event',
      '--from',
      '2026-08',
      '--to',
      '2026-08',
      '--db',
      dbPath,
      '--lang',
      'zh',
    ])
    expect(zh.out).toContain('2026-08：附近没有日历节点（范围内无节点），节点对齐同比即日历同比')
    // A narrower list of events and a shorter reach: February is no longer aligned.
    const narrow = await runCli([
      'metrics',
      'get',
      'orders:yoy_event',
      ...args,
      dbPath,
      '--align',
      'double_11',
      '--json',
    ])
    const row = (JSON.parse(narrow.out) as { rows: { values: Record<string, number> }[] }).rows[0]
    expect(row?.values['orders:yoy_event']).toBe(-0.25)
    const bad = await runCli([
      'metrics',
      'get',
      'orders:yoy_event',
      ...args,
      dbPath,
      '--reach',
      '400',
    ])
    expect(bad.code).not.toBe(0)
    expect(bad.err).toContain('--reach')
  })

  it('tree --yoy-event: every node gets the aligned change beside 环比 and 同比', async () => {
    const json = await runCli([
      'tree',
      '--db',
      dbPath,
      '--period',
      '2026-02',
      '--yoy-event',
      '--json',
    ])
    expect(json.code).toBe(0)
    const t = JSON.parse(json.out) as {
      nodes: {
        metric: string
        change: { pop: number | null; yoy: number | null; yoyEvent?: number | null }
      }[]
      yoyEvent: { event: { id: string } }
    }
    expect(t.yoyEvent.event.id).toBe('spring_festival')
    for (const n of t.nodes) expect(n.change).toHaveProperty('yoyEvent')
    const zh = await runCli([
      'tree',
      '--db',
      dbPath,
      '--period',
      '2026-02',
      '--yoy-event',
      '--lang',
      'zh',
    ])
    expect(zh.out).toContain('节点对齐同比')
    expect(zh.out).toContain('2026-02：按春节对齐（今年 2026-02-17，去年 2025-01-29）')
    const plain = await runCli(['tree', '--db', dbPath, '--period', '2026-02', '--json'])
    expect(JSON.parse(plain.out)).not.toHaveProperty('yoyEvent')
  })
})

describe(':yoy_event in the API', () => {
  let db: Database
  let app: ReturnType<typeof createApp>
  let secret: string
  beforeAll(async () => {
    db = await openDatabase(dbPath, { readOnly: true })
    const keys = new KeyStore(join(dir, 'keys.json'), fixedClock('2026-11-01T00:00:00Z'))
    secret = (await keys.create('viewer', 'viewer')).secret
    app = createApp({
      driver: db.driver,
      keys,
      rate: { perSecond: 1000, burst: 1000 },
      clock: fixedClock('2026-11-01T00:00:00Z'),
      log: () => {},
    })
  })
  afterAll(async () => {
    await db.close()
  })
  const get = async (path: string) => {
    const r = await app.request(path, { headers: { authorization: `Bearer ${secret}` } })
    const body = (await r.json()) as Record<string, unknown>
    return { status: r.status, body }
  }

  it('/metrics/query answers :yoy_event with its alignment; align and reach narrow it', async () => {
    const r = await get(
      '/api/v1/metrics/query?metrics=orders:yoy_event,orders:yoy&from=2026-02&to=2026-02',
    )
    expect(r.status).toBe(200)
    const rows = r.body['rows'] as {
      values: Record<string, number>
      alignments: Record<string, { daysBack: number }>
    }[]
    expect(rows[0]?.values).toEqual({ 'orders:yoy_event': 0.5, 'orders:yoy': -0.25 })
    expect(rows[0]?.alignments['orders:yoy_event']?.daysBack).toBe(384)
    const far = await get(
      '/api/v1/metrics/query?metrics=orders:yoy_event&from=2026-01&to=2026-01&reach=10',
    )
    const jan = (far.body['rows'] as { alignments: Record<string, { fallback?: string }> }[])[0]
    expect(jan?.alignments['orders:yoy_event']?.fallback).toBe('no event within reach')
    const unknown = await get(
      '/api/v1/metrics/query?metrics=orders:yoy_event&from=2026-02&to=2026-02&align=nope',
    )
    expect(unknown.status).toBe(400)
  })

  it('/tree?yoyEvent=true adds the aligned change to every node', async () => {
    const r = await get('/api/v1/tree?period=2026-02&yoyEvent=true')
    expect(r.status).toBe(200)
    const nodes = r.body['nodes'] as { change: Record<string, unknown> }[]
    for (const n of nodes) expect(n.change).toHaveProperty('yoyEvent')
    expect((r.body['yoyEvent'] as { against: unknown }).against).toEqual({
      from: '2025-01-13',
      to: '2025-02-09',
    })
    const plain = await get('/api/v1/tree?period=2026-02')
    expect(plain.body).not.toHaveProperty('yoyEvent')
  })
})
