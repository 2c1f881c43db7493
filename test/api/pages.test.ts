/**
 * The read endpoints behind the dashboard pages (lifecycle, segments, value, loyalty, voice and experiments),
 * in-process over a small simulated member base: what they answer, which roles may read them, and input
 * they refuse.
 */
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bulkReplayOrderHistory } from '../../src/analytics/loyalty/bulk-replay.js'
import { syncLedgerToDuckDb } from '../../src/analytics/loyalty/sync.js'
import { runClv } from '../../src/analytics/clv/clv.js'
import { createApp } from '../../src/api/app.js'
import { KeyStore, type Role } from '../../src/api/keys.js'
import { runDemoModels } from '../../src/cli/demo-models.js'
import { fixedClock } from '../../src/core/clock.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { saveSegment } from '../../src/engine/segments/segment-store.js'
import { Ledger } from '../../src/ledger/ledger.service.js'
import { loadProgram } from '../../src/ledger/program.js'
import { openLedgerStore } from '../../src/ledger/stores/open-store.js'
import { simulate } from '../../src/simulate/simulate.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'
import { INGEST_TABLES } from '../../src/core/schema.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
const secret: Partial<Record<Role, string>> = {}
let app: ReturnType<typeof createApp>

beforeAll(async () => {
  s = await scratch()
  const sim = await simulate(`${s.dir}/data`, { members: 400, months: 18, seed: 11 })
  for (const t of INGEST_TABLES) {
    const file = (sim.files as Record<string, string | undefined>)[t]
    if (file !== undefined) await ingestFile(s.db.driver, file, { table: t, clock: TEST_CLOCK })
  }
  await saveSegment(
    s.db.driver,
    { name: 'zhejiang', description: 'members in 浙江', filter: { region: ['浙江'] } },
    TEST_CLOCK,
  )
  await saveSegment(
    s.db.driver,
    { name: 'lapsing', filter: { lifecycle: { stages: ['at_risk', 'dormant'] } } },
    TEST_CLOCK,
  )
  const keys = new KeyStore(`${s.dir}/keys.json`, fixedClock('2026-11-01T00:00:00Z'))
  for (const role of ['viewer', 'analyst', 'operator', 'admin'] as const)
    secret[role] = (await keys.create(`${role} test`, role)).secret
  app = createApp({
    driver: s.db.driver,
    keys,
    clock: TEST_CLOCK,
    rate: { perSecond: 1000, burst: 1000 },
    log: () => {},
  })
}, 120_000)
afterAll(async () => {
  await s.cleanup()
})

const get = (path: string, role?: Role) =>
  app.request(path, { headers: role ? { authorization: `Bearer ${secret[role]}` } : {} })
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = async (r: Response) => (await r.json()) as any

