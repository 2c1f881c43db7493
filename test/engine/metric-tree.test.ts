import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { analyzeDrivers } from '../../src/analytics/reporting/driver-analysis.js'
import { parseCustomMetrics } from '../../src/engine/metrics/custom.js'
import { addPeriods, lastCompletePeriod, runMetrics } from '../../src/engine/metrics/run.js'
import {
  DEFAULT_TREE,
  evaluateTree,
  parseTreeConfig,
  statusOf,
} from '../../src/engine/metrics/tree.js'
import {
  correlationInterval,
  normalQuantile,
  pearson,
  standardizedOls,
} from '../../src/models/correlation.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch

/*
 * Orders (member by phone): 2023-01 A 100, B 50 · 2024-01 A 100, A 60, C 40 · 2024-02 A 90 (coupon K1, store),
 * B 30 (store).  Members are created by their first order.
 */
beforeAll(async () => {
  s = await scratch()
  await s.ingest(
    'orders',
    await s.file(
      'o.csv',
      [
        'order_id,phone,ordered_at,channel,store_id,net_amount,coupon_id',
        'P1,13800000001,2023-01-10 10:00:00,app,,100,',
        'P2,13800000002,2023-01-12 10:00:00,app,,50,',
        'Q1,13800000001,2024-01-05 10:00:00,app,,100,',
        'Q2,13800000001,2024-01-06 10:00:00,app,,60,K9',
        'Q3,13800000003,2024-01-07 10:00:00,web,,40,',
        'R1,13800000001,2024-02-05 10:00:00,store,S1,90,K1',
        'R2,13800000002,2024-02-06 10:00:00,store,S1,30,',
      ].join('\n'),
    ),
  )
})
afterAll(async () => {
  await s.cleanup()
})

describe('metric tree', () => {
  it('evaluates targets, status and change rates (hand-checked)', async () => {
    const t = await evaluateTree(
      s.db.driver,
      {
        goal: { name: { en: 'Revenue', zh: '收入' } },
        atRiskWithin: 0.1,
        core: [
          {
            metric: 'net_revenue',
            target: 250,
            related: [{ metric: 'orders', target: { vs: 'yoy', change: 0.5 } }],
          },
        ],
      },
      { period: '2024-01' },
    )
    const core = t.nodes[0]
    // Jan 2024 net revenue 200; Jan 2023 150 → yoy +33.3%; Dec 2023 0 → no pop change.
    expect(core).toMatchObject({ role: 'core', value: 200, target: 250, status: 'off_track' })
    expect(core?.change.yoy).toBeCloseTo(200 / 150 - 1, 12)
    expect(core?.change.pop).toBeNull()
    // Orders: 3 in Jan 2024 vs 2 a year earlier → target 2 × 1.5 = 3 → on track.
    const orders = core?.children[0]
    expect(orders).toMatchObject({
      role: 'related',
      value: 3,
      target: 3,
      status: 'on_track',
      targetText: '+50% vs last year',
    })
    // Trend nodes: the core metric's change rates.
    expect(core?.children.map((c) => c.key)).toEqual([
      'orders',
      'net_revenue:pop',
      'net_revenue:yoy',
    ])
    expect(core?.children[2]).toMatchObject({ role: 'trend', status: 'on_track' })
    expect(core?.series).toHaveLength(12)
    expect(core?.series.at(-1)).toBe(200)
    expect(t.label).toBe('2024-01')
  })

  it('defaults to the last complete period of the data and the worked example', async () => {
    const t = await evaluateTree(s.db.driver, DEFAULT_TREE)
    // The data ends on 2024-02-06, so February is not complete: January is evaluated.
    expect(t.label).toBe('2024-01')
    expect(t.nodes.map((n) => n.metric)).toEqual([
      'purchase_frequency',
      'net_revenue',
      'period_retention',
    ])
  })

  it('classifies status by direction', () => {
    expect(statusOf(96, 100, 'higher', 0.05)).toBe('at_risk')
    expect(statusOf(94, 100, 'higher', 0.05)).toBe('off_track')
    expect(statusOf(0.11, 0.1, 'lower', 0.2)).toBe('at_risk')
    expect(statusOf(0.09, 0.1, 'lower', 0.2)).toBe('on_track')
    expect(statusOf(null, 1, 'higher', 0.1)).toBe('no_data')
    expect(statusOf(1, null, 'higher', 0.1)).toBe('no_target')
  })

  it('refuses a malformed config with the path of the problem', () => {
    expect(() => parseTreeConfig({ goal: { name: { en: 'x' } }, core: [] }, 'tree.yaml')).toThrow(
      /tree\.yaml: goal\.name\.zh.*core/,
    )
  })
})

