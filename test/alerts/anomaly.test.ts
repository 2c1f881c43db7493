/**
 * Holiday-aware anomaly alerts on a generated order history (2023-01 to 2026-06) whose demand follows 春节 —
 * which falls on 2023-01-22, 2024-02-10, 2025-01-29 and 2026-02-17 — with a weekday pattern, Poisson noise and
 * two planted shocks (2026-05-12 and the last day, 2026-06-30, orders × 0.35). The detector runs on the
 * series of each node of the net-revenue tree from SQL: the shocks fire, the 春节 shift does not (and does
 * without calendar alignment, so the check can fail), and no node fires more than once a quarter otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AlertService, isRuleDue, ruleOffsetMinutes } from '../../src/alerts/alert-service.js'
import { AlertStore } from '../../src/alerts/alert-store.js'
import { ComparatorMap, detectAnomalies } from '../../src/alerts/anomaly.js'
import { springFestival, addDays } from '../../src/calendar/index.js'
import { createApp } from '../../src/api/app.js'
import { KeyStore } from '../../src/api/keys.js'
import { runCli } from '../helpers/cli.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let dbFile: string

const FIRST = '2023-01-01'
const LAST = '2026-06-30'
const SHOCKS = ['2026-05-12', LAST]
const NODES = ['net_revenue', 'orders', 'buyers', 'aov', 'purchase_frequency']

/** Deterministic uniform numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Poisson draw by inversion (fine for the means used here). */
function poisson(mean: number, u: () => number): number {
  let k = 0
  let p = Math.exp(-mean)
  let cdf = p
  const x = u()
  while (x > cdf && k < 1000) {
    k++
    p *= mean / k
    cdf += p
  }
  return k
}

/** Demand multiplier of a day against 春节 of its year (or of the next year, for late December). */
function springFactor(day: string): number {
  const y = Number(day.slice(0, 4))
  for (const cny of [springFestival(y), springFestival(y + 1)]) {
    const d = Math.round((Date.parse(day) - Date.parse(cny)) / 86_400_000)
    if (d >= -14 && d <= -2) return 1.7 // 年货 run-up
    if (d >= -1 && d <= 6) return 0.35 // the holiday itself
    if (d >= 7 && d <= 14) return 0.75
  }
  return 1
}

function history(): string {
  const u = rng(20)
  const rows = ['order_id,phone,ordered_at,channel,net_amount']
  let n = 0
  for (let day = FIRST; day <= LAST; day = addDays(day, 1)) {
    const weekday = new Date(`${day}T00:00:00Z`).getUTCDay()
    const weekFactor = weekday === 0 || weekday === 6 ? 1.2 : 0.92
    const shock = SHOCKS.includes(day) ? 0.35 : 1
    const count = poisson(70 * weekFactor * springFactor(day) * shock, u)
    for (let i = 0; i < count; i++) {
      const phone = `139${String(Math.floor(u() * 4000)).padStart(8, '0')}`
      const amount = (40 + u() * 30).toFixed(2)
      rows.push(`O${n++},${phone},${day} 12:00:00,app,${amount}`)
    }
  }
  return rows.join('\n')
}

beforeAll(async () => {
  s = await scratch()
  const csv = await s.file('orders.csv', history())
  await s.ingest('orders', csv)
  dbFile = `${s.dir}/m.duckdb`
  const r = await runCli(['ingest', 'orders', csv, '--db', dbFile])
  expect(r.code, r.err).toBe(0)
}, 60_000)
afterAll(async () => {
  await s.cleanup()
})

const service = (file: string) =>
  new AlertService({
    driver: s.db.driver,
    store: new AlertStore(file, TEST_CLOCK),
    clock: TEST_CLOCK,
  })

/** Days whose demand, or whose same weekday last year's, the 春节 season moved: the shift itself. */
const inSpring = (day: string) => springFactor(day) !== 1 || springFactor(addDays(day, -364)) !== 1

