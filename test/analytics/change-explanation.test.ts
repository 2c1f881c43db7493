/**
 * Why a metric moved: the change of a product metric against the previous period and last year split into its
 * children's parts on real queries — hand-checked on a small order history, the planted driver of a change
 * ranked first, the parts adding up to the change — and `memberlens explain-change` in English, Chinese and JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  explainChange,
  explainChangeBy,
  formulaText,
  FORMULAS,
  type ChangeByDimension,
  type ChangeExplanation,
} from '../../src/analytics/reporting/change-explanation.js'
import { createApp } from '../../src/api/app.js'
import { KeyStore } from '../../src/api/keys.js'
import { runMetrics } from '../../src/engine/metrics/run.js'
import { runCli } from '../helpers/cli.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let planted: Scratch
let dbFile: string

/*
 * Orders: 2023-01 A 100, B 50 · 2024-01 A 100, A 60, C 40 · 2024-02 A 90, B 30.
 * 2023-01: 2 buyers × 1 order × 75 = 150 · 2024-01: 2 × 1.5 × 66.67 = 200 · 2024-02: 2 × 1 × 60 = 120.
 */
const ORDERS = [
  'order_id,phone,ordered_at,channel,net_amount',
  'P1,13800000001,2023-01-10 10:00:00,app,100',
  'P2,13800000002,2023-01-12 10:00:00,app,50',
  'Q1,13800000001,2024-01-05 10:00:00,app,100',
  'Q2,13800000001,2024-01-06 10:00:00,app,60',
  'Q3,13800000003,2024-01-07 10:00:00,web,40',
  'R1,13800000001,2024-02-05 10:00:00,store,90',
  'R2,13800000002,2024-02-06 10:00:00,store,30',
].join('\n')

/** The three buyers' regions: 13800000001 上海, 13800000002 浙江, 13800000003 江苏. */
const MEMBERS = [
  'phone,registered_at,region',
  '13800000001,2022-12-01T00:00:00Z,上海',
  '13800000002,2022-12-01T00:00:00Z,浙江',
  '13800000003,2022-12-01T00:00:00Z,江苏',
].join('\n')

/** A planted change: 100 buyers × 1 order × 50 in March, then 80 buyers × 1 order × 51 in April. */
function plantedOrders(): string {
  const rows = ['order_id,phone,ordered_at,channel,net_amount']
  for (let i = 0; i < 100; i++)
    rows.push(`M${i},1390000${String(i).padStart(4, '0')},2025-03-10 10:00:00,app,50`)
  for (let i = 0; i < 80; i++)
    rows.push(`A${i},1390000${String(i).padStart(4, '0')},2025-04-10 10:00:00,app,51`)
  // May: 10 orders of 50, and 16 April orders returned in full: net revenue 500 − 816 = −316.
  for (let i = 0; i < 10; i++)
    rows.push(`Y${i},1390000${String(i).padStart(4, '0')},2025-05-10 10:00:00,app,50`)
  return rows.join('\n')
}

beforeAll(async () => {
  s = await scratch()
  await s.ingest('members', await s.file('m.csv', `${MEMBERS}\n`))
  await s.ingest('orders', await s.file('o.csv', ORDERS))
  planted = await scratch()
  await planted.ingest('orders', await planted.file('p.csv', plantedOrders()))
  const returns = ['return_id,order_id,returned_at,amount']
  for (let i = 0; i < 16; i++) returns.push(`RT${i},A${i},2025-05-12 10:00:00,51`)
  await planted.ingest('returns', await planted.file('r.csv', returns.join('\n')))
  dbFile = `${s.dir}/x.duckdb`
  const m = await runCli(['ingest', 'members', await s.file('m2.csv', MEMBERS), '--db', dbFile])
  expect(m.code, m.err).toBe(0)
  const r = await runCli(['ingest', 'orders', await s.file('o2.csv', ORDERS), '--db', dbFile])
  expect(r.code, r.err).toBe(0)
})
afterAll(async () => {
  await s.cleanup()
  await planted.cleanup()
})

