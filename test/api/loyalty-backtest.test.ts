/**
 * `POST /api/v1/loyalty/backtest`: the role check before the body is read, a proposed program refused with the
 * body field of each problem, the backtests and their difference, and 503 without a program.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { createApp } from '../../src/api/app.js'
import type { components } from '../../web/src/generated/api.js'
import { KeyStore, type Role } from '../../src/api/keys.js'
import { fixedClock } from '../../src/core/clock.js'
import { Ledger } from '../../src/ledger/ledger.service.js'
import { ensureLedgerSchema } from '../../src/ledger/ledger.table.js'
import { openPgliteStore } from '../../src/ledger/stores/pglite-store.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import { testProgram } from '../ledger/fixtures.js'
import { scratch } from '../helpers/db.js'

type Answer = components['schemas']['LoyaltyBacktest']
const clock = fixedClock('2026-11-01T00:00:00Z')
const current = testProgram({
  earn: { spend: { points_per_unit: 1, unit: 1 }, campaigns: [], caps: {} },
  tiers: { basis: 'spend', levels: [{ id: 'member', name: 'Member', threshold: 0 }] },
})

describe('POST /api/v1/loyalty/backtest', () => {
  let s: Awaited<ReturnType<typeof scratch>>
  let store: LedgerStore
  let app: ReturnType<typeof createApp>
  let bare: ReturnType<typeof createApp>
  const secret: Partial<Record<Role, string>> = {}

  beforeAll(async () => {
    s = await scratch()
    const run = (q: string) => s.db.driver.execute({ sql: q, parameters: [] })
    await run(`INSERT INTO members (member_id, registered_at) VALUES (1, TIMESTAMP '2025-01-01')`)
    await run(`INSERT INTO orders (order_id, member_id, ordered_at, channel, net_amount, status) VALUES
      ('O1', 1, TIMESTAMP '2025-01-10 10:00:00', 'store', 100, 'paid'),
      ('O2', 1, TIMESTAMP '2025-02-10 10:00:00', 'store', 30, 'paid')`)
    const keys = new KeyStore(`${s.dir}/keys.json`, clock)
    for (const role of ['viewer', 'admin'] as const)
      secret[role] = (await keys.create(`${role} test`, role)).secret
    store = await openPgliteStore('memory://')
    await ensureLedgerSchema(store)
    const common = {
      driver: s.db.driver,
      keys,
      clock,
      rate: { perSecond: 1000, burst: 1000 },
      log: () => {},
    }
    app = createApp({ ...common, ledger: new Ledger(store, current, { clock }) })
    bare = createApp(common)
  })
  afterAll(async () => {
    await store?.close()
    await s?.cleanup()
  })

  const post = (a: ReturnType<typeof createApp>, body: unknown, role: Role | null = 'viewer') =>
    a.request('/api/v1/loyalty/backtest', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(role === null ? {} : { authorization: `Bearer ${secret[role]}` }),
      },
      body: JSON.stringify(body),
    })

  it('answers the current program alone, with its parameters', async () => {
    const r = await post(app, {})
    expect(r.status).toBe(200)
    const j = (await r.json()) as Answer
    expect(j.current.total).toMatchObject({ issued: 130, liabilityPoints: 130 })
    expect(j.proposed).toBeNull()
    expect(j.diff).toBeNull()
    expect(j.parameters).toMatchObject({
      pointsPerUnit: '1',
      expiryPolicy: 'end_of_month',
      expiryMonths: 12,
    })
    expect(j.program['program']).toBe('test')
  })

  it('answers the diff of a proposed program given as an object or as YAML', async () => {
    const proposed = {
      ...current,
      earn: { ...current.earn, spend: { ...current.earn.spend, points_per_unit: '3' } },
    }
    for (const body of [{ program: proposed }, { program: stringify(proposed) }]) {
      const r = await post(app, { ...body, from: '2025-02', to: '2025-02' })
      expect(r.status).toBe(200)
      const j = (await r.json()) as Answer
      expect(j.diff?.months).toHaveLength(1)
      expect(j.diff?.total.issued).toMatchObject({ current: 30, proposed: 90, change: 60 })
      expect(j.diff?.total.liabilityPoints).toMatchObject({ current: 130, proposed: 390 })
      expect(j.proposedParameters?.pointsPerUnit).toBe('3')
    }
  })

  it('answers the day each budget of the proposed program was reached and the points beyond it', async () => {
    const proposed = {
      ...current,
      earn: { ...current.earn, caps: { per_year: 120 } },
      budgets: [
        { id: 'monthly', scope: 'global', max_points_per_month: 50 },
        { id: 'owed', scope: 'global', max_liability: 110 },
        { id: 'bad', scope: 'channel', match: ['store'], max_liability: 5 },
      ],
    }
    const refused = await post(app, { program: proposed })
    expect(refused.status).toBe(400)
    expect(JSON.stringify(await refused.json())).toContain('program.budgets.2.max_liability')
    const r = await post(app, { program: { ...proposed, budgets: proposed.budgets.slice(0, 2) } })
    expect(r.status).toBe(200)
    const j = (await r.json()) as Answer
    expect(j.proposedParameters?.perYearCap).toBe(120)
    // The year's cap leaves 20 of February's 30 points: 120 issued, 120 outstanding.
    expect(j.proposed?.total.issued).toBe(120)
    expect(j.current.budgets).toEqual([])
    expect(j.proposed?.budgets.map((b) => [b.id, b.firstHit, b.pointsBeyond])).toEqual([
      ['monthly', '2025-01-10', 50],
      ['owed', '2025-02-10', 10],
    ])
  })

  it('names the body field of each problem of the proposed program', async () => {
    const bad = {
      ...current,
      earn: { ...current.earn, caps: { per_day: -5 } },
      expiry: { policy: 'weekly' },
    }
    const r = await post(app, { program: bad })
    expect(r.status).toBe(400)
    const j = (await r.json()) as {
      error: { code: string; message: string; details: { issues: { field: string }[] } }
    }
    expect(j.error.code).toBe('INPUT_INVALID')
    const fields = j.error.details.issues.map((i) => i.field)
    expect(fields).toContain('program.earn.caps.per_day')
    expect(fields).toContain('program.expiry.policy')
    expect(j.error.message).toContain('program.earn.caps.per_day')
    const yaml = await post(app, { program: 'earn: [unclosed' })
    expect(yaml.status).toBe(400)
    const month = await post(app, { from: '2025-13' })
    expect(month.status).toBe(400)
    expect(JSON.stringify(await month.json())).toContain('from')
  })

  it('checks the key before the body', async () => {
    expect((await post(app, { program: 'not a program' }, null)).status).toBe(401)
  })

  it('answers 503 without a loyalty program', async () => {
    const r = await post(bare, {})
    expect(r.status).toBe(503)
  })
})