describe('comparators', () => {
  it('match the position to 春节 in earlier years, and the weekday elsewhere', () => {
    const map = new ComparatorMap('day', {
      z: 4,
      direction: 'either',
      years: 2,
      events: ['spring_festival'],
    })
    // 春节 −3 days in 2026 against 春节 −3 days in 2025 and 2024.
    expect(map.comparators('2026-02-14')).toEqual([
      { yearsBack: 1, period: '2025-01-26', event: 'spring_festival' },
      { yearsBack: 2, period: '2024-02-07', event: 'spring_festival' },
    ])
    // 2026-01-30 is far from its own 春节 window's core but last year's same weekday (2025-01-31) was in the
    // 2025 holiday: aligned on the event too, never on last year's holiday.
    const jan = map.comparators('2026-01-30')
    expect(jan[0]).toEqual({ yearsBack: 1, period: '2025-01-11', event: 'spring_festival' })
    // Summer: 364 and 728 days back, same weekday.
    expect(map.comparators('2026-07-15')).toEqual([
      { yearsBack: 1, period: '2025-07-16', event: null },
      { yearsBack: 2, period: '2024-07-17', event: null },
    ])
  })

  it('scores with median and MAD: a lone outlier has a large z, the noise around it does not', () => {
    const u = rng(7)
    const series = Array.from({ length: 800 }, (_, i) => ({
      period: addDays('2023-01-02', i),
      value: 100 + 10 * (u() + u() + u() - 1.5),
    }))
    const spike = series[790] as { period: string; value: number }
    spike.value = 300
    const points = detectAnomalies(series, 'day', {
      z: 4,
      direction: 'either',
      years: 1,
      events: [],
    })
    const fired = points.filter((p) => p.fired).map((p) => p.period)
    expect(fired).toEqual([spike.period])
    const hit = points.find((p) => p.period === spike.period)
    expect(hit?.residualKind).toBe('log')
    expect(hit?.z).toBeGreaterThan(4)
  })
})

describe('backtest on a history with 春节 moving between years', () => {
  it('alerts the shocks, not the 春节 shift, at most one false alarm per node and quarter', async () => {
    const svc = service(`${s.dir}/a.json`)
    const rule = await svc.store.addRule({
      name: 'revenue anomaly',
      metric: 'net_revenue',
      grain: 'day',
      // The default threshold, |z| ≥ 4.5.
      condition: { kind: 'anomaly', years: 2 },
    })
    const bt = await svc.backtest(rule, { from: '2025-01-01', metrics: NODES })
    expect(bt.nodes.map((n) => n.metric)).toEqual(NODES)
    for (const node of bt.nodes) {
      const quarters = node.quarters.map((q) => q.quarter)
      expect(quarters).toEqual(['2025-Q1', '2025-Q2', '2025-Q3', '2025-Q4', '2026-Q1', '2026-Q2'])
      const fired = node.quarters.flatMap((q) => q.periods)
      // The 春节 shift (in 2025 and 2026, ±21 days) never fires.
      expect(fired.filter(inSpring), node.metric).toEqual([])
      for (const q of node.quarters) {
        const falseAlarms = q.periods.filter((p) => !SHOCKS.includes(p))
        expect(falseAlarms.length, `${node.metric} ${q.quarter}`).toBeLessThanOrEqual(1)
      }
      // Both shocks move the count nodes (revenue, orders, buyers); AOV and frequency barely move.
      if (['net_revenue', 'orders', 'buyers'].includes(node.metric))
        expect(
          fired.filter((p) => SHOCKS.includes(p)),
          node.metric,
        ).toEqual(SHOCKS)
    }
  })

  it('without calendar alignment the same history fires around 春节 (the check above can fail)', async () => {
    const svc = service(`${s.dir}/b.json`)
    const rule = await svc.store.addRule({
      name: 'no calendar',
      metric: 'orders',
      grain: 'day',
      condition: { kind: 'anomaly', z: 4.5, years: 2, events: [] },
    })
    const bt = await svc.backtest(rule, { from: '2025-01-01' })
    const fired = bt.nodes[0]?.quarters.flatMap((q) => q.periods) ?? []
    expect(fired.filter(inSpring).length).toBeGreaterThanOrEqual(2)
  })

  it('weekly: the 春节 weeks do not fire', async () => {
    const svc = service(`${s.dir}/c.json`)
    const rule = await svc.store.addRule({
      name: 'weekly',
      metric: 'orders',
      grain: 'week',
      condition: { kind: 'anomaly', z: 4.5, years: 2 },
    })
    const bt = await svc.backtest(rule, { from: '2025-01-01' })
    const node = bt.nodes[0]
    expect(node?.evaluated).toBeGreaterThan(40)
    for (const q of node?.quarters ?? []) expect(q.fired, q.quarter).toBeLessThanOrEqual(1)
  })
})