describe('lifecycle page endpoints', () => {
  it('stage sizes per period: every stage, sizes summing to the members registered by then', async () => {
    const r = await get('/api/v1/lifecycle/sizes?from=2026-01&to=2026-06&grain=month', 'viewer')
    expect(r.status).toBe(200)
    const b = await body(r)
    expect(b.periods).toHaveLength(6)
    expect(b.stages.map((x: { stage: string }) => x.stage)).toContain('loyal')
    expect(b.stages[0].name.zh).not.toBe('')
    const totals = b.periods.map((p: { sizes: Record<string, number> }) =>
      Object.values(p.sizes).reduce((a, x) => a + x, 0),
    )
    // Members only join: the base never shrinks, and it grows over six months of simulated sign-ups.
    for (let i = 1; i < totals.length; i++) expect(totals[i]).toBeGreaterThanOrEqual(totals[i - 1])
    expect(totals[5]).toBeGreaterThan(totals[0])
    const quarters = await body(
      await get('/api/v1/lifecycle/sizes?from=2026-01&to=2026-06&grain=quarter', 'viewer'),
    )
    expect(quarters.periods).toHaveLength(2)
  })

  it('flows between two dates: the to-side totals equal the stage sizes at the later date', async () => {
    const f = await body(
      await get('/api/v1/lifecycle/flows?from=2026-03-01&to=2026-06-01', 'analyst'),
    )
    expect(f.from).toBe('2026-03-01')
    expect(f.flows.length).toBeGreaterThan(3)
    const sizes = await body(await get('/api/v1/lifecycle/sizes?from=2026-05&to=2026-05', 'viewer'))
    const at = sizes.periods[0]
    expect(at.asOf).toBe('2026-06-01')
    const into: Record<string, number> = {}
    for (const x of f.flows) into[x.to] = (into[x.to] ?? 0) + x.members
    for (const [stage, n] of Object.entries(at.sizes as Record<string, number>))
      expect(into[stage] ?? 0).toBe(n)
    // Without dates: the three months up to the day after the last activity.
    const d = await body(await get('/api/v1/lifecycle/flows', 'viewer'))
    expect(d.to > d.from).toBe(true)
  })

  it('refuses reversed ranges, too many periods and malformed dates', async () => {
    expect(
      (await get('/api/v1/lifecycle/flows?from=2026-06-01&to=2026-03-01', 'viewer')).status,
    ).toBe(400)
    expect((await get('/api/v1/lifecycle/sizes?from=2016-01&to=2026-06', 'viewer')).status).toBe(
      400,
    )
    expect(
      (await get("/api/v1/lifecycle/sizes?from=2026-01';--&to=2026-06", 'viewer')).status,
    ).toBe(400)
    expect((await get('/api/v1/lifecycle/sizes?from=2026-01&to=2026-06')).status).toBe(401)
  })
})

