/**
 * `memberlens loyalty backtest`: the JSON shape, the human diff in en and zh, the check against a replayed
 * ledger, and errors naming the flag or the program file's field.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import type { ProgramBacktest } from '../../src/analytics/loyalty/backtest.js'
import type { LedgerCheck } from '../../src/cli/commands/loyalty-backtest.js'
import { openDatabase } from '../../src/store/database.js'
import { runCli } from '../helpers/cli.js'
import { scratch } from '../helpers/db.js'

type Output = ProgramBacktest & { ledgerCheck: LedgerCheck | null }

const program = {
  program: 'current',
  currency: 'CNY',
  point_value: '0.01',
  utc_offset: '+00:00',
  pending_days: 0,
  earn: { spend: { points_per_unit: 1, unit: 1 } },
  expiry: { policy: 'end_of_month', months: 12 },
  tiers: {
    basis: 'spend',
    levels: [
      { id: 'member', name: 'Member', name_zh: '普通会员', threshold: 0 },
      { id: 'silver', name: 'Silver', name_zh: '银卡会员', threshold: 120 },
    ],
  },
}

describe('loyalty backtest', () => {
  let s: Awaited<ReturnType<typeof scratch>>
  let dbPath: string
  let current: string
  let proposed: string

  beforeAll(async () => {
    s = await scratch()
    dbPath = join(s.dir, 'members.duckdb')
    const db = await openDatabase(dbPath)
    const run = (q: string) => db.driver.execute({ sql: q, parameters: [] })
    await run(
      `INSERT INTO members (member_id, registered_at) VALUES (1, TIMESTAMP '2025-01-01'), (2, TIMESTAMP '2025-01-01')`,
    )
    await run(`INSERT INTO orders (order_id, member_id, ordered_at, channel, net_amount, status, points_used) VALUES
      ('O1', 1, TIMESTAMP '2025-01-10 10:00:00', 'store', 100, 'paid', NULL),
      ('O2', 1, TIMESTAMP '2025-03-05 10:00:00', 'store', 40, 'paid', NULL),
      ('O4', 2, TIMESTAMP '2025-02-01 10:00:00', 'store', 60, 'paid', NULL),
      ('O3', 1, TIMESTAMP '2025-08-20 10:00:00', 'store', 10, 'paid', 20)`)
    await db.close()
    current = await s.file('current.yaml', stringify(program))
    proposed = await s.file(
      'proposed.json',
      JSON.stringify({
        ...program,
        program: 'double',
        earn: { spend: { points_per_unit: 2, unit: 1 }, caps: { per_order: 150 } },
      }),
    )
  })
  afterAll(async () => {
    await s?.cleanup()
  })

  it('--json: the current and proposed backtests and their diff', async () => {
    const r = await runCli([
      'loyalty',
      'backtest',
      '--db',
      dbPath,
      '--against',
      current,
      '--program',
      proposed,
      '--json',
    ])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const j = JSON.parse(r.out) as Output
    expect(Object.keys(j).sort()).toEqual(['current', 'diff', 'ledgerCheck', 'proposed'])
    expect(j.ledgerCheck).toBeNull()
    expect(j.current.total).toMatchObject({ issued: 210, redeemed: 20, liabilityPoints: 190 })
    // O1 earns 200, cut to 150 by the per-order cap.
    expect(j.proposed?.total).toMatchObject({ issued: 370, perOrderCapHits: 1, cappedPoints: 50 })
    expect(j.diff?.total.issued).toEqual({
      current: 210,
      proposed: 370,
      change: 160,
      ratio: 160 / 210,
    })
    expect(j.diff?.months.map((m) => m.month)).toEqual([
      '2025-01',
      '2025-02',
      '2025-03',
      '2025-04',
      '2025-05',
      '2025-06',
      '2025-07',
      '2025-08',
    ])
    expect(j.diff?.months[0]?.issued).toMatchObject({ current: 100, proposed: 150 })
    expect(j.current.breakage).toMatchObject({ outstandingPoints: 190, forecastPoints: 0 })
    // Member 1 reaches silver (spend 140 ≥ 120) under both programs.
    expect(j.diff?.tiers).toEqual([
      { tier: 'member', current: 1, proposed: 1, change: 0, ratio: 0 },
      { tier: 'silver', current: 1, proposed: 1, change: 0, ratio: 0 },
    ])
  })

  it('--from/--to limit the months reported', async () => {
    const r = await runCli([
      'loyalty',
      'backtest',
      '--db',
      dbPath,
      '--against',
      current,
      '--from',
      '2025-02',
      '--to',
      '2025-03',
      '--json',
    ])
    const j = JSON.parse(r.out) as Output
    expect(j.current.months.map((m) => m.month)).toEqual(['2025-02', '2025-03'])
    expect(j.current.total).toMatchObject({ issued: 100, liabilityPoints: 200 })
  })

  it('prints the diff in English and Chinese', async () => {
    const en = await runCli([
      'loyalty',
      'backtest',
      '--db',
      dbPath,
      '--against',
      current,
      '--program',
      proposed,
    ])
    expect(en.code).toBe(0)
    expect(en.out).toContain('Backtest of double against current, 2025-01 … 2025-08')
    expect(en.out).toMatch(/points issued\s+210\s+370\s+\+160 \(\+76\.2%\)/)
    expect(en.out).toMatch(/orders cut by the per-order cap\s+0\s+1/)
    expect(en.out).toContain('Silver')
    const zh = await runCli([
      'loyalty',
      'backtest',
      '--db',
      dbPath,
      '--against',
      current,
      '--program',
      proposed,
      '--lang',
      'zh',
    ])
    expect(zh.out).toContain('积分发放量')
    expect(zh.out).toContain('期末积分负债（金额）')
    expect(zh.out).toContain('银卡会员')
  })

  it('reports the day each budget of the proposed program was reached, --json and in en and zh', async () => {
    // Twice the points: January 200, February 120, March 80, August 20; the liability 200, 320, 400 … 400.
    const budgeted = await s.file(
      'budgeted.yaml',
      stringify({
        ...program,
        program: 'budgeted',
        earn: { spend: { points_per_unit: 2, unit: 1 } },
        budgets: [
          { id: 'monthly', scope: 'global', max_points_per_month: 150 },
          { id: 'owed', scope: 'global', max_liability: 300 },
        ],
      }),
    )
    const args = [
      'loyalty',
      'backtest',
      '--db',
      dbPath,
      '--against',
      current,
      '--program',
      budgeted,
    ]
    const j = JSON.parse((await runCli([...args, '--json'])).out) as Output
    expect(
      j.proposed?.budgets.map((b) => [b.id, b.firstHit, b.pointsBeyond, b.hits.length]),
    ).toEqual([
      ['monthly', '2025-01-10', 50, 1],
      ['owed', '2025-02-01', 100, 7],
    ])
    expect(j.proposed?.budgets[1]?.amountBeyond).toBe(1)
    const en = await runCli(args)
    expect(en.code).toBe(0)
    expect(en.out).toContain('Budgets')
    expect(en.out).toMatch(
      /proposed\s+monthly\s+all\s+150 points per month\s+2025-01-10\s+50\s+¥0\.50\s+1/,
    )
    expect(en.out).toMatch(
      /proposed\s+owed\s+all\s+300 liability \(points\)\s+2025-02-01\s+100\s+¥1(\.00)?\s+7/,
    )
    const zh = await runCli([...args, '--lang', 'zh'])
    expect(zh.out).toContain('预算')
    expect(zh.out).toContain('首次触及')
    expect(zh.out).toMatch(/拟议方案\s+owed\s+全部/)
  })

  it('checks the current program against a replayed ledger', async () => {
    const ledger = join(s.dir, 'ledger')
    const replay = await runCli([
      'loyalty',
      'replay',
      '--db',
      dbPath,
      '--ledger',
      ledger,
      '--program',
      current,
      '--json',
    ])
    expect(replay.code).toBe(0)
    const r = await runCli([
      'loyalty',
      'backtest',
      '--db',
      dbPath,
      '--against',
      current,
      '--ledger',
      ledger,
      '--json',
    ])
    expect(JSON.parse(r.out).ledgerCheck).toEqual({ members: 2, differing: 0, examples: [] })
    const text = await runCli([
      'loyalty',
      'backtest',
      '--db',
      dbPath,
      '--against',
      current,
      '--ledger',
      ledger,
    ])
    expect(text.out).toContain(
      'Ledger check: the current program’s backtest equals the ledger (2 members',
    )
    // A proposed program as the "current" one is not the ledger.
    const other = await runCli([
      'loyalty',
      'backtest',
      '--db',
      dbPath,
      '--against',
      proposed,
      '--ledger',
      ledger,
      '--json',
    ])
    expect(JSON.parse(other.out).ledgerCheck.differing).toBe(2)
  })

  it('names the flag or the program field in errors', async () => {
    const month = await runCli([
      'loyalty',
      'backtest',
      '--db',
      dbPath,
      '--against',
      current,
      '--from',
      '2025-13',
    ])
    expect(month.code).toBe(2)
    expect(month.err).toMatch(/--from.*2025-13.*YYYY-MM/)
    const bad = await s.file('bad.yaml', stringify({ ...program, earn: { caps: { per_day: -5 } } }))
    const field = await runCli([
      'loyalty',
      'backtest',
      '--db',
      dbPath,
      '--against',
      current,
      '--program',
      bad,
    ])
    expect(field.code).not.toBe(0)
    expect(field.err).toContain('bad.yaml')
    expect(field.err).toContain('earn.caps.per_day')
  })
})
