/** `memberlens categories …` on a small demo database: JSON for machines, text in English and Chinese. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INGEST_TABLES } from '../../src/core/schema.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { simulate } from '../../src/simulate/simulate.js'
import { openDatabase } from '../../src/store/database.js'
import { runCli } from '../helpers/cli.js'
import { TEST_CLOCK } from '../helpers/db.js'

let dir: string
let db: string
let members: number
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-categories-'))
  db = join(dir, 'm.duckdb')
  const sim = await simulate(join(dir, 'data'), {
    members: 400,
    months: 6,
    seed: 3,
    end: '2026-10-31',
  })
  const d = await openDatabase(db, { threads: 1 })
  for (const t of INGEST_TABLES)
    await ingestFile(d.driver, sim.files[t] as string, { table: t, clock: TEST_CLOCK })
  members = Number(
    (
      await d.driver.first<{ n: bigint }>({
        sql: 'SELECT count(*) AS n FROM members',
        parameters: [],
      })
    )?.n,
  )
  await d.close()
})
afterAll(async () => rm(dir, { recursive: true, force: true }))

describe('memberlens categories', () => {
  it('paths --json: every column of the Sankey totals the members', async () => {
    const r = await runCli(['categories', 'paths', '--db', db, '--top', '3', '--json'])
    expect(r.err).toBe('')
    const p = JSON.parse(r.out) as {
      categories: { members: number; kept: string[]; nodes: { step: number; members: number }[] }
    }
    expect(p.categories.members).toBe(members)
    expect(p.categories.kept).toHaveLength(3)
    for (const step of [1, 2, 3]) {
      const nodes = p.categories.nodes.filter((n) => n.step === step)
      expect(nodes.reduce((t, n) => t + n.members, 0)).toBe(members)
    }
  })

  it('shares prints the table in Chinese with money as money', async () => {
    const r = await runCli(['categories', '--db', db, '--lang', 'zh'])
    expect(r.code).toBe(0)
    expect(r.out).toContain('品类分析')
    expect(r.out).toContain('渗透率')
    expect(r.out).toMatch(/¥/)
  })

  it('paths names the buckets in the language', async () => {
    const en = await runCli(['categories', 'paths', '--db', db, '--top', '2'])
    expect(en.out).toContain('other categories')
    expect(en.out).toContain('no (further) purchase')
    const zh = await runCli(['categories', 'paths', '--db', db, '--top', '2', '--lang', 'zh'])
    expect(zh.out).toContain('其他品类')
    expect(zh.out).toContain('无（后续）购买')
  })

  it('next --json gives counts with each probability', async () => {
    const r = await runCli(['categories', 'next', '--db', db, '--min-base', '5', '--json'])
    const n = JSON.parse(r.out) as { pairs: { base: number; hits: number; probability: number }[] }
    expect(n.pairs.length).toBeGreaterThan(0)
    for (const p of n.pairs) expect(p.probability).toBeCloseTo(p.hits / p.base)
  })

  it('mix by stage splits the revenue; by tier says what to run before a ledger sync', async () => {
    const r = await runCli(['categories', 'mix', '--db', db, '--by', 'lifecycle_stage', '--json'])
    const m = JSON.parse(r.out) as { rows: { revenue: number }[] }
    expect(m.rows.length).toBeGreaterThan(0)
    const tier = await runCli(['categories', 'mix', '--db', db, '--by', 'tier'])
    expect(tier.out).toContain('memberlens loyalty sync')
  })

  it('mix --segment splits a saved segment against the other buyers, in Chinese too', async () => {
    const saved = await runCli([
      'segments',
      'save',
      'app-reg',
      '--db',
      db,
      '--filter',
      '{"registrationChannel":["app"]}',
    ])
    expect(saved.code).toBe(0)
    const r = await runCli(['categories', 'mix', '--db', db, '--segment', 'app-reg', '--json'])
    expect(r.err).toBe('')
    const m = JSON.parse(r.out) as {
      by: string
      segment: string
      rows: { group: string | null; revenue: number }[]
    }
    expect(m).toMatchObject({ by: 'segment', segment: 'app-reg' })
    expect(new Set(m.rows.map((x) => x.group))).toEqual(new Set(['app-reg', null]))
    const all = JSON.parse(
      (await runCli(['categories', 'mix', '--db', db, '--by', 'lifecycle_stage', '--json'])).out,
    ) as { rows: { revenue: number }[] }
    const sum = (rows: { revenue: number }[]) => rows.reduce((t, x) => t + x.revenue, 0)
    expect(sum(m.rows)).toBeCloseTo(sum(all.rows), 6)
    const zh = await runCli([
      'categories',
      'mix',
      '--db',
      db,
      '--segment',
      'app-reg',
      '--lang',
      'zh',
    ])
    expect(zh.out).toContain('分群')
    expect(zh.out).toContain('(其他购买会员)')
    const missing = await runCli(['categories', 'mix', '--db', db, '--segment', 'nosuch'])
    expect(missing.code).not.toBe(0)
    expect(missing.err).toContain('nosuch')
  })

  it('refuses a --top that is not a whole number, naming the flag', async () => {
    const r = await runCli(['categories', 'paths', '--db', db, '--top', 'x'])
    expect(r.code).toBe(2)
    expect(r.err).toContain('--top')
  })
})

describe('memberlens intervals', () => {
  it('--json gives ordered quantiles; the text is in Chinese with --lang zh', async () => {
    const r = await runCli(['intervals', '--db', db, '--by', 'category', '--json'])
    expect(r.err).toBe('')
    const j = JSON.parse(r.out) as {
      rows: { p10: number; p25: number; p50: number; p75: number; p90: number }[]
    }
    expect(j.rows.length).toBeGreaterThan(3)
    for (const x of j.rows) {
      expect(x.p10).toBeLessThanOrEqual(x.p25)
      expect(x.p25).toBeLessThanOrEqual(x.p50)
      expect(x.p50).toBeLessThanOrEqual(x.p75)
      expect(x.p75).toBeLessThanOrEqual(x.p90)
    }
    const zh = await runCli(['intervals', '--db', db, '--lang', 'zh'])
    expect(zh.out).toContain('购买间隔天数')
    expect(zh.out).toContain('全部会员')
    expect(zh.out).toMatch(/\d 天/)
  })

  it('members show prints the member’s own cadence, equal to the quantiles of their gaps', async () => {
    const d = await openDatabase(db, { threads: 1 })
    const row = await d.driver.first<{ id: bigint; p50: number; p90: number }>({
      sql: `SELECT member_id AS id, quantile_cont(g, 0.5) AS p50, quantile_cont(g, 0.9) AS p90 FROM (
          SELECT member_id, day - lag(day) OVER (PARTITION BY member_id ORDER BY day) AS g FROM (
            SELECT DISTINCT member_id, CAST(ordered_at AS DATE) AS day FROM orders
            WHERE status <> 'cancelled' AND member_id IS NOT NULL))
        WHERE g IS NOT NULL GROUP BY member_id HAVING count(*) >= 3 ORDER BY member_id LIMIT 1`,
      parameters: [],
    })
    await d.close()
    const r = await runCli(['members', 'show', String(row?.id), '--db', db, '--json'])
    const j = JSON.parse(r.out) as { purchases: { medianGapDays: number; p90GapDays: number } }
    expect(j.purchases.medianGapDays).toBeCloseTo(Number(row?.p50))
    expect(j.purchases.p90GapDays).toBeCloseTo(Number(row?.p90))
    const text = await runCli(['members', 'show', String(row?.id), '--db', db, '--lang', 'zh'])
    expect(text.out).toContain('惯常购买间隔（中位数）')
  })
})