const part = (e: ChangeExplanation, vs: 'pop' | 'yoy', metric: string) =>
  e[vs]?.parts.find((p) => p.metric === metric)

describe('explainChange', () => {
  it('splits net revenue 2024-01 against 2023-01 and 2024-02 against 2024-01 (hand-checked)', async () => {
    const jan = await explainChange(s.db.driver, 'net_revenue', { period: '2024-01' })
    expect(jan.formula.text).toBe('buyers × purchase_frequency × aov')
    expect(jan.value).toBe(200)
    // 同比 150 → 200: L = 50 / ln(4/3) = 173.803; frequency L·ln 1.5 = 70.47, AOV L·ln(8/9) = −20.47, buyers 0.
    expect(jan.yoy).toMatchObject({
      basePeriod: '2023-01-01',
      before: 150,
      change: 50,
      method: 'lmdi',
    })
    expect(part(jan, 'yoy', 'purchase_frequency')?.contribution).toBeCloseTo(70.47, 2)
    expect(part(jan, 'yoy', 'aov')?.contribution).toBeCloseTo(-20.47, 2)
    expect(part(jan, 'yoy', 'buyers')?.contribution).toBe(0)
    expect(part(jan, 'yoy', 'purchase_frequency')?.points).toBeCloseTo(70.47 / 150, 4)
    expect(jan.yoy?.parts[0]?.metric).toBe('purchase_frequency')

    const feb = await explainChange(s.db.driver, 'net_revenue', { period: '2024-02-15' })
    expect(feb.period).toBe('2024-02-01')
    // 环比 200 → 120: frequency 1.5 → 1, AOV 66.67 → 60, buyers 2 → 2.
    expect(feb.pop).toMatchObject({ baseLabel: '2024-01', before: 200, after: 120, change: -80 })
    expect(feb.pop?.rate).toBeCloseTo(-0.4, 12)
    const sum = feb.pop?.parts.reduce((a, p) => a + p.contribution, 0)
    expect(sum).toBeCloseTo(-80, 10)
    expect(part(feb, 'pop', 'aov')?.rate).toBeCloseTo(-0.1, 10)
    // 2023-02 has no buyers, so frequency and AOV have no value there: no 同比 split.
    expect(feb.yoy).toBeNull()
  })

  it('ranks the planted driver of a change first', async () => {
    const e = await explainChange(planted.db.driver, 'net_revenue', { period: '2025-04' })
    // 5,000 → 4,080: buyers −20 % (planted), AOV +2 %.
    expect(e.pop?.change).toBeCloseTo(-920, 9)
    expect(e.pop?.parts.map((p) => p.metric)).toEqual(['buyers', 'aov', 'purchase_frequency'])
    expect(e.pop?.parts[0]?.contribution).toBeLessThan(-900)
    expect(e.pop?.parts[1]?.contribution).toBeGreaterThan(0)
  })

  it('splits a change through a negative month by Shapley values, exactly', async () => {
    const e = await explainChange(planted.db.driver, 'net_revenue', { period: '2025-05' })
    // April 4,080 → May −316 (returns above purchases): AOV is negative, so no log-mean.
    expect(e.value).toBeCloseTo(-316, 9)
    expect(e.pop?.method).toBe('shapley')
    expect(e.pop?.change).toBeCloseTo(-4_396, 9)
    const sum = e.pop?.parts.reduce((a, p) => a + p.contribution, 0) ?? NaN
    expect(Math.abs(sum - (e.pop?.change ?? NaN))).toBeLessThan(1e-9)
    expect(e.pop?.parts[0]?.metric).toBe('aov')
  })

  it('holds every built-in formula as an identity of the catalog, and sums its parts to the change', async () => {
    const ids = [
      ...new Set(
        Object.entries(FORMULAS).flatMap(([m, f]) => [m, ...f.children.map((c) => c.metric)]),
      ),
    ]
    const r = await runMetrics(s.db.driver, {
      metrics: ids,
      from: '2024-01',
      to: '2024-02',
      grain: 'month',
    })
    for (const row of r.rows)
      for (const [metric, f] of Object.entries(FORMULAS)) {
        const made = f.children.reduce((p, c) => p * (row.values[c.metric] as number) ** c.power, 1)
        expect(made, `${metric} ${row.label}`).toBeCloseTo(row.values[metric] as number, 9)
      }
    for (const metric of Object.keys(FORMULAS)) {
      const e = await explainChange(s.db.driver, metric, { period: '2024-02' })
      expect(e.pop, metric).not.toBeNull()
      const sum = e.pop?.parts.reduce((a, p) => a + p.contribution, 0) ?? NaN
      expect(Math.abs(sum - (e.pop?.change ?? NaN)), metric).toBeLessThan(1e-9)
    }
    expect(formulaText(FORMULAS['aov']!)).toBe('net_revenue ÷ orders')
  })

  it('refuses a formula that does not reproduce its metric', async () => {
    // buyers × aov equals net revenue in 2024-02 only because each buyer ordered once; 2024-01 shows the gap.
    await expect(
      explainChange(s.db.driver, 'net_revenue', {
        period: '2024-02',
        formulas: {
          net_revenue: {
            kind: 'product',
            children: [
              { metric: 'buyers', power: 1 },
              { metric: 'aov', power: 1 },
            ],
          },
        },
      }),
    ).rejects.toThrow(
      /^formula of net_revenue \(buyers × aov\) does not reproduce it in 2024-01: 133\.33\d* from the formula, 200 measured$/,
    )
  })

  it('refuses a metric without a formula, naming those that have one', async () => {
    await expect(explainChange(s.db.driver, 'churn_rate', { period: '2024-02' })).rejects.toThrow(
      /metric "churn_rate": has no product or sum formula .*net_revenue, orders/,
    )
  })
})

