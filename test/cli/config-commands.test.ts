/** Commands use the configured settings (in-process `main`): language, and the time zone of ingested files. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { sql } from '../../src/engine/sql/fragment.js'
import { openDatabase } from '../../src/store/database.js'
import { runCli } from '../helpers/cli.js'

let dir: string
const saved = { ...process.env }

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-config-cmd-'))
  await writeFile(
    join(dir, 'orders.csv'),
    'order_id,phone,ordered_at,channel,net_amount\nO1,13800138000,2024-05-01 10:00:00,app,100\n',
  )
  await writeFile(
    join(dir, 'later.csv'),
    'order_id,phone,ordered_at,channel,net_amount\nO2,13800138000,2024-05-02 10:00:00,app,50\n',
  )
  await writeFile(join(dir, 'utc.yaml'), 'timezone: UTC\n')
})
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const run = (args: string[]) => runCli(args)

describe('commands use the configured settings', () => {
  it('MEMBERLENS_LANG sets --lang where a command has it; the flag still wins', async () => {
    process.env['MEMBERLENS_LANG'] = 'zh'
    const zh = await run(['metrics', 'list'])
    expect(zh.code).toBe(0)
    expect(zh.out).toContain('活跃会员数')
    const en = await run(['metrics', 'list', '--lang', 'en'])
    expect(en.out).toContain('Active members')
    expect(en.out).not.toContain('活跃会员数')
    process.env['MEMBERLENS_LANG'] = 'klingon'
    const bad = await run(['metrics', 'list'])
    expect(bad.code).toBe(2)
    expect(bad.err).toContain(
      'environment variable MEMBERLENS_LANG: must be en or zh (got "klingon")',
    )
  })

  it('config checks the flags it is given like every other source', async () => {
    const bad = await run(['config', '--tz', 'Mars/Olympus'])
    expect(bad.code).toBe(2)
    expect(bad.err).toContain(
      '--tz: must be an IANA time zone such as Asia/Shanghai or UTC (got "Mars/Olympus")',
    )
    process.env['MEMBERLENS_ENGINE'] = 'clickhouse'
    const text = await run(['config', '--lang', 'en'])
    expect(text.code).toBe(0)
    expect(text.out).toMatch(/^engine +clickhouse +env MEMBERLENS_ENGINE$/m)
    expect(text.out).toMatch(/^lang +en +flag$/m)
    expect(text.out).toMatch(/^tz +Asia\/Shanghai +default$/m)
    // The table speaks the language it shows.
    const zh = await run(['config', '--lang', 'zh'])
    expect(zh.out).toMatch(/^engine +clickhouse +环境变量 MEMBERLENS_ENGINE$/m)
    expect(zh.out).toMatch(/^lang +zh +命令行参数$/m)
    expect(zh.out).toMatch(/^tz +Asia\/Shanghai +内置默认值$/m)
    const ok = await run(['config', '--json'])
    expect(JSON.parse(ok.out).settings.engine).toEqual({
      value: 'clickhouse',
      source: 'env',
      variable: 'MEMBERLENS_ENGINE',
    })
  })

  it('MEMBERLENS_INGEST_TZ is the zone of timestamps without offset, below a mapping file’s timezone; the project zone is not', async () => {
    const db = join(dir, 'tz.duckdb')
    process.env['MEMBERLENS_INGEST_TZ'] = 'Asia/Shanghai'
    process.env['MEMBERLENS_TZ'] = 'America/New_York'
    process.env['MEMBERLENS_DB'] = db
    expect((await run(['ingest', 'orders', join(dir, 'orders.csv'), '--quiet'])).code).toBe(0)
    const mapped = await run([
      'ingest',
      'orders',
      join(dir, 'later.csv'),
      '--mapping',
      join(dir, 'utc.yaml'),
      '--quiet',
    ])
    expect(mapped.code).toBe(0)
    const d = await openDatabase(db, { readOnly: true })
    try {
      const rows = await d.driver.all(
        sql`SELECT order_id, strftime(ordered_at, '%Y-%m-%d %H:%M') AS at FROM orders ORDER BY order_id`,
      )
      expect(rows).toEqual([
        { orderId: 'O1', at: '2024-05-01 02:00' },
        { orderId: 'O2', at: '2024-05-02 10:00' },
      ])
    } finally {
      await d.close()
    }
  })
})