describe('segments page endpoints', () => {
  it('RFM grid: cells add up to the named segments, and a different date changes them', async () => {
    const r = await get('/api/v1/rfm/grid?asOf=2026-06-01', 'viewer')
    expect(r.status).toBe(200)
    const g = await body(r)
    expect(g.asOf).toBe('2026-06-01')
    for (const c of g.cells) {
      expect(c.r).toBeGreaterThanOrEqual(1)
      expect(c.fm).toBeLessThanOrEqual(5)
    }
    const bySegment: Record<string, number> = {}
    for (const c of g.cells) bySegment[c.segment] = (bySegment[c.segment] ?? 0) + c.members
    for (const x of g.segments) expect(bySegment[x.segment] ?? 0).toBe(x.members)
    expect(g.segments.find((x: { segment: string }) => x.segment === 'champions').name.zh).toBe(
      '重要价值客户',
    )
    const earlier = await body(await get('/api/v1/rfm/grid?asOf=2025-12-01', 'viewer'))
    const total = (x: { cells: { members: number }[] }) =>
      x.cells.reduce((a, c) => a + c.members, 0)
    expect(total(earlier)).toBeLessThan(total(g))
  })

  it('saved segments with size and value; sizes follow the date', async () => {
    const r = await body(await get('/api/v1/segment-sizes?asOf=2026-06-01', 'viewer'))
    expect(r.revenueFrom).toBe('2025-06-01')
    const names = r.segments.map((x: { name: string }) => x.name)
    expect(names).toEqual(['lapsing', 'zhejiang'])
    const zj = r.segments.find((x: { name: string }) => x.name === 'zhejiang')
    expect(zj.description).toBe('members in 浙江')
    expect(zj.members).toBeGreaterThan(0)
    expect(zj.buyers).toBeLessThanOrEqual(zj.members)
    expect(zj.revenuePerMember).toBeCloseTo(zj.revenue / zj.members, 6)
    const lapsing = r.segments.find((x: { name: string }) => x.name === 'lapsing')
    const later = await body(await get('/api/v1/segment-sizes?asOf=2026-10-01', 'viewer'))
    const lapsingLater = later.segments.find((x: { name: string }) => x.name === 'lapsing')
    expect(lapsingLater.members).not.toBe(lapsing.members)
  })

  it('previews a definition: the same size and value as once saved, for any role that reads aggregates', async () => {
    const post = (filter: unknown, role?: Role) =>
      app.request('/api/v1/segment-sizes/preview?asOf=2026-06-01', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(role ? { authorization: `Bearer ${secret[role]}` } : {}),
        },
        body: JSON.stringify({ filter }),
      })
    const saved = await body(await get('/api/v1/segment-sizes?asOf=2026-06-01', 'viewer'))
    const zj = saved.segments.find((x: { name: string }) => x.name === 'zhejiang')
    const p = await body(await post({ region: ['浙江'] }, 'viewer'))
    expect([p.members, p.buyers, p.revenue]).toEqual([zj.members, zj.buyers, zj.revenue])
    expect(p.revenueFrom).toBe('2025-06-01')
    // Narrower by a second condition (AND), wider by a second value (OR).
    const narrower = await body(
      await post({ region: ['浙江'], lifecycle: { stages: ['at_risk', 'dormant'] } }, 'analyst'),
    )
    expect(narrower.members).toBeLessThan(p.members)
    const wider = await body(await post({ region: ['浙江', '上海'] }, 'analyst'))
    expect(wider.members).toBeGreaterThan(p.members)
    // Values are data: an SQL-looking region matches nobody.
    expect((await body(await post({ region: ["浙江' OR '1'='1"] }, 'viewer'))).members).toBe(0)
    expect((await post({ region: ['浙江'] })).status).toBe(401)
    expect((await post({ nope: ['x'] }, 'viewer')).status).toBe(400)
    expect((await post({ lifecycle: { stages: ['sleeping'] } }, 'viewer')).status).toBe(400)
  })

  it('refuses missing keys and malformed dates', async () => {
    expect((await get('/api/v1/rfm/grid')).status).toBe(401)
    expect((await get('/api/v1/segment-sizes')).status).toBe(401)
    expect((await get("/api/v1/rfm/grid?asOf=2026-06-01' OR 1=1", 'viewer')).status).toBe(400)
    expect((await get('/api/v1/segment-sizes?asOf=June', 'analyst')).status).toBe(400)
  })
})

describe('retention endpoints: LTV curves, survival, funnels', () => {
  it('LTV curves: cumulative revenue per member, a curve per cohort and per dimension value', async () => {
    const r = await body(await get('/api/v1/cohorts/ltv?periods=6&asOf=2026-06-01', 'viewer'))
    expect(r.asOf).toBe('2026-06-01')
    expect(r.curves.length).toBeGreaterThan(3)
    for (const curve of r.curves) {
      let sum = 0
      for (const p of curve.points) {
        sum += p.revenue
        if (p.ltv !== null) expect(p.ltv).toBeCloseTo(sum / curve.size, 6)
      }
    }
    const by = await body(
      await get('/api/v1/cohorts/ltv?periods=3&by=registration_channel', 'analyst'),
    )
    expect(new Set(by.curves.map((x: { dimension: string }) => x.dimension)).size).toBeGreaterThan(
      1,
    )
  })

  it('survival: a non-increasing curve within [0, 1], one per group, and a shorter churn rule churns more', async () => {
    const r = await body(await get('/api/v1/survival', 'viewer'))
    const g = r.groups[0]
    expect(r.groups).toHaveLength(1)
    expect(g.members).toBeGreaterThan(0)
    const s = g.curve.map((x: { survival: number }) => x.survival)
    s.forEach((v: number, i: number) => {
      expect(v).toBeGreaterThanOrEqual(0)
      expect(v).toBeLessThanOrEqual(1)
      if (i > 0) expect(v).toBeLessThanOrEqual(s[i - 1])
    })
    const shorter = await body(await get('/api/v1/survival?churnDays=90', 'viewer'))
    expect(shorter.churnDays).toBe(90)
    expect(shorter.groups[0].churned).toBeGreaterThan(g.churned)
    const by = await body(await get('/api/v1/survival?by=registration_channel', 'viewer'))
    expect(by.groups.length).toBeGreaterThan(1)
    expect((await get('/api/v1/survival?origin=birth', 'viewer')).status).toBe(400)
  })

  it('funnels: members per ordered step, never more at a later step; bad specs refused', async () => {
    const post = (spec: unknown, role?: Role) =>
      app.request('/api/v1/funnels', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(role ? { authorization: `Bearer ${secret[role]}` } : {}),
        },
        body: JSON.stringify(spec),
      })
    const spec = {
      steps: [{ eventType: 'session_start' }, { eventType: 'page_view' }],
      windowDays: 1,
      from: '2026-01-01',
      to: '2026-07-01',
    }
    const r = await body(await post(spec, 'viewer'))
    const steps = r.results[0].steps
    expect(steps[0].members).toBeGreaterThan(0)
    expect(steps[1].members).toBeLessThanOrEqual(steps[0].members)
    expect(steps[1].dropOff).toBe(steps[0].members - steps[1].members)
    expect((await post(spec)).status).toBe(401)
    expect((await post({ ...spec, steps: [spec.steps[0]] }, 'viewer')).status).toBe(400)
    expect((await post({ ...spec, windowDays: 'x' }, 'viewer')).status).toBe(400)
  })
})