describe('explainChangeBy', () => {
  it('splits the change among a dimension’s values and drills into the largest surprise (hand-checked)', async () => {
    // 2024-01 → 2024-02 by region: 上海 160 → 90, 江苏 40 → 0, 浙江 0 → 30; in all 200 → 120.
    const e = await explainChangeBy(s.db.driver, 'net_revenue', ['region'], { period: '2024-02' })
    const level = e.drills.pop?.levels[0]
    expect(level?.change).toBe(-80)
    // surprise = change − (−80) × share: 上海 −70 + 64, 江苏 −40 + 16, 浙江 30 − 0.
    expect(
      level?.groups.map((g) => [g.value, g.change, g.share, Number(g.surprise?.toFixed(9))]),
    ).toEqual([
      ['上海', -70, 0.8, -6],
      ['江苏', -40, 0.2, -24],
      ['浙江', 30, 0, 30],
    ])
    // The groups' changes add up to the parent's change exactly.
    expect(level?.groups.reduce((sum, g) => sum + g.change, 0)).toBe(e.pop?.change)
    expect(level?.drill).toBe('浙江')
    expect(e.drills.pop?.largest?.path).toEqual([{ dimension: 'region', value: '浙江' }])
    // 浙江 had no orders in January: no split of its own. 上海: 1 buyer, 2 → 1 orders, AOV 80 → 90;
    // LMDI L = −70 / ln(90/160) = 121.663, frequency L·ln 0.5 = −84.33, AOV L·ln(9/8) = 14.33.
    expect(level?.groups.find((g) => g.value === '浙江')?.parts).toBeNull()
    const sh = level?.groups.find((g) => g.value === '上海')?.parts
    expect(sh?.[0]?.metric).toBe('purchase_frequency')
    expect(sh?.[0]?.contribution).toBeCloseTo(-84.33, 2)
    expect(sh?.find((p) => p.metric === 'aov')?.contribution).toBeCloseTo(14.33, 2)
  })

  it('refuses a metric that is not a sum over the dimension, and more than three dimensions', async () => {
    await expect(
      explainChangeBy(s.db.driver, 'aov', ['region'], { period: '2024-02' }),
    ).rejects.toThrow(/aov is not a sum over the values of region/)
    await expect(
      explainChangeBy(s.db.driver, 'net_revenue', ['a', 'b', 'c', 'd'], { period: '2024-02' }),
    ).rejects.toThrow(/one to three dimensions/)
  })

  it('prints the levels and the largest source with --by, in English and Chinese', async () => {
    const en = await runCli([
      'explain-change',
      'net_revenue',
      '--period',
      '2024-02',
      '--by',
      'region',
      '--db',
      dbFile,
    ])
    expect(en.code, en.err).toBe(0)
    expect(en.out).toContain('By region, vs previous period')
    expect(en.out).toMatch(/浙江 ◀\s+\+¥30/)
    expect(en.out).toContain('Largest, vs previous period: 浙江')
    const zh = await runCli([
      'explain-change',
      'net_revenue',
      '--period',
      '2024-02',
      '--by',
      'region',
      '--lang',
      'zh',
      '--db',
      dbFile,
    ])
    expect(zh.out).toContain('按地区拆分（环比）')
    expect(zh.out).toContain('环比最大来源：浙江')
  })
})

