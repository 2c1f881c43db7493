/**
 * The write and operations endpoints in-process: segments, loyalty, risk list, CLV report, ingest, alerts
 * (with a webhook receiver on 127.0.0.1), keys and the audit log — every role allowed and refused, bad JSON,
 * wrong types, oversized bodies, SQL-ish strings as data, missing, wrong and revoked keys.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkRule, type AlertRule } from '../../src/alerts/alert-rule.js'
import { AlertService, deliver } from '../../src/alerts/alert-service.js'
import { AlertStore } from '../../src/alerts/alert-store.js'
import { ensureScoreTables, saveRun } from '../../src/analytics/clv/store.js'
import { createApp } from '../../src/api/app.js'
import { KeyStore, ROLES, type Role } from '../../src/api/keys.js'
import { fixedClock } from '../../src/core/clock.js'
import { sql } from '../../src/engine/sql/fragment.js'
import { Ledger } from '../../src/ledger/ledger.service.js'
import { ensureLedgerSchema } from '../../src/ledger/ledger.table.js'
import { openPgliteStore } from '../../src/ledger/stores/pglite-store.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import { AuditLog } from '../../src/duckdb/audit-log.js'
import { scratch } from '../helpers/db.js'
import { testProgram } from '../ledger/fixtures.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let keys: KeyStore
let store: LedgerStore
let audit: AuditLog
let alertStore: AlertStore
let app: ReturnType<typeof createApp>
let receiver: Server
let hookUrl = ''
const received: Array<{ alert: Record<string, unknown> }> = []
/** Statuses the webhook receiver answers with, in order (then 200). */
const hookPlan: number[] = []
const secret: Partial<Record<Role, string>> = {}
const clock = fixedClock('2026-11-01T00:00:00Z')
let annId = 0

const MEMBERS =
  'phone,email,registered_at,region\n13800138000,ann@example.com,2024-01-01,浙江\n13900000000,bob@example.com,2024-01-02,江苏\n'
const ORDERS =
  'order_id,phone,ordered_at,channel,net_amount\nO1,13800138000,2024-01-05,app,100\nO2,13900000000,2024-01-06,store,50\nO3,13800138000,2024-02-10,app,30\nO4,13900000000,2024-02-29,store,20\n'

const readBody = (req: IncomingMessage) =>
  new Promise<string>((ok) => {
    let b = ''
    req.on('data', (c: Buffer) => (b += c.toString()))
    req.on('end', () => ok(b))
  })

beforeAll(async () => {
  s = await scratch()
  await s.ingest('members', await s.file('m.csv', MEMBERS))
  await s.ingest('orders', await s.file('o.csv', ORDERS))
  keys = new KeyStore(`${s.dir}/keys.json`, clock)
  for (const role of ROLES) secret[role] = (await keys.create(`${role} test`, role)).secret
  store = await openPgliteStore('memory://')
  await ensureLedgerSchema(store)
  audit = new AuditLog(':memory:', clock)
  receiver = createServer((req, res) => {
    void readBody(req).then((b) => {
      const status = hookPlan.shift() ?? 200
      if (status === 200) received.push(JSON.parse(b) as { alert: Record<string, unknown> })
      res.writeHead(status).end()
    })
  })
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', () => ok()))
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
  alertStore = new AlertStore(`${s.dir}/alerts.json`, clock)
  app = createApp({
    driver: s.db.driver,
    keys,
    clock,
    rate: { perSecond: 10_000, burst: 10_000 },
    log: () => {},
    ledger: new Ledger(store, testProgram(), { clock }),
    audit,
    alerts: new AlertService({
      driver: s.db.driver,
      store: alertStore,
      clock,
      webhookUrl: hookUrl,
      webhook: { attempts: 3, backoffMs: 1 },
      sleep: async () => {},
    }),
  })
  const m = (await (await get('/api/v1/members/phone:13800138000', 'admin')).json()) as {
    member: { memberId: number }
  }
  annId = m.member.memberId
})
afterAll(async () => {
  await new Promise<void>((ok) => receiver.close(() => ok()))
  await audit.close()
  await store.close()
  await s.cleanup()
})

const auth = (role?: Role): Record<string, string> =>
  role ? { authorization: `Bearer ${secret[role]}` } : {}