describe('voice and experiments page endpoints', () => {
  it('NPS, CSAT, complaint and return rates per month; a split by region gives one total per region', async () => {
    const r = await get('/api/v1/voice?from=2025-11-01&to=2026-05-01&grain=month', 'viewer')
    expect(r.status).toBe(200)
    const v = await body(r)
    expect(v.range).toEqual({ from: '2025-11-01', to: '2026-05-01' })
    expect(v.service).toHaveLength(6)
    const answers = v.satisfaction.reduce((a: number, x: { nps: { n: number } }) => a + x.nps.n, 0)
    expect(answers).toBeGreaterThan(0)
    expect(v.total).toHaveLength(1)
    expect(v.total[0].nps.n).toBe(answers)
    for (const x of v.satisfaction) {
      if (x.nps.n > 0) expect(Math.abs(x.nps.nps)).toBeLessThanOrEqual(100)
    }
    const split = await body(
      await get('/api/v1/voice?from=2025-11-01&to=2026-05-01&by=region', 'viewer'),
    )
    expect(split.by).toBe('region')
    expect(split.total.length).toBeGreaterThan(1)
    const sum = split.total.reduce((a: number, x: { nps: { n: number } }) => a + x.nps.n, 0)
    expect(sum).toBe(answers)
    // Without dates: the year up to the end of the data.
    const d = await body(await get('/api/v1/voice', 'viewer'))
    expect(d.range.to.slice(5)).toBe(d.range.from.slice(5))
  })

  it('experiments: the list and one report with the goal per arm and a verdict', async () => {
    const l = await body(await get('/api/v1/experiments', 'viewer'))
    expect(l.metrics).toContain('conversion')
    expect(l.experiments.length).toBeGreaterThan(0)
    const e = l.experiments[0]
    const r = await get(
      `/api/v1/experiments/${encodeURIComponent(e.experimentId)}?metric=orders`,
      'viewer',
    )
    expect(r.status).toBe(200)
    const rep = await body(r)
    expect(rep.goal.metric).toBe('orders')
    expect(rep.goal.arms.map((a: { arm: string }) => a.arm).sort()).toEqual(
      e.variants.map((v: { variant: string }) => v.variant).sort(),
    )
    expect(rep.verdict).not.toBe('')
    expect(rep.guardrails.length).toBeGreaterThan(0)
  })

  it('refuses unknown experiments, unknown metrics, bad ranges and missing keys', async () => {
    expect((await get('/api/v1/experiments/no-such-test', 'viewer')).status).toBe(404)
    const l = await body(await get('/api/v1/experiments', 'viewer'))
    const id = encodeURIComponent(l.experiments[0].experimentId)
    expect((await get(`/api/v1/experiments/${id}?metric=drop%20table`, 'viewer')).status).toBe(400)
    expect((await get('/api/v1/voice?from=2026-05-01&to=2025-11-01', 'viewer')).status).toBe(400)
    expect((await get("/api/v1/voice?by=region';--", 'viewer')).status).toBe(400)
    expect((await get('/api/v1/voice')).status).toBe(401)
    expect((await get('/api/v1/experiments')).status).toBe(401)
  })
})