describe('memberlens explain-change', () => {
  it('prints the split in English and Chinese, and JSON', async () => {
    const en = await runCli([
      'explain-change',
      'net_revenue',
      '--period',
      '2024-02',
      '--db',
      dbFile,
    ])
    expect(en.err).toBe('')
    expect(en.code).toBe(0)
    expect(en.out).toMatch(
      /Net revenue 2024-02 vs previous period −40\.0%: Purchase frequency −\d+\.\d pts, Average order value −\d+\.\d pts, Buyers 0\.0 pts/,
    )
    expect(en.out).toContain('No split against last year')
    const zh = await runCli([
      'explain-change',
      'net_revenue',
      '--period',
      '2024-01',
      '--db',
      dbFile,
      '--lang',
      'zh',
    ])
    expect(zh.out).toMatch(
      /消费金额 2024-01 同比（2023-01）\+33\.3%：购买频次 \+47\.0 个百分点，客单价 −13\.6 个百分点/,
    )
    expect(zh.out).toContain('对数平均迪氏指数')
    const json = await runCli([
      'explain-change',
      'aov',
      '--period',
      '2024-02',
      '--db',
      dbFile,
      '--json',
    ])
    const body = JSON.parse(json.out) as ChangeExplanation
    expect(body).toMatchObject({ metric: 'aov', label: '2024-02', formula: { kind: 'product' } })
    expect(body.pop?.parts.map((p) => p.metric).sort()).toEqual(['net_revenue', 'orders'])
  })

  it('splits a sum of your own: net revenue = gross sales − returns, with a custom metric', async () => {
    const metrics = await planted.file(
      'metrics.yaml',
      'metrics:\n  - id: gross_sales\n    name: { en: Gross sales, zh: 销售总额 }\n    sum: { source: purchases, field: amount }\n    unit: currency\n',
    )
    const formulas = await planted.file(
      'formulas.yaml',
      'formulas:\n  net_revenue:\n    sum: [gross_sales]\n    minus: [returned_amount]\n',
    )
    const db = `${planted.dir}/p.duckdb`
    const ingest = await runCli([
      'ingest',
      'orders',
      await planted.file('p2.csv', plantedOrders()),
      '--db',
      db,
    ])
    expect(ingest.code, ingest.err).toBe(0)
    const ret = ['return_id,order_id,returned_at,amount', 'RT0,A0,2025-05-12 10:00:00,51']
    expect(
      (
        await runCli([
          'ingest',
          'returns',
          await planted.file('r2.csv', ret.join('\n')),
          '--db',
          db,
        ])
      ).code,
    ).toBe(0)
    const r = await runCli([
      'explain-change',
      'net_revenue',
      '--period',
      '2025-05',
      '--db',
      db,
      '--formulas',
      formulas,
      '--metrics-file',
      metrics,
      '--json',
    ])
    expect(r.err).toBe('')
    const e = JSON.parse(r.out) as ChangeExplanation
    // April 4,080 → May 500 − 51 = 449: gross sales −3,580, returns −51 (more returns lower revenue).
    expect(e.formula).toEqual({ kind: 'sum', text: 'gross_sales − returned_amount' })
    expect(e.pop).toMatchObject({ method: 'sum', before: 4_080, after: 449, change: -3_631 })
    expect(e.pop?.parts.map((p) => [p.metric, p.contribution])).toEqual([
      ['gross_sales', -3_580],
      ['returned_amount', -51],
    ])
  })

  it('names the file, line and field of a bad formula', async () => {
    const bad = await s.file(
      'bad-formulas.yaml',
      'formulas:\n  net_revenue:\n    sum: [gross_sales]\n    divide: [orders]\n',
    )
    const r = await runCli([
      'explain-change',
      'net_revenue',
      '--period',
      '2024-02',
      '--db',
      dbFile,
      '--formulas',
      bad,
    ])
    expect(r.code).not.toBe(0)
    expect(r.err).toContain(`${bad}:3: formulas.net_revenue: Unrecognized key: "divide"`)
  })

  it('leaves the glossary command as it was', async () => {
    const r = await runCli(['explain', 'net_revenue'])
    expect(r.code).toBe(0)
    expect(r.out).toContain('net_revenue')
  })
})