describe('evaluation', () => {
  it('fires on the last day’s shock and carries the baseline and the decomposition', async () => {
    const svc = service(`${s.dir}/d.json`)
    await svc.store.addRule({
      name: 'revenue anomaly',
      metric: 'net_revenue',
      grain: 'day',
      condition: { kind: 'anomaly', z: 4.5, years: 2, direction: 'down' },
    })
    const fired = await svc.evaluate('manual')
    expect(fired).toHaveLength(1)
    const a = fired[0]
    expect(a?.period).toBe(LAST)
    expect(a?.message).toMatch(/net_revenue is \d+ in 2026-06-30, below the \d+ expected/)
    expect(a?.anomaly?.z).toBeLessThan(-4.5)
    expect(a?.anomaly?.comparators.map((c) => c.period)).toEqual(['2025-07-01', '2024-07-02'])
    // The decomposition: net revenue = buyers × frequency × AOV, the parts adding up to the change; buyers lead.
    const e = a?.explanation as {
      formula: { text: string }
      yoy: { change: number; parts: { metric: string; contribution: number }[] }
    }
    expect(e.formula.text).toBe('buyers × purchase_frequency × aov')
    const sum = e.yoy.parts.reduce((t, p) => t + p.contribution, 0)
    expect(sum).toBeCloseTo(e.yoy.change, 6)
    expect(e.yoy.parts[0]?.metric).toBe('buyers')
    // Once per rule and period.
    expect(await svc.evaluate('manual')).toHaveLength(0)
  })

  it('staggers rules over the cycle by a fixed offset per rule', () => {
    const ids = ['0a1b2c3d', '4e5f6a7b', '8c9d0e1f', '12345678', 'abcdef01', 'deadbeef']
    const offsets = ids.map((id) => ruleOffsetMinutes(id, 60))
    expect(new Set(offsets).size).toBeGreaterThan(1)
    for (const [i, id] of ids.entries()) {
      expect(ruleOffsetMinutes(id, 60)).toBe(offsets[i])
      const due = Array.from({ length: 60 }, (_, m) =>
        isRuleDue(id, new Date(Date.UTC(2026, 0, 1, 5, m)), 60),
      )
      expect(due.filter(Boolean)).toHaveLength(1)
      expect(due.indexOf(true)).toBe(offsets[i])
    }
  })
})