describe('value page endpoints', () => {
  it('answers null before the first CLV run, then the run’s distribution, histogram and P(alive) grid', async () => {
    const before = await get('/api/v1/value', 'viewer')
    expect(before.status).toBe(200)
    expect((await body(before)).value).toBeNull()
    const run = await runClv(s.db.driver, {}, TEST_CLOCK)
    const v = (await body(await get('/api/v1/value', 'viewer'))).value
    expect(v.runId).toBe(run.runId)
    expect(v.distribution.members).toBe(run.distribution.members)
    const inBins = v.histogram.bins.reduce((a: number, b: { members: number }) => a + b.members, 0)
    expect(inBins).toBe(run.distribution.members)
    const inCells = v.pAlive.cells.reduce((a: number, c: { members: number }) => a + c.members, 0)
    expect(inCells).toBe(run.distribution.members)
    for (const c of v.pAlive.cells) {
      expect(c.pAlive).toBeGreaterThanOrEqual(0)
      expect(c.pAlive).toBeLessThanOrEqual(1)
    }
    // Members who bought once and long ago are less likely alive than frequent recent buyers.
    const cell = (f: number, r: number) =>
      v.pAlive.cells.find(
        (c: { frequency: number; recency: number }) => c.frequency === f && c.recency === r,
      )
    const recentFrequent = v.pAlive.cells
      .filter((c: { frequency: number; recency: number }) => c.frequency >= 3 && c.recency === 0)
      .map((c: { pAlive: number }) => c.pAlive)
    expect(Math.min(...recentFrequent)).toBeGreaterThan(0.5)
    expect(cell(0, 0)?.pAlive ?? 1).toBe(1)
    expect((await get('/api/v1/value?runId=clv-20000101T000000Z', 'viewer')).status).toBe(404)
  })

  it('validation: predicted against actual holdout purchases; the holdout end changes the result', async () => {
    const a = await body(
      await get(
        '/api/v1/value/validation?calibrationEnd=2026-04-30&holdoutEnd=2026-09-30',
        'viewer',
      ),
    )
    expect(a.error).toBeUndefined()
    expect(a.members).toBeGreaterThan(50)
    expect(a.byFrequency.reduce((x: number, b: { members: number }) => x + b.members, 0)).toBe(
      a.members,
    )
    expect(a.totals.predicted).toBeGreaterThan(a.totals.actual / 3)
    expect(a.totals.predicted).toBeLessThan(a.totals.actual * 3)
    expect(a.tracking.actual.length).toBe(a.tracking.predicted.length)
    const b = await body(
      await get(
        '/api/v1/value/validation?calibrationEnd=2026-04-30&holdoutEnd=2026-07-31',
        'viewer',
      ),
    )
    // The same fit over a shorter holdout: the same members, fewer purchases actual and predicted.
    expect(b.members).toBe(a.members)
    expect(b.totals.actual).toBeLessThan(a.totals.actual)
    expect(b.totals.predicted).toBeLessThan(a.totals.predicted)
    expect(
      (
        await get(
          '/api/v1/value/validation?calibrationEnd=2026-09-30&holdoutEnd=2026-03-31',
          'viewer',
        )
      ).status,
    ).toBe(400)
    expect((await get('/api/v1/value/validation')).status).toBe(401)
    expect((await get('/api/v1/value/validation?model=gamma', 'viewer')).status).toBe(400)
  })

  it('validation answers for every purchase model the Value page offers', async () => {
    for (const model of ['mbg-nbd', 'bg-cnbd-k'] as const) {
      const r = await body(
        await get(
          `/api/v1/value/validation?calibrationEnd=2026-04-30&holdoutEnd=2026-09-30&model=${model}`,
          'viewer',
        ),
      )
      expect(r.error, model).toBeUndefined()
      expect(r.model).toBe(model)
      expect(r.totals.predicted, model).toBeGreaterThan(r.totals.actual / 3)
      expect(r.totals.predicted, model).toBeLessThan(r.totals.actual * 3)
    }
  })
})