describe('GET /api/v1/tree/decomposition', () => {
  it('splits each tree metric that has a formula, for the period asked', async () => {
    const keys = new KeyStore(`${s.dir}/keys.json`, TEST_CLOCK)
    const secret = (await keys.create('viewer', 'viewer')).secret
    const app = createApp({ driver: s.db.driver, keys, clock: TEST_CLOCK, log: () => {} })
    const r = await app.request('/api/v1/tree/decomposition?period=2024-02', {
      headers: { authorization: `Bearer ${secret}` },
    })
    expect(r.status).toBe(200)
    const body = (await r.json()) as { period: string; explanations: ChangeExplanation[] }
    expect(body.period).toBe('2024-02-01')
    // The default tree: purchase_frequency, net_revenue and aov have formulas; retention and conversion do not.
    expect(body.explanations.map((e) => e.metric)).toEqual([
      'purchase_frequency',
      'net_revenue',
      'aov',
    ])
    const revenue = body.explanations.find((e) => e.metric === 'net_revenue')
    expect(revenue?.pop?.change).toBe(-80)
    expect(revenue?.pop?.parts.reduce((a, p) => a + p.contribution, 0)).toBeCloseTo(-80, 10)
    const bad = await app.request('/api/v1/tree/decomposition?period=2024-13', {
      headers: { authorization: `Bearer ${secret}` },
    })
    expect(bad.status).toBe(400)
  })
})

describe('GET /api/v1/tree/decomposition/{metric}', () => {
  it('splits one metric by dimensions, naming a bad dimension in API terms', async () => {
    const keys = new KeyStore(`${s.dir}/keys-by.json`, TEST_CLOCK)
    const secret = (await keys.create('viewer', 'viewer')).secret
    const app = createApp({ driver: s.db.driver, keys, clock: TEST_CLOCK, log: () => {} })
    const headers = { authorization: `Bearer ${secret}` }
    const r = await app.request('/api/v1/tree/decomposition/net_revenue?period=2024-02&by=region', {
      headers,
    })
    expect(r.status).toBe(200)
    const body = (await r.json()) as ChangeByDimension
    expect(body.drills.pop?.levels[0]?.drill).toBe('浙江')
    expect(body.drills.pop?.levels[0]?.groups.map((g) => g.change)).toEqual([-70, -40, 30])
    const bad = await app.request('/api/v1/tree/decomposition/aov?period=2024-02&by=region', {
      headers,
    })
    expect(bad.status).toBe(400)
    expect(JSON.stringify(await bad.json())).toContain('aov is not a sum over the values of region')
  })
})