const get = (path: string, role?: Role) => app.request(path, { headers: auth(role) })
const send = (
  method: string,
  path: string,
  role: Role | undefined,
  body?: unknown,
  headers: Record<string, string> = {},
) =>
  app.request(path, {
    method,
    headers: { 'content-type': 'application/json', ...auth(role), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
const code = async (r: Response) => ((await r.json()) as { error?: { code: string } }).error?.code

describe('segments', () => {
  it('creates, reads, replaces, exports and deletes a segment', async () => {
    const created = await send('POST', '/api/v1/segments', 'operator', {
      name: 'zj',
      description: 'Zhejiang',
      filter: { region: ['浙江'] },
    })
    expect(created.status).toBe(201)
    expect(await created.json()).toMatchObject({ name: 'zj', filter: { region: ['浙江'] } })
    const again = await send('POST', '/api/v1/segments', 'operator', {
      name: 'zj',
      filter: { region: ['江苏'] },
    })
    expect(again.status).toBe(409)
    expect(await code(again)).toBe('CONFLICT')

    const csv = await get('/api/v1/segments/zj/export?format=csv', 'operator')
    expect(csv.status).toBe(200)
    expect(csv.headers.get('content-type')).toContain('text/csv')
    const lines = (await csv.text()).trim().split('\r\n')
    expect(lines[0]).toBe(
      'member_id,phone,email,wechat_unionid,app_user_id,card_no,pos_customer_id,customer_id,consent_sms,consent_email,consent_wechat,consent_push',
    )
    expect(lines.slice(1)).toEqual([
      `${annId},+8613800138000,ann@example.com,,,,,,false,false,false,false`,
    ])

    const put = await send('PUT', '/api/v1/segments/zj', 'admin', { filter: { region: ['江苏'] } })
    expect(put.status).toBe(200)
    const jsonl = await (await get('/api/v1/segments/zj/export?format=jsonl', 'admin')).text()
    expect(
      jsonl
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { email: string }).email),
    ).toEqual(['bob@example.com'])
    const list = (await (await get('/api/v1/segments', 'operator')).json()) as {
      segments: Array<{ name: string; description?: string }>
    }
    expect(list.segments.map((x) => x.name)).toContain('zj')

    expect((await send('DELETE', '/api/v1/segments/zj', 'operator')).status).toBe(200)
    expect((await get('/api/v1/segments/zj', 'operator')).status).toBe(404)
    expect((await send('DELETE', '/api/v1/segments/zj', 'operator')).status).toBe(404)
  })

  it('is refused to viewers and analysts', async () => {
    for (const role of ['viewer', 'analyst'] as const) {
      expect((await get('/api/v1/segments', role)).status).toBe(403)
      const r = await send('POST', '/api/v1/segments', role, { name: 'x', filter: {} })
      expect(r.status).toBe(403)
      expect(await code(r)).toBe('FORBIDDEN')
    }
  })

  it('refuses bad JSON, wrong types and unknown fields with 400', async () => {
    const bad = await send('POST', '/api/v1/segments', 'operator', '{"name": "x", filter: ')
    expect(bad.status).toBe(400)
    expect(await code(bad)).toBe('INPUT_INVALID')
    const wrongType = await send('POST', '/api/v1/segments', 'operator', {
      name: 'x',
      filter: { region: 5 },
    })
    expect(wrongType.status).toBe(400)
    expect(JSON.stringify(await wrongType.json())).toContain('filter.region')
    expect(
      (await send('POST', '/api/v1/segments', 'operator', { name: 'x', filter: { sql: 'x' } }))
        .status,
    ).toBe(400)
    expect((await send('POST', '/api/v1/segments', 'operator', 'null')).status).toBe(400)
  })

  it('treats SQL-ish strings in filters as data', async () => {
    const attacks = ["浙江' OR 1=1 --", "x'); DROP TABLE members; --", '%', "' UNION SELECT 1 --"]
    const r = await send('PUT', '/api/v1/segments/attack', 'operator', {
      filter: { region: attacks, city: attacks, attributes: { tier: "' OR ''='" } },
    })
    expect(r.status).toBe(200)
    const csv = await (await get('/api/v1/segments/attack/export', 'operator')).text()
    expect(csv.trim().split('\r\n')).toHaveLength(1)
    const named = await send(
      'PUT',
      `/api/v1/segments/${encodeURIComponent("a' OR 1=1")}`,
      'operator',
      {
        filter: {},
      },
    )
    expect(named.status).toBe(400)
    const members = await s.db.driver.first<{ n: bigint }>(sql`SELECT count(*) AS n FROM members`)
    expect(Number(members?.n)).toBe(2)
  })

  it('refuses exports larger than the row limit', async () => {
    const small = createApp({
      driver: s.db.driver,
      keys,
      clock,
      maxRows: 1,
      rate: { perSecond: 1000, burst: 1000 },
      log: () => {},
    })
    await send('PUT', '/api/v1/segments/everyone', 'operator', { filter: {} })
    const r = await small.request('/api/v1/segments/everyone/export', { headers: auth('operator') })
    expect(r.status).toBe(413)
    expect(await code(r)).toBe('TOO_LARGE')
  })
})

describe('loyalty', () => {
  const key = (k: string) => ({ 'idempotency-key': k })

  it('enrolls, earns, redeems, answers balance and history, and replays a repeated key', async () => {
    const m = String(annId)
    expect(
      (await send('POST', '/api/v1/loyalty/enroll', 'operator', { memberId: m }, key('enroll-ann')))
        .status,
    ).toBe(200)
    const earn = await send(
      'POST',
      '/api/v1/loyalty/earn',
      'operator',
      { type: 'order', memberId: m, orderId: 'O9', amount: '300', channel: 'store' },
      key('order-O9'),
    )
    expect(earn.status).toBe(200)
    expect(await earn.json()).toMatchObject({ points: 300, balance: 300, replayed: false })
    const replay = await send(
      'POST',
      '/api/v1/loyalty/earn',
      'operator',
      { type: 'order', memberId: m, orderId: 'O9', amount: '300', channel: 'store' },
      key('order-O9'),
    )
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    expect(await replay.json()).toMatchObject({ points: 300, balance: 300, replayed: true })
    const conflict = await send(
      'POST',
      '/api/v1/loyalty/earn',
      'operator',
      { type: 'order', memberId: m, orderId: 'O9', amount: '999', channel: 'store' },
      key('order-O9'),
    )
    expect(conflict.status).toBe(409)
    expect(await code(conflict)).toBe('LEDGER_CONFLICT')
    const bonus = await send(
      'POST',
      '/api/v1/loyalty/earn',
      'admin',
      { type: 'bonus', memberId: m, kind: 'review', sourceId: 'R1' },
      key('review-R1'),
    )
    expect(await bonus.json()).toMatchObject({ points: 20, balance: 320 })
    const redeem = await send(
      'POST',
      '/api/v1/loyalty/redeem',
      'operator',
      { memberId: m, rewardId: 'coupon' },
      key('redeem-1'),
    )
    expect(await redeem.json()).toMatchObject({ points: -100, balance: 220 })
    const tooMuch = await send(
      'POST',
      '/api/v1/loyalty/redeem',
      'operator',
      { memberId: m, points: 5000 },
      key('redeem-2'),
    )
    expect(tooMuch.status).toBe(409)
    expect(await code(tooMuch)).toBe('INSUFFICIENT_POINTS')
    // Out of stock has its own code, not the key-reuse conflict's: a client may retry it later, not the other.
    const noStock = await send(
      'POST',
      '/api/v1/loyalty/redeem',
      'operator',
      { memberId: m, rewardId: 'mug', quantity: 4 },
      key('redeem-3'),
    )
    expect(noStock.status).toBe(409)
    expect(await code(noStock)).toBe('REWARD_OUT_OF_STOCK')

    const balance = (await (
      await get(`/api/v1/loyalty/members/${m}/balance`, 'operator')
    ).json()) as { balance: number; available: number; tier: string }
    expect(balance).toMatchObject({ balance: 220, available: 220, tier: 'member' })
    const page1 = (await (
      await get(`/api/v1/loyalty/members/${m}/history?limit=2`, 'operator')
    ).json()) as { entries: Array<{ points: number; entryId: number }>; next: number | null }
    expect(page1.entries.map((e) => e.points)).toEqual([-100, 20])
    const page2 = (await (
      await get(`/api/v1/loyalty/members/${m}/history?limit=2&before=${page1.next}`, 'operator')
    ).json()) as { entries: Array<{ points: number }>; next: number | null }
    expect(page2.entries.map((e) => e.points)).toEqual([300])
    expect(page2.next).toBeNull()
    expect((await get('/api/v1/loyalty/members/99999/balance', 'operator')).status).toBe(404)
  })

  it('earns the category multiplier of order lines and records the order a payment with points paid for', async () => {
    const m = 'lines-1'
    await send('POST', '/api/v1/loyalty/enroll', 'operator', { memberId: m }, key('enroll-lines-1'))
    // 100 of the 300 are fresh produce (× 2): 200 + 100 × 2 = 400 points.
    const earn = await send(
      'POST',
      '/api/v1/loyalty/earn',
      'operator',
      {
        type: 'order',
        memberId: m,
        orderId: 'L1',
        amount: '300',
        channel: 'store',
        lines: [{ category: 'fresh', amount: '100' }],
      },
      key('order-L1'),
    )
    expect(earn.status).toBe(200)
    expect(await earn.json()).toMatchObject({ points: 400, balance: 400 })
    const pay = await send(
      'POST',
      '/api/v1/loyalty/redeem',
      'operator',
      { memberId: m, points: 150, orderId: 'L2' },
      key('payment-L2'),
    )
    expect(pay.status).toBe(200)
    expect(await pay.json()).toMatchObject({ points: -150, details: { orderId: 'L2' } })
    const history = (await (
      await get(`/api/v1/loyalty/members/${m}/history?limit=1`, 'operator')
    ).json()) as { entries: Array<{ reason: string }> }
    expect(history.entries[0]?.reason).toBe('payment for order L2')
    const withReward = await send(
      'POST',
      '/api/v1/loyalty/redeem',
      'operator',
      { memberId: m, rewardId: 'coupon', orderId: 'L3' },
      key('payment-L3'),
    )
    expect(withReward.status).toBe(400)
    const badLine = await send(
      'POST',
      '/api/v1/loyalty/earn',
      'operator',
      {
        type: 'order',
        memberId: m,
        orderId: 'L4',
        amount: '300',
        channel: 'store',
        lines: [{ category: 'fresh', amount: '1.23456' }],
      },
      key('order-L4'),
    )
    expect(badLine.status).toBe(400)
  })

  it('requires an idempotency key on every write', async () => {
    const r = await send('POST', '/api/v1/loyalty/earn', 'operator', {
      type: 'bonus',
      memberId: String(annId),
      kind: 'check_in',
    })
    expect(r.status).toBe(400)
    expect(JSON.stringify(await r.json())).toContain('idempotency-key')
    const malformed = await send(
      'POST',
      '/api/v1/loyalty/earn',
      'operator',
      { type: 'bonus', memberId: String(annId), kind: 'check_in' },
      key('x'),
    )
    expect(malformed.status).toBe(400)
  })

  it('refuses wrong types and SQL-ish member ids', async () => {
    const cases: unknown[] = [
      { type: 'order', memberId: String(annId), orderId: 'O1', amount: 'ten', channel: 'app' },
      { type: 'order', memberId: String(annId), orderId: 'O1', amount: -5, channel: 'app' },
      { type: 'bonus', memberId: 42, kind: 'check_in' },
      { type: 'bonus', memberId: "1' OR '1'='1", kind: 'check_in' },
      { type: 'lottery', memberId: String(annId) },
      { type: 'bonus', memberId: String(annId), kind: 'check_in', extra: 1 },
    ]
    for (const [i, b] of cases.entries()) {
      const r = await send('POST', '/api/v1/loyalty/earn', 'operator', b, key(`bad-${i}`))
      expect(r.status, JSON.stringify(b)).toBe(400)
    }
    const both = await send(
      'POST',
      '/api/v1/loyalty/redeem',
      'operator',
      { memberId: String(annId), rewardId: 'coupon', points: 10 },
      key('both-1'),
    )
    expect(both.status).toBe(400)
    const sqlish = await get(
      `/api/v1/loyalty/members/${encodeURIComponent("1' OR 1=1 --")}/balance`,
      'operator',
    )
    expect(sqlish.status).toBe(400)
  })

  it('is refused to viewers and analysts, and to missing, wrong and revoked keys', async () => {
    for (const role of ['viewer', 'analyst'] as const) {
      const r = await send(
        'POST',
        '/api/v1/loyalty/earn',
        role,
        { type: 'bonus', memberId: String(annId), kind: 'check_in' },
        key(`refused-${role}`),
      )
      expect(r.status).toBe(403)
      expect((await get(`/api/v1/loyalty/members/${annId}/balance`, role)).status).toBe(403)
    }
    const body = { type: 'bonus', memberId: String(annId), kind: 'check_in' }
    expect((await send('POST', '/api/v1/loyalty/earn', undefined, body, key('nokey'))).status).toBe(
      401,
    )
    expect(
      (
        await send('POST', '/api/v1/loyalty/earn', undefined, body, {
          ...key('wrongkey'),
          authorization: 'Bearer ml_not-a-real-key',
        })
      ).status,
    ).toBe(401)
    const temp = await keys.create('temp operator', 'operator')
    await keys.revoke(temp.key.id)
    const revoked = await send('POST', '/api/v1/loyalty/earn', undefined, body, {
      ...key('revoked'),
      authorization: `Bearer ${temp.secret}`,
    })
    expect(revoked.status).toBe(401)
    expect(await code(revoked)).toBe('UNAUTHORIZED')
  })

  it('answers loyalty writes while a slow analytics query holds the member database', async () => {
    let slowDone = false
    // Billions of rows on one thread: seconds of work on the member database's only connection.
    const slow = s.db.driver
      .all(sql`SELECT count(*) AS n FROM range(8000000000) t(x) WHERE x % 7 = 3`)
      .then(
        () => (slowDone = true),
        () => (slowDone = true),
      )
    await new Promise((ok) => setTimeout(ok, 50))
    const r = await send(
      'POST',
      '/api/v1/loyalty/earn',
      'operator',
      { type: 'bonus', memberId: String(annId), kind: 'review', sourceId: 'R-slow' },
      key('review-slow'),
    )
    expect(r.status).toBe(200)
    expect(slowDone).toBe(false)
    s.db.driver.connection.interrupt()
    await slow
    // Undo the bonus so the balances asserted later stay as they were.
    await send(
      'POST',
      '/api/v1/loyalty/redeem',
      'operator',
      { memberId: String(annId), points: 20 },
      key('undo-review-slow'),
    )
  })

  it('answers 503 when the server has no ledger', async () => {
    const bare = createApp({ driver: s.db.driver, keys, clock, log: () => {} })
    const r = await bare.request('/api/v1/loyalty/members/1/balance', { headers: auth('admin') })
    expect(r.status).toBe(503)
    expect(await code(r)).toBe('UNAVAILABLE')
  })
})

describe('member 360', () => {
  it('adds points and tier, lifecycle stage and risk score with reasons', async () => {
    const m = (await (await get('/api/v1/members/phone:13800138000', 'analyst')).json()) as {
      loyalty: { balance: number; tier: string } | null
      lifecycle: { stage: string; purchases: number; asOf: string } | null
      risk: unknown
    }
    expect(m.loyalty).toMatchObject({ balance: 220, tier: 'member' })
    // Two purchases, the latest on 2024-02-10; the data's last day is 2024-02-29.
    expect(m.lifecycle).toMatchObject({ asOf: '2024-03-01', purchases: 2 })
    expect(typeof m.lifecycle?.stage).toBe('string')
    expect(m.risk).toBeNull()
    const bob = (await (await get('/api/v1/members/phone:13900000000', 'analyst')).json()) as {
      loyalty: unknown
    }
    expect(bob.loyalty).toBeNull()
  })
})

describe('risk list and CLV report', () => {
  it('answer 404 before any run', async () => {
    expect((await get('/api/v1/risk', 'analyst')).status).toBe(404)
    expect((await get('/api/v1/clv/report', 'viewer')).status).toBe(404)
  })

  it('page through the latest risk scoring with reasons, and summarise the latest CLV run', async () => {
    const d = s.db.driver
    await ensureScoreTables(d)
    await saveRun(
      d,
      {
        runId: 'clv-20261101T000000Z',
        kind: 'clv',
        createdAt: new Date('2026-11-01T00:00:00Z'),
        options: {},
        params: {},
        logLikelihood: null,
        report: { distribution: { members: 2, total: 130.5 } },
      },
      null,
    )
    await saveRun(
      d,
      {
        runId: 'risk-score-20261101T000000Z',
        kind: 'risk-score',
        createdAt: new Date('2026-11-01T00:00:00Z'),
        options: {},
        params: null,
        logLikelihood: null,
        report: { members: 2 },
      },
      null,
    )
    await d.execute(sql`CREATE TABLE IF NOT EXISTS risk_scores (run_id VARCHAR NOT NULL,
      member_id BIGINT NOT NULL, score DOUBLE, reasons VARCHAR, signals VARCHAR, churn_class VARCHAR,
      playbook VARCHAR, p_alive DOUBLE, historical_value DOUBLE)`)
    const bobId = annId === 1 ? 2 : 1
    await d.execute(sql`INSERT INTO risk_scores VALUES
      ('risk-score-20261101T000000Z', ${annId}, 0.8, 'recency,aov_drop', 'no_login', 'disengaged', 'recommend', 0.3, 130),
      ('risk-score-20261101T000000Z', ${bobId}, 0.4, 'recency', '', 'price-sensitive', 'discount', 0.6, 70)`)

    const p1 = (await (await get('/api/v1/risk?limit=1', 'analyst')).json()) as {
      members: Array<{ memberId: number; reasons: string[]; signals: string[] }>
      hasMore: boolean
    }
    expect(p1.members).toEqual([
      expect.objectContaining({
        memberId: annId,
        reasons: ['recency', 'aov_drop'],
        signals: ['no_login'],
      }),
    ])
    expect(p1.hasMore).toBe(true)
    const p2 = (await (await get('/api/v1/risk?limit=1&offset=1', 'analyst')).json()) as {
      members: Array<{ memberId: number; signals: string[] }>
      hasMore: boolean
    }
    expect(p2.members.map((x) => [x.memberId, x.signals])).toEqual([[bobId, []]])
    expect(p2.hasMore).toBe(false)
    const cls = (await (await get('/api/v1/risk?churnClass=price-sensitive', 'admin')).json()) as {
      members: unknown[]
    }
    expect(cls.members).toHaveLength(1)
    expect(
      (await get(`/api/v1/risk?churnClass=${encodeURIComponent("x' OR 1=1 --")}`, 'admin')).status,
    ).toBe(400)
    expect((await get('/api/v1/risk?limit=abc', 'admin')).status).toBe(400)
    expect((await get('/api/v1/risk', 'viewer')).status).toBe(403)

    const m = (await (await get('/api/v1/members/phone:13800138000', 'analyst')).json()) as {
      risk: { score: number; reasons: string[]; churnClass: string }
    }
    expect(m.risk).toMatchObject({
      score: 0.8,
      reasons: ['recency', 'aov_drop'],
      churnClass: 'disengaged',
    })

    expect(
      (await get('/api/v1/clv/report?runId=risk-score-20261101T000000Z', 'viewer')).status,
    ).toBe(404)
    expect((await get('/api/v1/clv/report?runId=x%27%20OR%201%3D1', 'viewer')).status).toBe(400)
    for (const role of ROLES) {
      const r = await get('/api/v1/clv/report', role)
      expect(r.status).toBe(200)
      expect(await r.json()).toMatchObject({
        runId: 'clv-20261101T000000Z',
        report: { distribution: { total: 130.5 } },
      })
    }
  })
})

describe('ingest', () => {
  it('loads a JSON batch atomically with the CLI’s validation', async () => {
    const bad = await send('POST', '/api/v1/ingest/orders', 'admin', {
      records: [
        {
          order_id: 'B1',
          phone: '13800138000',
          ordered_at: '2024-03-05',
          channel: 'app',
          net_amount: 10,
        },
        {
          order_id: 'B2',
          phone: '13800138000',
          ordered_at: 'not a date',
          channel: 'app',
          net_amount: 10,
        },
      ],
    })
    expect(bad.status).toBe(400)
    expect(JSON.stringify(await bad.json())).toContain('ordered_at')
    const count = async () =>
      Number((await s.db.driver.first<{ n: bigint }>(sql`SELECT count(*) AS n FROM orders`))?.n)
    expect(await count()).toBe(4)
    const ok = await send('POST', '/api/v1/ingest/orders', 'admin', {
      records: [
        {
          order_id: 'B1',
          phone: '13800138000',
          ordered_at: '2024-03-05',
          channel: 'app',
          net_amount: 10,
        },
        {
          order_id: 'B2',
          phone: '13700000000',
          ordered_at: '2024-03-06',
          channel: "x' OR 1=1",
          net_amount: 5,
        },
      ],
      options: { unknownIdentity: 'create' },
    })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ table: 'orders', rowsRead: 2, rowsInserted: 2 })
    expect(await count()).toBe(6)
    const again = await send('POST', '/api/v1/ingest/orders', 'admin', {
      records: [
        {
          order_id: 'B1',
          phone: '13800138000',
          ordered_at: '2024-03-05',
          channel: 'app',
          net_amount: 10,
        },
      ],
    })
    expect(await again.json()).toMatchObject({ rowsInserted: 0, rowsUnchanged: 1 })
    const ch = await s.db.driver.first<{ channel: string }>(
      sql`SELECT channel FROM orders WHERE order_id = 'B2'`,
    )
    expect(ch?.channel).toBe("x' OR 1=1")
  })

  it('loads an uploaded file, raw or multipart, and refuses an empty one', async () => {
    const csv = 'order_id,phone,ordered_at,channel,net_amount\nF1,13900000000,2024-03-07,store,12\n'
    const raw = await app.request('/api/v1/ingest/orders/file', {
      method: 'POST',
      headers: { ...auth('admin'), 'content-type': 'text/csv' },
      body: csv,
    })
    expect(raw.status).toBe(200)
    expect(await raw.json()).toMatchObject({ rowsInserted: 1 })
    const form = new FormData()
    form.append(
      'file',
      new File(
        ['order_id,phone,ordered_at,channel,net_amount\nF2,13900000000,2024-03-08,store,8\n'],
        'x.csv',
      ),
    )
    const multi = await app.request('/api/v1/ingest/orders/file?dryRun=true', {
      method: 'POST',
      headers: auth('admin'),
      body: form,
    })
    expect(multi.status).toBe(200)
    expect(await multi.json()).toMatchObject({ dryRun: true, rowsRead: 1 })
    expect(
      (
        await app.request('/api/v1/ingest/orders/file', {
          method: 'POST',
          headers: { ...auth('admin'), 'content-type': 'text/csv' },
          body: '',
        })
      ).status,
    ).toBe(400)
  })

  it('is for admins only and refuses unknown tables, wrong types and oversized bodies', async () => {
    for (const role of ['viewer', 'analyst', 'operator'] as const) {
      const r = await send('POST', '/api/v1/ingest/orders', role, { records: [{ order_id: 'X' }] })
      expect(r.status).toBe(403)
    }
    expect(
      (await send('POST', '/api/v1/ingest/ledger_entries', 'admin', { records: [{ a: 1 }] }))
        .status,
    ).toBe(400)
    expect((await send('POST', '/api/v1/ingest/orders', 'admin', { records: 'O1,…' })).status).toBe(
      400,
    )
    expect((await send('POST', '/api/v1/ingest/orders', 'admin', { records: [] })).status).toBe(400)
    const huge = `{"records":[{"note":"${'x'.repeat(11 * 1024 * 1024)}"}]}`
    const r = await send('POST', '/api/v1/ingest/orders', 'admin', huge)
    expect(r.status).toBe(413)
    expect(await code(r)).toBe('TOO_LARGE')
  })
})

