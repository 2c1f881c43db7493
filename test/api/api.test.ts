/** The HTTP API in-process (`app.request`): every route, every role, bad input, SQL-ish strings, keys. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, maskIdentity } from '../../src/api/app.js'
import { KeyStore, type Role } from '../../src/api/keys.js'
import { fixedClock } from '../../src/core/clock.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let keys: KeyStore
const secret: Partial<Record<Role, string>> = {}
let app: ReturnType<typeof createApp>
let now = Date.parse('2026-11-01T00:00:00Z')
const clock = { now: () => new Date(now) }

beforeAll(async () => {
  s = await scratch()
  await s.ingest(
    'members',
    await s.file(
      'm.csv',
      'phone,email,registered_at,region\n13800138000,ann@example.com,2024-01-01,浙江\n13900000000,bob@example.com,2024-01-02,江苏\n',
    ),
  )
  await s.ingest(
    'orders',
    await s.file(
      'o.csv',
      'order_id,phone,ordered_at,channel,net_amount\nO1,13800138000,2024-01-05,app,100\nO2,13900000000,2024-01-06,store,50\nO3,13800138000,2024-02-01,app,30\n',
    ),
  )
  keys = new KeyStore(`${s.dir}/keys.json`, fixedClock('2026-11-01T00:00:00Z'))
  for (const role of ['viewer', 'analyst', 'operator', 'admin'] as const)
    secret[role] = (await keys.create(`${role} test`, role)).secret
  app = createApp({
    driver: s.db.driver,
    keys,
    clock,
    rate: { perSecond: 1000, burst: 1000 },
    log: () => {},
  })
})
afterAll(async () => {
  await s.cleanup()
})

const get = (path: string, role?: Role, headers: Record<string, string> = {}) =>
  app.request(path, {
    headers: { ...(role ? { authorization: `Bearer ${secret[role]}` } : {}), ...headers },
  })
const body = async (r: Response) =>
  (await r.json()) as Record<string, unknown> & { error?: { code: string; message: string } }

describe('HTTP API', () => {
  it('refuses requests without a valid key, with a JSON error', async () => {
    const none = await get('/api/v1/metrics')
    expect(none.status).toBe(401)
    expect((await body(none)).error?.code).toBe('UNAUTHORIZED')
    const wrong = await get('/api/v1/metrics', undefined, { authorization: 'Bearer ml_nope' })
    expect(wrong.status).toBe(401)
  })

  it('tells every role the currency of money figures and the dashboard’s language: CNY and en by default, the configured ones otherwise', async () => {
    for (const role of ['viewer', 'analyst', 'operator', 'admin'] as const) {
      const r = await get('/api/v1/settings', role)
      expect(r.status).toBe(200)
      expect(await body(r)).toEqual({ currency: 'CNY', lang: 'en' })
    }
    expect((await get('/api/v1/settings')).status).toBe(401)
    const usd = createApp({
      driver: s.db.driver,
      keys,
      clock,
      currency: 'USD',
      lang: 'zh',
      log: () => {},
    })
    const r = await usd.request('/api/v1/settings', {
      headers: { authorization: `Bearer ${secret.viewer}` },
    })
    expect(await body(r)).toEqual({ currency: 'USD', lang: 'zh' })
  })

  it('lists the values a dimension takes in the data, with members and the provinces’ English names', async () => {
    const region = await get('/api/v1/dimensions/region/values', 'viewer')
    expect(region.status).toBe(200)
    expect(await body(region)).toEqual({
      dimension: 'region',
      kind: 'member',
      values: [
        { value: '江苏', members: 1, label: { en: 'Jiangsu', zh: '江苏' } },
        { value: '浙江', members: 1, label: { en: 'Zhejiang', zh: '浙江' } },
      ],
    })
    const channels = (await body(await get('/api/v1/dimensions/order_channel/values', 'viewer')))[
      'values'
    ]
    expect(channels).toEqual([
      { value: 'app', members: 1 },
      { value: 'store', members: 1 },
    ])
    // Members without a value (no registration channel in the file) offer nothing to choose.
    const none = await body(await get('/api/v1/dimensions/registration_channel/values', 'viewer'))
    expect(none['values']).toEqual([])
    // The tier before the ledger is synced: no values, and the command that fills them.
    const tier = await body(await get('/api/v1/dimensions/tier/values', 'viewer'))
    expect(tier['values']).toEqual([])
    expect(String(tier['note'])).toContain('loyalty sync')
    // A snapshot dimension is taken at the day after the data's last activity.
    const stage = await body(await get('/api/v1/dimensions/lifecycle_stage/values', 'viewer'))
    expect(stage['asOf']).toBe('2024-02-02')
    expect((stage['values'] as { members: number }[]).reduce((a, v) => a + v.members, 0)).toBe(2)
  })

  it('refuses an unknown dimension naming the path parameter and the nearest dimension; needs a key', async () => {
    const r = await get('/api/v1/dimensions/regoin/values', 'viewer')
    expect(r.status).toBe(400)
    const e = (await r.json()) as {
      error: { message: string; details: { issues: { field: string; reason: string }[] } }
    }
    expect(e.error.details.issues[0]?.field).toBe('name')
    expect(e.error.message).toContain('did you mean region?')
    expect(
      (await get(`/api/v1/dimensions/${encodeURIComponent("region' OR 1=1")}/values`, 'viewer'))
        .status,
    ).toBe(400)
    expect((await get('/api/v1/dimensions/region/values')).status).toBe(401)
  })

  it('serves the catalog and metric queries to every role', async () => {
    for (const role of ['viewer', 'analyst', 'operator', 'admin'] as const) {
      expect((await get('/api/v1/metrics', role)).status).toBe(200)
    }
    const r = await get(
      '/api/v1/metrics/query?metrics=orders,net_revenue&from=2024-01&to=2024-02&by=region',
      'viewer',
    )
    expect(r.status).toBe(200)
    const j = (await r.json()) as {
      rows: Array<{ label: string; dims: Record<string, string>; values: Record<string, number> }>
    }
    expect(
      j.rows.map((x) => [x.label, x.dims['region'], x.values['orders'], x.values['net_revenue']]),
    ).toEqual([
      ['2024-01', '江苏', 1, 50],
      ['2024-01', '浙江', 1, 100],
      ['2024-02', '江苏', 0, 0],
      ['2024-02', '浙江', 1, 30],
    ])
  })

  it('treats SQL-ish strings in every filter field as data', async () => {
    const attacks = ["1'; DROP TABLE orders; --", "region=x' OR 1=1 --", "attribute:x') --"]
    for (const a of attacks) {
      const r1 = await get(
        `/api/v1/metrics/query?metrics=orders&from=2024-01&to=2024-01&where=${encodeURIComponent(`region=${a}`)}`,
        'viewer',
      )
      expect(r1.status).toBe(200)
      expect(
        ((await r1.json()) as { rows: Array<{ values: Record<string, number> }> }).rows[0]?.values[
          'orders'
        ],
      ).toBe(0)
      const r2 = await get(
        `/api/v1/metrics/query?metrics=${encodeURIComponent(a)}&from=2024-01&to=2024-01`,
        'viewer',
      )
      expect(r2.status).toBe(400)
      const r3 = await get(`/api/v1/members/${encodeURIComponent(a)}`, 'admin')
      expect(r3.status).toBe(404)
    }
    const still = await get(
      '/api/v1/metrics/query?metrics=orders&from=2024-01&to=2024-02',
      'viewer',
    )
    expect(
      ((await still.json()) as { rows: Array<{ values: Record<string, number> }> }).rows.map(
        (x) => x.values['orders'],
      ),
    ).toEqual([2, 1])
  })

  it('validates parameters with a 400 naming the field', async () => {
    const r = await get('/api/v1/metrics/query?metrics=orders&from=yesterday&to=2024-01', 'viewer')
    expect(r.status).toBe(400)
    const j = await body(r)
    expect(j.error?.code).toBe('INPUT_INVALID')
    expect(JSON.stringify(j.error)).toContain('from')
    expect(
      (
        await get(
          '/api/v1/metrics/query?metrics=orders&from=2024-01&to=2024-01&grain=fortnight',
          'viewer',
        )
      ).status,
    ).toBe(400)
    expect(
      (
        await get(
          '/api/v1/metrics/query?metrics=nps&from=2024-01&to=2024-01&by=order_channel',
          'viewer',
        )
      ).status,
    ).toBe(400)
  })

  it('members: refused to viewers, masked for analysts, clear for operators', async () => {
    expect((await get('/api/v1/members/phone:13800138000', 'viewer')).status).toBe(403)
    const analyst = (await (await get('/api/v1/members/phone:13800138000', 'analyst')).json()) as {
      masked: boolean
      identities: Array<{ identityType: string; identityValue: string }>
      purchases: { orders: number }
    }
    expect(analyst.masked).toBe(true)
    expect(analyst.identities.map((i) => i.identityValue).sort()).toEqual([
      '86138****8000',
      'a***@example.com',
    ])
    expect(analyst.purchases.orders).toBe(2)
    // No CLV run yet: the profile says so rather than failing.
    expect((analyst as unknown as { clv: unknown }).clv).toBeNull()
    const operator = (await (await get('/api/v1/members/ann@example.com', 'operator')).json()) as {
      identities: Array<{ identityValue: string }>
    }
    expect(operator.identities.map((i) => i.identityValue).sort()).toEqual([
      '8613800138000',
      'ann@example.com',
    ])
    expect((await get('/api/v1/members/nobody', 'admin')).status).toBe(404)
  })

  it('tree, overview and drivers', async () => {
    const tree = (await (await get('/api/v1/tree?period=2024-02', 'viewer')).json()) as {
      label: string
      nodes: unknown[]
    }
    expect(tree.label).toBe('2024-02')
    expect(tree.nodes).toHaveLength(3)
    const ov = (await (await get('/api/v1/overview?month=2024-01', 'viewer')).json()) as {
      overview: { orders: number }
    }
    expect(ov.overview.orders).toBe(2)
    expect(
      (
        await get(
          '/api/v1/drivers?core=net_revenue&candidates=orders,aov&from=2024-01&to=2024-02',
          'viewer',
        )
      ).status,
    ).toBe(200)
  })

  it('revoked keys stop working at once', async () => {
    const { key, secret: s2 } = await keys.create('temp', 'viewer')
    const ok = await app.request('/api/v1/whoami', { headers: { authorization: `Bearer ${s2}` } })
    expect(await ok.json()).toMatchObject({ name: 'temp', role: 'viewer' })
    await keys.revoke(key.id)
    expect(
      (await app.request('/api/v1/whoami', { headers: { authorization: `Bearer ${s2}` } })).status,
    ).toBe(401)
  })

  it('rate-limits per key with Retry-After', async () => {
    const app = createApp({
      driver: s.db.driver,
      keys,
      clock,
      rate: { perSecond: 5, burst: 10 },
      log: () => {},
    })
    const { secret: s3 } = await keys.create('busy', 'viewer')
    const statuses: number[] = []
    for (let i = 0; i < 12; i++)
      statuses.push((await app.request('/api/v1/whoami', { headers: { 'x-api-key': s3 } })).status)
    expect(statuses.slice(0, 10).every((x) => x === 200)).toBe(true)
    const limited = await app.request('/api/v1/whoami', { headers: { 'x-api-key': s3 } })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('1')
    now += 1000
    expect((await app.request('/api/v1/whoami', { headers: { 'x-api-key': s3 } })).status).toBe(200)
  })

  it('describes itself in OpenAPI and a reference page, and answers unknown routes with JSON', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, unknown>
    }
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/metrics',
        '/api/v1/metrics/query',
        '/api/v1/tree',
        '/api/v1/members/{query}',
      ]),
    )
    const page = await (await app.request('/docs')).text()
    expect(page).toContain('/api/v1/metrics/query')
    const missing = await get('/api/v1/nothing', 'viewer')
    expect(missing.status).toBe(404)
    expect((await body(missing)).error?.code).toBe('NOT_FOUND')
  })

  it('masks identities', () => {
    expect(maskIdentity('phone', '8613800138000')).toBe('86138****8000')
    expect(maskIdentity('email', 'zoe@example.com')).toBe('z***@example.com')
  })
})

describe('HTTP API: retention, lifecycle, RFM', () => {
  it('serves the cohort matrix, stage sizes and RFM segments as aggregates', async () => {
    const c = (await (
      await get('/api/v1/cohorts?grain=month&periods=1&asOf=2024-03-01', 'viewer')
    ).json()) as {
      cohorts: Array<{
        cohort: string
        size: number
        cells: Array<{ period: number; active: number; rate: number | null }>
      }>
    }
    // Both members registered in January 2024; both active that month; only the first active in February.
    expect(c.cohorts.map((x) => [x.cohort, x.size, x.cells.map((k) => k.active)])).toEqual([
      ['2024-01-01', 2, [2, 1]],
    ])
    const l = (await (await get('/api/v1/lifecycle?asOf=2024-03-01', 'viewer')).json()) as {
      stages: Array<{ members: number }>
    }
    expect(l.stages.reduce((sum, x) => sum + Number(x.members), 0)).toBe(2)
    const r = (await (await get('/api/v1/rfm?asOf=2024-03-01', 'viewer')).json()) as {
      segments: unknown[]
    }
    expect(r.segments.length).toBeGreaterThan(0)
    expect((await get('/api/v1/cohorts?grain=fortnight', 'viewer')).status).toBe(400)
  })
})