describe('memberlens alerts (anomaly)', () => {
  it('imports rules from YAML, replaces by name, and backtests per node and quarter', async () => {
    const alerts = `${s.dir}/cli-alerts.json`
    const yaml = (z: number) =>
      `rules:\n  - name: daily revenue\n    metric: net_revenue\n    grain: day\n    condition:\n      kind: anomaly\n      z: ${z}\n      years: 2\n`
    const first = await runCli([
      'alerts',
      'import',
      await s.file('rules.yaml', yaml(4.5)),
      '--db',
      dbFile,
      '--alerts',
      alerts,
      '--json',
    ])
    expect(first.code, first.err).toBe(0)
    const id =
      (JSON.parse(first.out) as { rules: { rule: { id: string } }[] }).rules[0]?.rule.id ?? ''
    const again = await runCli([
      'alerts',
      'import',
      await s.file('rules2.yaml', yaml(6)),
      '--db',
      dbFile,
      '--alerts',
      alerts,
    ])
    expect(again.out).toBe(
      `replaced ${id}: daily revenue (net_revenue anomaly |z| ≥ 6 either (2y, spring_festival/double_11/mid_year_618/dragon_boat/mid_autumn))\n`,
    )
    const bad = await runCli([
      'alerts',
      'import',
      await s.file('bad.yaml', yaml(-1)),
      '--db',
      dbFile,
      '--alerts',
      alerts,
    ])
    expect(bad.code).not.toBe(0)
    expect(bad.err).toMatch(/bad\.yaml:7: rules\.0\.condition\.z: Too small/)

    const bt = await runCli([
      'alerts',
      'backtest',
      '--rule',
      id,
      '--tree',
      '--from',
      '2026-04-01',
      '--db',
      dbFile,
      '--alerts',
      alerts,
      '--json',
    ])
    expect(bt.code, bt.err).toBe(0)
    const result = JSON.parse(bt.out) as {
      nodes: { metric: string; quarters: { quarter: string; periods: string[] }[] }[]
    }
    expect(result.nodes.map((n) => n.metric)).toContain('net_revenue')
    const revenue = result.nodes.find((n) => n.metric === 'net_revenue')
    expect(revenue?.quarters.map((q) => q.quarter)).toEqual(['2026-Q2'])
    // The re-imported threshold (6) holds: the deep shock fires, the last day’s (|z| under 6) no longer does.
    expect(revenue?.quarters[0]?.periods).toEqual(['2026-05-12'])
    const zh = await runCli([
      'alerts',
      'backtest',
      '--rule',
      id,
      '--from',
      '2026-04-01',
      '--db',
      dbFile,
      '--alerts',
      alerts,
      '--lang',
      'zh',
    ])
    expect(zh.out).toContain('会触发次数')
    expect(zh.out).toMatch(/net_revenue\s+2026-Q2\s+\d+\s+1\s+2026-05-12/)
  })

  it('adds an anomaly rule from flags and refuses a backtest of a threshold rule', async () => {
    const alerts = `${s.dir}/cli-alerts2.json`
    const add = await runCli([
      'alerts',
      'add',
      '--name',
      'orders',
      '--metric',
      'orders',
      '--anomaly',
      '--z',
      '5',
      '--events',
      'spring_festival',
      '--grain',
      'week',
      '--db',
      dbFile,
      '--alerts',
      alerts,
      '--json',
    ])
    expect(add.code, add.err).toBe(0)
    expect(JSON.parse(add.out)).toMatchObject({
      condition: {
        kind: 'anomaly',
        z: 5,
        years: 3,
        events: ['spring_festival'],
        direction: 'either',
      },
      grain: 'week',
    })
    const t = await runCli([
      'alerts',
      'add',
      '--name',
      't',
      '--metric',
      'orders',
      '--above',
      '5',
      '--db',
      dbFile,
      '--alerts',
      alerts,
      '--json',
    ])
    const tid = (JSON.parse(t.out) as { id: string }).id
    const r = await runCli([
      'alerts',
      'backtest',
      '--rule',
      tid,
      '--db',
      dbFile,
      '--alerts',
      alerts,
    ])
    expect(r.code).not.toBe(0)
    expect(r.err).toContain('only anomaly rules can be backtested')
  })
})

describe('GET /api/v1/alerts/rules/{id}/backtest', () => {
  it('answers the per-quarter counts for an anomaly rule, 400 for another kind', async () => {
    const svc = service(`${s.dir}/api.json`)
    const rule = await svc.store.addRule({
      name: 'api',
      metric: 'orders',
      grain: 'day',
      condition: { kind: 'anomaly', years: 2 },
    })
    const other = await svc.store.addRule({
      name: 'threshold',
      metric: 'orders',
      condition: { kind: 'threshold', op: '>', value: 1 },
    })
    const keys = new KeyStore(`${s.dir}/keys.json`, TEST_CLOCK)
    const viewer = (await keys.create('viewer', 'viewer')).secret
    const app = createApp({
      driver: s.db.driver,
      keys,
      clock: TEST_CLOCK,
      alerts: svc,
      log: () => {},
    })
    const get = (url: string) =>
      app.request(url, { headers: { authorization: `Bearer ${viewer}` } })
    const r = await get(`/api/v1/alerts/rules/${rule.id}/backtest?from=2026-04-01`)
    expect(r.status).toBe(200)
    const body = (await r.json()) as {
      nodes: { metric: string; quarters: { quarter: string; periods: string[] }[] }[]
    }
    expect(body.nodes.map((n) => n.metric)).toEqual(['orders'])
    expect(body.nodes[0]?.quarters.map((q) => q.quarter)).toEqual(['2026-Q2'])
    expect(body.nodes[0]?.quarters[0]?.periods).toEqual(SHOCKS)
    const bad = await get(`/api/v1/alerts/rules/${other.id}/backtest`)
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain(
      'only anomaly rules can be backtested',
    )
  })
})