describe('alerts', () => {
  it('checks thresholds, changes and off-track turns', () => {
    const rule = (condition: AlertRule['condition']): AlertRule => ({
      id: '00000001',
      name: 'r',
      metric: 'net_revenue',
      condition,
      grain: 'month',
      where: [],
      enabled: true,
      createdAt: '',
    })
    const o = {
      period: '2024-02-01',
      label: '2024-02',
      value: 50,
      change: { pop: -0.5, yoy: null },
    }
    expect(checkRule(rule({ kind: 'threshold', op: '<', value: 100 }), o)).toContain('is 50')
    expect(checkRule(rule({ kind: 'threshold', op: '>=', value: 51 }), o)).toBeUndefined()
    expect(
      checkRule(rule({ kind: 'change', against: 'previous', direction: 'down', percent: 40 }), o),
    ).toContain('-50.0%')
    expect(
      checkRule(rule({ kind: 'change', against: 'previous', direction: 'up', percent: 40 }), o),
    ).toBeUndefined()
    expect(
      checkRule(rule({ kind: 'change', against: 'last_year', direction: 'either', percent: 1 }), o),
    ).toBeUndefined()
    const off = rule({ kind: 'off_track' })
    expect(checkRule(off, { ...o, status: 'off_track', previousStatus: 'on_track' })).toContain(
      'turned off track',
    )
    expect(
      checkRule(off, { ...o, status: 'off_track', previousStatus: 'off_track' }),
    ).toBeUndefined()
    expect(checkRule(off, { ...o, status: 'at_risk', previousStatus: 'on_track' })).toBeUndefined()
  })

  it('manages rules, fires once per period, delivers to the webhook with retries and lists alerts', async () => {
    const add = (body: unknown, role: Role = 'operator') =>
      send('POST', '/api/v1/alerts/rules', role, body)
    // The data's last complete month is 2024-03 after the ingest tests (orders up to 2024-03-08 are not a
    // complete month), so the month evaluated is 2024-02: revenue 50 against 150 in January.
    const low = await add({
      name: 'Revenue under 100',
      metric: 'net_revenue',
      condition: { kind: 'threshold', op: '<', value: 100 },
    })
    expect(low.status).toBe(201)
    const lowId = ((await low.json()) as { id: string }).id
    expect(
      (
        await add({
          name: 'Revenue up 10%',
          metric: 'net_revenue',
          condition: { kind: 'change', against: 'previous', direction: 'up', percent: 10 },
        })
      ).status,
    ).toBe(201)
    expect(
      (await add({ name: 'x', metric: 'net_revenue', condition: { kind: 'sometimes' } })).status,
    ).toBe(400)
    expect(
      (await add({ name: 'x', metric: "x'; --", condition: { kind: 'off_track' } })).status,
    ).toBe(400)
    expect(
      (await add({ name: 'x', metric: 'orders', condition: { kind: 'off_track' } }, 'analyst'))
        .status,
    ).toBe(403)

    hookPlan.push(500, 503)
    const ev = await send('POST', '/api/v1/alerts/evaluate', 'operator')
    expect(ev.status).toBe(200)
    const j = (await ev.json()) as {
      fired: Array<{
        ruleId: string
        period: string
        value: number
        delivery: { delivered: boolean; attempts: number }
      }>
    }
    expect(j.fired.map((f) => [f.ruleId, f.period, f.value])).toEqual([[lowId, '2024-02-01', 50]])
    expect(j.fired[0]?.delivery).toMatchObject({ delivered: true, attempts: 3 })
    expect(received.map((r) => r.alert['ruleId'])).toEqual([lowId])
    expect(received[0]?.alert).toMatchObject({
      metric: 'net_revenue',
      label: '2024-02',
      trigger: 'manual',
    })

    // The same period does not fire twice.
    const again = (await (await send('POST', '/api/v1/alerts/evaluate', 'admin')).json()) as {
      fired: unknown[]
    }
    expect(again.fired).toEqual([])
    expect(received).toHaveLength(1)

    for (const role of ROLES) {
      const list = (await (await get('/api/v1/alerts', role)).json()) as {
        alerts: Array<{ ruleId: string; link: string }>
      }
      expect(list.alerts.map((a) => a.ruleId)).toEqual([lowId])
      expect(list.alerts[0]?.link).toBe('/#/explore?metric=net_revenue&period=2024-02')
      expect((await get('/api/v1/alerts/rules', role)).status).toBe(200)
    }
    expect((await send('POST', '/api/v1/alerts/evaluate', 'viewer')).status).toBe(403)
  })

  it('records a webhook that never accepts as not delivered, with the last error', async () => {
    hookPlan.push(500, 500, 500)
    const event = {
      id: 'r:2024-01-01',
      ruleId: '0000000f',
      ruleName: 'r',
      metric: 'orders',
      period: '2024-01-01',
      label: '2024-01',
      value: 1,
      change: { pop: null, yoy: null },
      status: null,
      message: 'm',
      firedAt: '2026-11-01T00:00:00.000Z',
      trigger: 'manual' as const,
      link: '',
      delivery: null,
    }
    const sleeps: number[] = []
    const sleep = async (ms: number) => {
      sleeps.push(ms)
    }
    expect(await deliver(hookUrl, event, { attempts: 3, backoffMs: 10 }, sleep)).toEqual({
      delivered: false,
      attempts: 3,
      error: 'HTTP 500',
    })
    expect(sleeps).toEqual([10, 20])
    const closed = await deliver(
      'http://127.0.0.1:9/none',
      event,
      { attempts: 2, backoffMs: 1 },
      sleep,
    )
    expect(closed.delivered).toBe(false)
    expect(closed.error).not.toBeNull()
  })

  it('evaluates after each ingest', async () => {
    // Orders through the end of March complete that month: the rule fires for 2024-03.
    const r = await send('POST', '/api/v1/ingest/orders', 'admin', {
      records: [
        {
          order_id: 'M31',
          phone: '13900000000',
          ordered_at: '2024-03-31',
          channel: 'app',
          net_amount: 1,
        },
      ],
    })
    expect(await r.json()).toMatchObject({ alertsFired: 1 })
    expect(received.at(-1)?.alert).toMatchObject({ label: '2024-03', trigger: 'ingest' })
  })

  it('deletes rules', async () => {
    const rules = (await (await get('/api/v1/alerts/rules', 'operator')).json()) as {
      rules: Array<{ id: string }>
    }
    for (const r of rules.rules)
      expect((await send('DELETE', `/api/v1/alerts/rules/${r.id}`, 'operator')).status).toBe(200)
    expect((await send('DELETE', '/api/v1/alerts/rules/0000abcd', 'operator')).status).toBe(404)
    expect(alertStore.rules()).toEqual([])
  })
})