describe('custom metrics', () => {
  it('counts, sums and ratios from a config, by the order channel', async () => {
    const extra = parseCustomMetrics({
      metrics: [
        {
          id: 'coupon_orders',
          name: { en: 'Coupon orders', zh: '用券订单' },
          count: { source: 'purchases', where: { coupon_id: 'present' } },
        },
        {
          id: 'store_revenue',
          sum: { source: 'purchases', field: 'amount', where: { channel: ['store'] } },
        },
        { id: 'coupon_order_share', ratio: { numerator: 'coupon_orders', denominator: 'orders' } },
        {
          id: 'big_order_members',
          count_members: { source: 'purchases', where: { amount: { gte: 60 } } },
        },
      ],
    })
    const r = await runMetrics(s.db.driver, {
      metrics: ['coupon_orders', 'store_revenue', 'coupon_order_share', 'big_order_members'],
      from: '2024-01',
      to: '2024-02',
      extraMetrics: extra,
    })
    expect(r.rows.map((x) => x.values)).toEqual([
      { coupon_orders: 1, store_revenue: 0, coupon_order_share: 1 / 3, big_order_members: 1 },
      { coupon_orders: 1, store_revenue: 120, coupon_order_share: 1 / 2, big_order_members: 1 },
    ])
    const byChannel = await runMetrics(s.db.driver, {
      metrics: ['coupon_order_share'],
      from: '2024-02',
      to: '2024-02',
      by: ['order_channel'],
      extraMetrics: extra,
    })
    expect(
      byChannel.rows.map((x) => [x.dims['order_channel'], x.values['coupon_order_share']]),
    ).toEqual([
      ['app', null],
      ['store', 1 / 2],
      ['web', null],
    ])
  })

  it('refuses unknown columns, sources and metrics, and duplicate ids', () => {
    expect(() =>
      parseCustomMetrics(
        { metrics: [{ id: 'x', count: { source: 'purchases', where: { colour: 'red' } } }] },
        'm.yaml',
      ),
    ).toThrow(/m\.yaml: purchases has no column "colour"/)
    expect(() =>
      parseCustomMetrics({ metrics: [{ id: 'x', count: { source: 'nowhere' } }] }),
    ).toThrow(/source/)
    expect(() =>
      parseCustomMetrics({
        metrics: [{ id: 'x', ratio: { numerator: 'nope', denominator: 'orders' } }],
      }),
    ).toThrow(/unknown metric "nope"/)
    expect(() =>
      parseCustomMetrics({ metrics: [{ id: 'orders', count: { source: 'purchases' } }] }),
    ).toThrow(/already defined/)
    expect(() =>
      parseCustomMetrics({
        metrics: [
          {
            id: 'x',
            count: { source: 'purchases' },
            sum: { source: 'purchases', field: 'amount' },
          },
        ],
      }),
    ).toThrow(/exactly one/)
  })
})

describe('driver analysis', () => {
  it('correlation, Fisher interval and standardised OLS match values computed by hand', () => {
    const x = [1, 2, 3, 4, 5]
    const y = [2, 4, 5, 4, 5]
    // Σdx·dy = 6, Σdx² = 10, Σdy² = 6 → r = 6 / √60 = 0.774597…
    expect(pearson(x, y)).toBeCloseTo(6 / Math.sqrt(60), 12)
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 8)
    const [lo, hi] = correlationInterval(0.5, 28)
    // atanh(0.5) = 0.5493061; ± 1.9599640/5 → tanh(0.1573133) = 0.1560284, tanh(0.9412989) = 0.7358185
    expect(lo).toBeCloseTo(0.1560284, 6)
    expect(hi).toBeCloseTo(0.7358185, 6)
    // With one predictor the standardised coefficient is r and R² is r².
    const fit = standardizedOls([x], y)
    expect(fit.beta[0]).toBeCloseTo(6 / Math.sqrt(60), 10)
    expect(fit.r2).toBeCloseTo(36 / 60, 10)
    // y = 2·x1 − x2 exactly: R² = 1 and the ratio of coefficients follows the standard deviations.
    const x1 = [1, 2, 3, 4, 5, 6]
    const x2 = [2, 1, 4, 3, 6, 5]
    const y2 = x1.map((v, i) => 2 * v - (x2[i] as number))
    const fit2 = standardizedOls([x1, x2], y2)
    expect(fit2.r2).toBeCloseTo(1, 12)
    expect((fit2.beta[0] as number) / (fit2.beta[1] as number)).toBeCloseTo(-2, 10)
  })

  it('ranks candidates across groups and reports the sample size', async () => {
    const d = await analyzeDrivers(s.db.driver, {
      core: 'net_revenue',
      candidates: ['orders', 'aov'],
      from: '2023-01',
      to: '2024-02',
    })
    expect(d.groups).toBeGreaterThan(0)
    expect(d.drivers.map((x) => x.metric).sort()).toEqual(['aov', 'orders'])
    for (const x of d.drivers) {
      expect(x.r).not.toBeNull()
      expect(Math.abs(x.r as number)).toBeLessThanOrEqual(1)
    }
  })

  it("defaults to the twelve periods ending with the data's last complete one", async () => {
    const d = await analyzeDrivers(s.db.driver, { core: 'net_revenue', candidates: ['orders'] })
    const last = await lastCompletePeriod(s.db.driver, 'month')
    expect(d.to).toBe(last)
    expect(d.from).toBe(addPeriods(last as string, 'month', -11))
  })

  it('answers an empty database with no range and no correlations', async () => {
    const empty = await scratch()
    try {
      const d = await analyzeDrivers(empty.db.driver, {
        core: 'net_revenue',
        candidates: ['orders'],
      })
      expect(d).toMatchObject({ from: null, to: null, groups: 0 })
      expect(d.drivers[0]).toMatchObject({ metric: 'orders', r: null, ci: null })
    } finally {
      await empty.cleanup()
    }
  })
})
