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

  it('refuses a --top that is not a whole number, naming the flag', async () => {
    const r = await runCli(['categories', 'paths', '--db', db, '--top', 'x'])
    expect(r.code).toBe(2)
    expect(r.err).toContain('--top')
  })
})