describe('risk page endpoints', () => {
  it('answers null before the first scoring, then members and CLV at risk per churn class', async () => {
    expect((await body(await get('/api/v1/risk-mix', 'viewer'))).risk).toBeNull()
    const models = await runDemoModels(s.db.driver, TEST_CLOCK)
    expect('skipped' in models.risk).toBe(false)
    const m = (await body(await get('/api/v1/risk-mix?threshold=0.5', 'viewer'))).risk
    expect(m.members).toBeGreaterThan(100)
    expect(m.scoreBins.reduce((a: number, x: number) => a + x, 0)).toBe(m.members)
    const atRisk = m.scoreBins.slice(5).reduce((a: number, x: number) => a + x, 0)
    expect(m.atRisk).toBe(atRisk)
    expect(m.classes.reduce((a: number, c: { atRisk: number }) => a + c.atRisk, 0)).toBe(m.atRisk)
    expect(m.clvRunId).not.toBeNull()
    expect(m.clvAtRisk).toBeGreaterThan(0)
    for (const c of m.classes) expect(c.playbook).not.toBe('')
    const reasonCount = m.reasons.reduce((a: number, r: { members: number }) => a + r.members, 0)
    expect(reasonCount).toBeGreaterThanOrEqual(m.atRisk)
    const strict = (await body(await get('/api/v1/risk-mix?threshold=0.9', 'viewer'))).risk
    expect(strict.atRisk).toBeLessThan(m.atRisk)
    expect(strict.members).toBe(m.members)
  })

  it('exports a churn class as CSV: analysts without phone and email, operators with them, viewers refused', async () => {
    const m = (await body(await get('/api/v1/risk-mix?threshold=0', 'viewer'))).risk
    const cls = m.classes[0].churnClass
    const path = `/api/v1/risk-export?churnClass=${cls}`
    expect((await get(path, 'viewer')).status).toBe(403)
    const analyst = await get(path, 'analyst')
    expect(analyst.status).toBe(200)
    expect(analyst.headers.get('content-type')).toContain('text/csv')
    const lines = (await analyst.text()).trim().split('\r\n')
    expect(lines[0]).toBe(
      'member_id,score,churn_class,playbook,reasons,phone,email,wechat_unionid,app_user_id,card_no,pos_customer_id,customer_id,consent_sms,consent_email,consent_wechat,consent_push',
    )
    expect(lines.length - 1).toBe(m.classes[0].members)
    // No phone number (11 digits starting with 1, perhaps after +86) and no email address for the analyst.
    expect(lines.slice(1).some((l) => /,(\+?86)?1\d{10},|@/.test(l))).toBe(false)
    const operator = await (await get(path, 'operator')).text()
    expect(operator).toMatch(/,\+861\d{10},/)
    expect(operator).toContain('@')
    expect((await get('/api/v1/risk-export?churnClass=vip%27--', 'admin')).status).toBe(400)
    expect((await get(path)).status).toBe(401)
  })
})