describe('keys and the audit log', () => {
  it('lets admins create, list and revoke keys, and nobody else', async () => {
    for (const role of ['viewer', 'analyst', 'operator'] as const) {
      expect((await get('/api/v1/keys', role)).status).toBe(403)
      expect((await send('POST', '/api/v1/keys', role, { name: 'x', role: 'admin' })).status).toBe(
        403,
      )
    }
    const made = await send('POST', '/api/v1/keys', 'admin', { name: 'bi', role: 'viewer' })
    const k = (await made.json()) as { id: string; secret: string }
    expect(
      (await app.request('/api/v1/whoami', { headers: { authorization: `Bearer ${k.secret}` } }))
        .status,
    ).toBe(200)
    const listed = (await (await get('/api/v1/keys', 'admin')).json()) as {
      keys: Array<Record<string, unknown>>
    }
    expect(listed.keys.some((x) => x['id'] === k.id)).toBe(true)
    expect(JSON.stringify(listed)).not.toContain('hash')
    expect((await send('POST', `/api/v1/keys/${k.id}/revoke`, 'admin')).status).toBe(200)
    expect(
      (await app.request('/api/v1/whoami', { headers: { authorization: `Bearer ${k.secret}` } }))
        .status,
    ).toBe(401)
    expect((await send('POST', '/api/v1/keys', 'admin', { name: 'x', role: 'root' })).status).toBe(
      400,
    )
  })

  it('records every write with key, route, time and outcome; only admins read it', async () => {
    for (const role of ['viewer', 'analyst', 'operator'] as const)
      expect((await get('/api/v1/audit', role)).status).toBe(403)
    const all = (await (await get('/api/v1/audit?limit=1000', 'admin')).json()) as {
      total: number
      entries: Array<{
        keyName: string
        method: string
        route: string
        status: number
        outcome: string
        detail: string | null
        at: string
      }>
    }
    const find = (route: string, status: number, detail?: string) =>
      all.entries.find(
        (e) =>
          e.route === route && e.status === status && (detail === undefined || e.detail === detail),
      )
    expect(find('/api/v1/segments', 201)).toMatchObject({
      keyName: 'operator test',
      method: 'POST',
      outcome: 'ok',
    })
    expect(find('/api/v1/loyalty/earn', 200, 'order-O9')).toMatchObject({
      outcome: 'ok',
      detail: 'order-O9',
    })
    expect(find('/api/v1/loyalty/earn', 409)).toMatchObject({
      outcome: 'invalid',
      detail: 'LEDGER_CONFLICT',
    })
    expect(find('/api/v1/loyalty/earn', 403)).toMatchObject({
      keyName: 'analyst test',
      outcome: 'refused',
      detail: 'FORBIDDEN',
    })
    expect(find('/api/v1/ingest/orders', 200)).toMatchObject({ keyName: 'admin test' })
    expect(find('/api/v1/keys', 200)).toMatchObject({ keyName: 'admin test', method: 'POST' })
    expect(all.entries[0]?.at).toBe('2026-11-01T00:00:00.000Z')
    expect(all.entries.every((e) => e.method !== 'GET')).toBe(true)
    expect(all.total).toBe(all.entries.length)
    const loyalty = (await (
      await get('/api/v1/audit?route=/api/v1/loyalty&outcome=ok', 'admin')
    ).json()) as {
      entries: Array<{ route: string; outcome: string }>
    }
    expect(loyalty.entries.length).toBeGreaterThan(0)
    expect(
      loyalty.entries.every((e) => e.route.startsWith('/api/v1/loyalty') && e.outcome === 'ok'),
    ).toBe(true)
    const sqlish = await get(`/api/v1/audit?keyId=${encodeURIComponent("' OR 1=1 --")}`, 'admin')
    expect(((await sqlish.json()) as { total: number }).total).toBe(0)
    expect((await get('/api/v1/audit?outcome=maybe', 'admin')).status).toBe(400)
  })

  it('documents every new route in OpenAPI', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, unknown>
    }
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/segments',
        '/api/v1/segments/{name}',
        '/api/v1/segments/{name}/export',
        '/api/v1/loyalty/earn',
        '/api/v1/loyalty/redeem',
        '/api/v1/loyalty/members/{memberId}/balance',
        '/api/v1/loyalty/members/{memberId}/history',
        '/api/v1/risk',
        '/api/v1/clv/report',
        '/api/v1/ingest/{table}',
        '/api/v1/ingest/{table}/file',
        '/api/v1/alerts',
        '/api/v1/alerts/rules',
        '/api/v1/alerts/evaluate',
        '/api/v1/keys',
        '/api/v1/audit',
      ]),
    )
  })
})

