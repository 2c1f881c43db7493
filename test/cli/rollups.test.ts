/**
 * `memberlens rollups rebuild | status`: JSON and text in both languages, the zone of the rebuild, and a stale
 * rollup reported as such.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/store/database.js'
import { sql } from '../../src/engine/sql/fragment.js'
import { simulate } from '../../src/simulate/simulate.js'
import { runCli } from '../helpers/cli.js'
import { ingestSimulated } from '../helpers/db.js'

let dir: string
let db: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-rollups-cli-'))
  db = join(dir, 'm.duckdb')
  const sim = await simulate(join(dir, 'src'), {
    members: 120,
    months: 4,
    seed: 3,
    end: '2026-10-31',
  })
  const d = await openDatabase(db)
  try {
    await ingestSimulated(d.driver, sim.files)
  } finally {
    await d.close()
  }
}, 60_000)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('rollups', () => {
  it('ingest leaves a current rollup keyed by the default project zone', async () => {
    const r = await runCli(['rollups', 'status', '--json', '--db', db])
    expect(r.code, r.err).toBe(0)
    const s = JSON.parse(r.out) as {
      rollups: { timezone: string; current: boolean; rollupRows: number; monthRows: number }
    }
    expect(s.rollups).toMatchObject({
      timezone: 'Asia/Shanghai',
      current: true,
      monthsCurrent: true,
    })
    expect(s.rollups.rollupRows).toBeGreaterThan(100)
    // Fewer member-months than member-days, at least one.
    expect(s.rollups.monthRows).toBeGreaterThan(0)
    expect(s.rollups.monthRows).toBeLessThan(s.rollups.rollupRows)
  })

  it('rebuilds in another zone, and reports it in both languages', async () => {
    const r = await runCli(['rollups', 'rebuild', '--tz', 'UTC', '--json', '--db', db])
    expect(r.code, r.err).toBe(0)
    const out = JSON.parse(r.out) as {
      rollups: { timezone: string; rows: number; members: number; monthRows: number }
    }
    expect(out.rollups.timezone).toBe('UTC')
    expect(out.rollups.members).toBeGreaterThan(10)
    expect(out.rollups.monthRows).toBeGreaterThan(0)
    const en = await runCli(['rollups', 'status', '--db', db])
    expect(en.out).toContain('current: matches the raw tables')
    expect(en.out).toMatch(/member × month table +current: [\d.,K]+ member-month rows/)
    expect(en.out).toContain('UTC')
    const zh = await runCli(['rollups', 'rebuild', '--lang', 'zh', '--db', db])
    expect(zh.code, zh.err).toBe(0)
    expect(zh.out).toContain('汇总表已重建')
    expect(zh.out).toContain('Asia/Shanghai')
  })

  it('says when the raw tables changed outside ingest', async () => {
    const d = await openDatabase(db)
    try {
      await d.driver.execute(
        sql`DELETE FROM events WHERE event_id = (SELECT min(event_id) FROM events)`,
      )
    } finally {
      await d.close()
    }
    const zh = await runCli(['rollups', 'status', '--lang', 'zh', '--db', db])
    expect(zh.out).toContain('已过期')
    const json = JSON.parse((await runCli(['rollups', 'status', '--json', '--db', db])).out) as {
      rollups: { current: boolean }
    }
    expect(json.rollups.current).toBe(false)
  })
})