describe('loyalty page endpoint', () => {
  it('answers null before the first sync, then points per month, liability, tiers and movements', async () => {
    expect((await body(await get('/api/v1/loyalty-program', 'viewer'))).program).toBeNull()
    const program = await loadProgram(
      resolve(import.meta.dirname, '../../examples/loyalty-program.yaml'),
    )
    const store = await openLedgerStore('memory://')
    try {
      const db = { path: '', driver: s.db.driver, close: async () => {} }
      await bulkReplayOrderHistory(db, new Ledger(store, program, { clock: TEST_CLOCK }))
      await syncLedgerToDuckDb(db, store, program)
    } finally {
      await store.close()
    }
    const p = (await body(await get('/api/v1/loyalty-program?from=2026-01&to=2026-06', 'viewer')))
      .program
    expect(p.months.map((m: { month: string }) => m.month)).toEqual([
      '2026-01',
      '2026-02',
      '2026-03',
      '2026-04',
      '2026-05',
      '2026-06',
    ])
    const sum = (k: string) =>
      p.months.reduce((a: number, m: Record<string, number>) => a + (m[k] ?? 0), 0)
    expect(sum('issued')).toBeGreaterThan(0)
    expect(p.total.issued).toBe(sum('issued'))
    expect(p.total.redeemed).toBe(sum('redeemed'))
    expect(p.total.expired).toBe(sum('expired'))
    expect(p.total.upgrades).toBe(sum('upgrades'))
    expect(p.total.liabilityPoints).toBeGreaterThan(0)
    const tiers = p.total.tierDistribution.reduce(
      (a: number, x: { members: number }) => a + x.members,
      0,
    )
    expect(tiers).toBe(p.total.members)
    const moved = p.movements
      .filter((m: { kind: string }) => m.kind === 'upgrade')
      .reduce((a: number, m: { members: number }) => a + m.members, 0)
    expect(moved).toBe(p.total.upgrades)
    // The program file's tier names, in en and zh, as synced.
    expect(p.tierNames).toEqual({
      member: { en: 'Member', zh: '普通会员' },
      silver: { en: 'Silver', zh: '银卡会员' },
      gold: { en: 'Gold', zh: '金卡会员' },
      platinum: { en: 'Platinum', zh: '白金会员' },
    })
    const shorter = (
      await body(await get('/api/v1/loyalty-program?from=2026-01&to=2026-03', 'viewer'))
    ).program
    expect(shorter.total.issued).toBeLessThan(p.total.issued)
    expect((await get('/api/v1/loyalty-program?from=2026-06&to=2026-01', 'viewer')).status).toBe(
      400,
    )
    expect((await get('/api/v1/loyalty-program?from=2020-01&to=2026-01', 'viewer')).status).toBe(
      400,
    )
    expect((await get("/api/v1/loyalty-program?from=2026-01'", 'viewer')).status).toBe(400)
    expect((await get('/api/v1/loyalty-program')).status).toBe(401)
  })
})

describe('OpenAPI document', () => {
  it('describes every dashboard page endpoint', async () => {
    const doc = await body(await app.request('/openapi.json'))
    for (const path of [
      '/api/v1/lifecycle/sizes',
      '/api/v1/lifecycle/flows',
      '/api/v1/rfm/grid',
      '/api/v1/segment-sizes',
      '/api/v1/segment-sizes/preview',
      '/api/v1/cohorts/ltv',
      '/api/v1/survival',
      '/api/v1/funnels',
      '/api/v1/value',
      '/api/v1/value/validation',
      '/api/v1/risk-mix',
      '/api/v1/risk-export',
      '/api/v1/loyalty-program',
      '/api/v1/voice',
      '/api/v1/experiments',
      '/api/v1/experiments/{id}',
    ])
      expect(Object.keys(doc.paths), path).toContain(path)
    expect(Object.keys(doc.paths['/api/v1/risk-export'].get.responses['200'].content)).toContain(
      'text/csv',
    )
  })
})