describe('every role on every read endpoint', () => {
  it('allows exactly the roles the scopes grant', async () => {
    const everyone = [...ROLES]
    const matrix: Array<[string, readonly Role[]]> = [
      ['/api/v1/segments', ['operator', 'admin']],
      ['/api/v1/segments/everyone', ['operator', 'admin']],
      ['/api/v1/segments/everyone/export', ['operator', 'admin']],
      [`/api/v1/loyalty/members/${annId}/balance`, ['operator', 'admin']],
      [`/api/v1/loyalty/members/${annId}/history`, ['operator', 'admin']],
      ['/api/v1/risk', ['analyst', 'operator', 'admin']],
      ['/api/v1/clv/report', everyone],
      ['/api/v1/alerts', everyone],
      ['/api/v1/alerts/rules', everyone],
      ['/api/v1/keys', ['admin']],
      ['/api/v1/audit', ['admin']],
    ]
    for (const [path, allowed] of matrix)
      for (const role of ROLES) {
        const r = await get(path, role)
        if (allowed.includes(role)) expect(r.status, `${role} ${path}`).toBe(200)
        else expect(r.status, `${role} ${path}`).toBe(403)
      }
  })

  it('treats SQL-ish filters of alert rules as data', async () => {
    const rule = (await (
      await send('POST', '/api/v1/alerts/rules', 'admin', {
        name: 'sql-ish',
        metric: 'net_revenue',
        condition: { kind: 'threshold', op: '<', value: 0 },
        where: ["region=x' OR 1=1 --"],
      })
    ).json()) as { id: string }
    const ev = (await (await send('POST', '/api/v1/alerts/evaluate', 'admin')).json()) as {
      fired: unknown[]
      rules: Array<{ ruleId: string; error: string | null; observation: { value: number } | null }>
    }
    expect(ev.fired).toEqual([])
    expect(ev.rules.find((r) => r.ruleId === rule.id)).toMatchObject({
      error: null,
      observation: { value: 0 },
    })
    await send('DELETE', `/api/v1/alerts/rules/${rule.id}`, 'admin')
  })
})
