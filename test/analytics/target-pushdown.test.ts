/**
 * Targets pushed down the tree, on hand-checked numbers: the arithmetic for products, quotients and signed
 * sums, then `memberlens tree` and `GET /api/v1/tree` on hand-placed orders.
 *
 * May 2024: member A buys 100 and 200, member B 300 → buyers 2, orders 3, net revenue 600, purchase frequency
 * 1.5, AOV 200. Net revenue target 900 (= buyers × frequency × AOV): buyers 900 ÷ (1.5 × 200) = 3, frequency
 * 900 ÷ (2 × 200) = 2.25, AOV 900 ÷ (2 × 1.5) = 300. AOV target 250 (= net revenue ÷ orders): net revenue
 * 250 × 3 = 750, orders 600 ÷ 250 = 2.4.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FORMULAS, type MetricFormula } from '../../src/analytics/reporting/change-explanation.js'
import { requiredChildValues } from '../../src/analytics/reporting/target-pushdown.js'
import { createApp } from '../../src/api/app.js'
import { KeyStore } from '../../src/api/keys.js'
import { fixedClock } from '../../src/core/clock.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import type { TreeConfigInput } from '../../src/engine/metrics/tree.js'
import { openDatabase } from '../../src/store/database.js'
import { runCli } from '../helpers/cli.js'
import { TEST_CLOCK } from '../helpers/db.js'

describe('requiredChildValues', () => {
  it('product: target ÷ the product of the others', () => {
    const f = FORMULAS['net_revenue'] as MetricFormula
    const r = requiredChildValues(f, 13_200, [100, 1.5, 80])
    expect(r[0]).toBeCloseTo(110, 12)
    expect(r[1]).toBeCloseTo(1.65, 12)
    expect(r[2]).toBeCloseTo(88, 12)
  })

  it('quotient: a divisor needs the product of the others ÷ target', () => {
    const f = FORMULAS['aov'] as MetricFormula
    const [revenue, orders] = requiredChildValues(f, 88, [12_000, 150])
    expect(revenue).toBeCloseTo(13_200, 9)
    expect(orders).toBeCloseTo(136.363636363636, 9)
  })

  it('sum: target minus the others, a subtracted part with its sign', () => {
    const members: MetricFormula = {
      kind: 'sum',
      children: [
        { metric: 'new', power: 1 },
        { metric: 'retained', power: 1 },
        { metric: 'reactivated', power: 1 },
        { metric: 'churned', power: -1 },
      ],
    }
    // 50 + 900 + 30 − 80 = 900; target 950.
    expect(requiredChildValues(members, 950, [50, 900, 30, 80])).toEqual([100, 950, 80, 30])
  })

  it('is null where a value it depends on is missing or a division has no answer', () => {
    const f = FORMULAS['net_revenue'] as MetricFormula
    expect(requiredChildValues(f, 900, [2, null, 200])).toEqual([null, 450 / 200, null])
    expect(requiredChildValues(f, 900, [0, 1.5, 200])).toEqual([3, null, null])
    const aov = FORMULAS['aov'] as MetricFormula
    expect(requiredChildValues(aov, 0, [600, 3])).toEqual([0, null])
  })
})

describe('targets pushed down on the tree', () => {
  let dir: string
  let dbPath: string
  let configPath: string
  const config: TreeConfigInput = {
    goal: { name: { en: 'Revenue', zh: '收入' } },
    grain: 'month',
    trends: ['pop'],
    core: [
      {
        metric: 'net_revenue',
        target: 900,
        related: [{ metric: 'aov', target: 250 }, { metric: 'buyers' }],
      },
    ],
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memberlens-pushdown-'))
    dbPath = join(dir, 'x.duckdb')
    configPath = join(dir, 'tree.json')
    await writeFile(configPath, JSON.stringify(config))
    const db = await openDatabase(dbPath)
    const m = join(dir, 'm.csv')
    await writeFile(m, 'phone,registered_at\n13800000001,2024-01-01\n13800000002,2024-01-01\n')
    const o = join(dir, 'o.csv')
    await writeFile(
      o,
      'order_id,phone,ordered_at,channel,net_amount\nO1,13800000001,2024-05-03,app,100\nO2,13800000001,2024-05-10,app,200\nO3,13800000002,2024-05-20,app,300\n',
    )
    await ingestFile(db.driver, m, { table: 'members', clock: TEST_CLOCK })
    await ingestFile(db.driver, o, { table: 'orders', clock: TEST_CLOCK })
    await db.close()
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('memberlens tree --json: each part of a target on a product or quotient, the others held', async () => {
    const r = await runCli([
      'tree',
      '--db',
      dbPath,
      '--config',
      configPath,
      '--period',
      '2024-05',
      '--json',
    ])
    expect(r.code).toBe(0)
    const t = JSON.parse(r.out) as {
      nodes: {
        metric: string
        value: number
        pushdown: {
          formula: { text: string }
          children: { metric: string; value: number; required: number; rate: number }[]
        }
        children: {
          metric: string
          pushdown?: { children: { metric: string; required: number }[] }
        }[]
      }[]
    }
    const rev = t.nodes[0]
    expect(rev?.value).toBe(600)
    expect(rev?.pushdown.formula.text).toBe('buyers × purchase_frequency × aov')
    const need = Object.fromEntries(rev?.pushdown.children.map((c) => [c.metric, c]) ?? [])
    expect(need['buyers']).toMatchObject({ value: 2, required: 3, rate: 0.5 })
    expect(need['purchase_frequency']?.value).toBe(1.5)
    expect(need['purchase_frequency']?.required).toBeCloseTo(2.25, 12)
    expect(need['aov']?.value).toBe(200)
    expect(need['aov']?.required).toBeCloseTo(300, 12)
    const aov = rev?.children.find((c) => c.metric === 'aov')
    const aovNeed = Object.fromEntries(
      aov?.pushdown?.children.map((c) => [c.metric, c.required]) ?? [],
    )
    expect(aovNeed['net_revenue']).toBeCloseTo(750, 12)
    expect(aovNeed['orders']).toBeCloseTo(2.4, 12)
    // A node without a target, or whose metric has no formula, has none.
    expect(rev?.children.find((c) => c.metric === 'buyers')).not.toHaveProperty('pushdown')
  })

  it('memberlens tree: shows what each part needs beside the target, in either language', async () => {
    const en = await runCli(['tree', '--db', dbPath, '--config', configPath, '--period', '2024-05'])
    expect(en.out).toContain('to reach the target, holding the others: ')
    expect(en.out).toMatch(/Buyers 3 \(\+50\.0%\)/)
    // 2.4 orders is not rounded to 2.
    expect(en.out).toMatch(/Orders 2\.4 \(-20\.0%\)/)
    const zh = await runCli([
      'tree',
      '--db',
      dbPath,
      '--config',
      configPath,
      '--period',
      '2024-05',
      '--lang',
      'zh',
    ])
    expect(zh.out).toContain('达成目标所需（其余不变）：')
    expect(zh.out).toMatch(/购买会员数 3 \(\+50\.0%\)/)
  })

  it('GET /api/v1/tree answers the same pushdown', async () => {
    const db = await openDatabase(dbPath, { readOnly: true })
    try {
      const keys = new KeyStore(join(dir, 'keys.json'), fixedClock('2026-11-01T00:00:00Z'))
      const secret = (await keys.create('viewer', 'viewer')).secret
      const app = createApp({
        driver: db.driver,
        keys,
        tree: config,
        clock: fixedClock('2026-11-01T00:00:00Z'),
        rate: { perSecond: 1000, burst: 1000 },
        log: () => {},
      })
      const r = await app.request('/api/v1/tree?period=2024-05', {
        headers: { authorization: `Bearer ${secret}` },
      })
      expect(r.status).toBe(200)
      const body = (await r.json()) as {
        nodes: { pushdown: { children: { metric: string; required: number; change: number }[] } }[]
      }
      const buyers = body.nodes[0]?.pushdown.children.find((c) => c.metric === 'buyers')
      expect(buyers).toMatchObject({ required: 3, change: 1 })
    } finally {
      await db.close()
    }
  })
})
