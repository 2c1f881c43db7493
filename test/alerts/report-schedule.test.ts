/**
 * Scheduled reports reach WeCom-, DingTalk-, webhook- and SMTP-format receivers on 127.0.0.1 in Chinese and in
 * English; DingTalk's signature is checked; a failing receiver is retried with doubling back-off, then logged;
 * secrets come from environment variables and are not written to the log.
 */
import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/core/clock.js'
import { AlertStore } from '../../src/alerts/alert-store.js'
import { dingtalkSign, fitBytes } from '../../src/alerts/report-delivery.js'
import {
  ScheduleService,
  ScheduleStore,
  nextRun,
  type ReportScheduleInput,
} from '../../src/alerts/report-schedule.js'
import { createApp } from '../../src/api/app.js'
import { KeyStore } from '../../src/api/keys.js'
import { runCli } from '../helpers/cli.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let http: Server
let smtp: SMTPServer
let base = ''
let dbFile = ''
let smtpPort = 0
const requests: { path: string; query: URLSearchParams; body: unknown; auth?: string }[] = []
const mails: { from: string; to: string[]; raw: string }[] = []

const ENV = {
  WECOM_KEY: 'wecom-secret-key',
  DING_TOKEN: 'ding-token-123',
  DING_SECRET: 'SECabcdef',
  HOOK_TOKEN: 'bearer-xyz',
}

const ORDERS = [
  'order_id,phone,ordered_at,channel,net_amount',
  'A1,13800000001,2025-09-10 10:00:00,app,100',
  'A2,13800000002,2025-10-12 10:00:00,app,80',
  'B1,13800000001,2026-09-05 10:00:00,app,120',
  'B2,13800000002,2026-09-06 10:00:00,web,60',
  'C1,13800000001,2026-10-05 10:00:00,app,90',
  'C2,13800000003,2026-10-07 10:00:00,store,150000',
  'C3,13800000004,2026-10-31 10:00:00,app,40',
].join('\n')

const body = (req: IncomingMessage) =>
  new Promise<string>((ok) => {
    let b = ''
    req.on('data', (c: Buffer) => (b += c.toString('utf8')))
    req.on('end', () => ok(b))
  })

beforeAll(async () => {
  s = await scratch()
  await s.ingest('orders', await s.file('o.csv', ORDERS))
  dbFile = `${s.dir}/m.duckdb`
  const r = await runCli(['ingest', 'orders', await s.file('o2.csv', ORDERS), '--db', dbFile])
  expect(r.code, r.err).toBe(0)
  http = createServer((req, res) => {
    void body(req).then((b) => {
      const u = new URL(req.url ?? '/', 'http://x')
      requests.push({
        path: u.pathname,
        query: u.searchParams,
        body: JSON.parse(b) as unknown,
        ...(req.headers.authorization === undefined ? {} : { auth: req.headers.authorization }),
      })
      if (u.pathname === '/fail') {
        res.writeHead(500).end('down')
        return
      }
      if (u.pathname === '/refuse') {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ errcode: 310000, errmsg: 'sign not match' }))
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ errcode: 0, errmsg: 'ok' }))
    })
  })
  await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok))
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, done) {
      let raw = ''
      stream.on('data', (c: Buffer) => (raw += c.toString('utf8')))
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
        })
        done()
      })
    },
  })
  await new Promise<void>((ok) => smtp.listen(0, '127.0.0.1', ok))
  smtpPort = (smtp.server.address() as AddressInfo).port
})
afterAll(async () => {
  await new Promise<void>((ok) => http.close(() => ok()))
  await new Promise<void>((ok) => smtp.close(() => ok()))
  await s.cleanup()
})

/** The decoded base64 parts of a raw message (text and HTML bodies), joined. */
const decoded = (raw: string) =>
  [...raw.matchAll(/Content-Transfer-Encoding: base64\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/g)]
    .map((m) => Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64').toString('utf8'))
    .join('\n')

const NOW = '2026-11-02T01:00:00Z'

function service(file: string, sleeps: number[] = []) {
  const clock = fixedClock(NOW)
  return new ScheduleService({
    driver: s.db.driver,
    store: new ScheduleStore(file, clock),
    alerts: new AlertStore(`${s.dir}/no-alerts.json`, clock),
    clock,
    retry: {
      env: ENV,
      attempts: 3,
      backoffMs: 5,
      sleep: async (ms) => {
        sleeps.push(ms)
      },
      now: () => new Date(NOW),
    },
  })
}

const schedule = (lang: 'zh' | 'en'): ReportScheduleInput => ({
  name: `weekly ${lang}`,
  cron: '0 9 * * 1',
  timezone: 'Asia/Shanghai',
  lang,
  targets: [
    { kind: 'wecom', url: `${base}/wecom`, keyEnv: 'WECOM_KEY' },
    { kind: 'dingtalk', url: `${base}/ding`, tokenEnv: 'DING_TOKEN', secretEnv: 'DING_SECRET' },
    { kind: 'webhook', url: `${base}/hook`, tokenEnv: 'HOOK_TOKEN' },
    {
      kind: 'email',
      host: '127.0.0.1',
      port: smtpPort,
      security: 'none',
      from: 'memberlens@example.com',
      to: ['ops@example.com'],
    },
  ],
})

describe('scheduled report delivery', () => {
  it('reaches WeCom, DingTalk (signed), a webhook and SMTP in Chinese', async () => {
    requests.length = 0
    mails.length = 0
    const svc = service(`${s.dir}/zh.json`)
    const sched = await svc.store.addSchedule(schedule('zh'))
    const r = await svc.runNow(sched.id)
    expect(r.deliveries.map((d) => [d.target.split(' ')[0], d.delivered, d.attempts])).toEqual([
      ['wecom', true, 1],
      ['dingtalk', true, 1],
      ['webhook', true, 1],
      ['email', true, 1],
    ])
    const wecom = requests.find((q) => q.path === '/wecom')
    expect(wecom?.query.get('key')).toBe(ENV.WECOM_KEY)
    const w = wecom?.body as { msgtype: string; markdown: { content: string } }
    expect(w.msgtype).toBe('markdown')
    expect(w.markdown.content).toContain('## 会员指标 2026-10')
    expect(w.markdown.content).toContain('消费金额 ¥15万')
    // The tree with its explanation: net revenue's change split into its factors.
    expect(w.markdown.content).toMatch(/消费金额 .*拆解：环比 .*购买会员/)
    expect(w.markdown.content).toContain('没有新告警。')

    const ding = requests.find((q) => q.path === '/ding')
    expect(ding?.query.get('access_token')).toBe(ENV.DING_TOKEN)
    const ts = Number(ding?.query.get('timestamp'))
    expect(ts).toBe(Date.parse(NOW))
    const expected = createHmac('sha256', ENV.DING_SECRET)
      .update(`${ts}\n${ENV.DING_SECRET}`)
      .digest('base64')
    expect(ding?.query.get('sign')).toBe(expected)
    expect(ding?.body).toMatchObject({
      msgtype: 'markdown',
      markdown: { title: '会员指标 2026-10', text: expect.stringContaining('指标树') as string },
    })

    const hook = requests.find((q) => q.path === '/hook')
    expect(hook?.auth).toBe(`Bearer ${ENV.HOOK_TOKEN}`)
    expect(hook?.body).toMatchObject({ report: { lang: 'zh', period: '2026-10-01' } })

    expect(mails).toHaveLength(1)
    expect(mails[0]?.to).toEqual(['ops@example.com'])
    expect(decoded(mails[0]?.raw ?? '')).toContain('消费金额 ¥15万')

    // The log: one row per target, no secret in it.
    const log = svc.store.log()
    expect(log).toHaveLength(4)
    expect(log.every((e) => e.delivered && e.period === '2026-10-01')).toBe(true)
    const text = JSON.stringify(svc.store.schedules()) + JSON.stringify(log)
    for (const secret of Object.values(ENV)) expect(text).not.toContain(secret)
    expect(svc.store.getSchedule(sched.id).lastRunAt).toBe(new Date(NOW).toISOString())
  })

  it('reaches the same receivers in English', async () => {
    requests.length = 0
    mails.length = 0
    const svc = service(`${s.dir}/en.json`)
    const sched = await svc.store.addSchedule(schedule('en'))
    const r = await svc.runNow(sched.id)
    expect(r.deliveries.every((d) => d.delivered)).toBe(true)
    const w = requests.find((q) => q.path === '/wecom')?.body as { markdown: { content: string } }
    expect(w.markdown.content).toContain('## Member metrics 2026-10')
    expect(w.markdown.content).toContain('Net revenue ¥150K')
    expect(w.markdown.content).toMatch(/why: vs previous .*Buyers/)
    expect(w.markdown.content).toContain('No new alerts.')
    expect(mails[0]?.raw).toContain('Subject: Member metrics 2026-10')
    expect(decoded(mails[0]?.raw ?? '')).toContain('Net revenue ¥150K')
  })

  it('retries a failing receiver with doubling back-off, then logs it; a robot refusal counts as failure', async () => {
    requests.length = 0
    const sleeps: number[] = []
    const svc = service(`${s.dir}/fail.json`, sleeps)
    const sched = await svc.store.addSchedule({
      name: 'failing',
      cron: '0 9 * * *',
      targets: [
        { kind: 'webhook', url: `${base}/fail` },
        { kind: 'wecom', url: `${base}/refuse`, keyEnv: 'WECOM_KEY' },
        { kind: 'wecom', url: `${base}/wecom`, keyEnv: 'NOT_SET_ANYWHERE' },
      ],
    })
    const r = await svc.runNow(sched.id)
    expect(requests.filter((q) => q.path === '/fail')).toHaveLength(3)
    expect(requests.filter((q) => q.path === '/refuse')).toHaveLength(3)
    expect(sleeps).toEqual([5, 10, 5, 10])
    expect(r.deliveries.map((d) => [d.delivered, d.attempts, d.error])).toEqual([
      [false, 3, 'HTTP 500'],
      [false, 3, 'the robot refused: errcode 310000 sign not match'],
      [false, 1, 'environment variable NOT_SET_ANYWHERE is not set (it holds a delivery secret)'],
    ])
    const log = svc.store.log({ scheduleId: sched.id })
    expect(log.map((e) => [e.target, e.delivered, e.attempts])).toEqual([
      [`webhook ${base}/fail`, false, 3],
      [`wecom ${base}/refuse`, false, 3],
      [`wecom ${base}/wecom`, false, 1],
    ])
  })
})

describe('schedules', () => {
  it('are due when their cron time, read in their zone, has come since the last run', async () => {
    // Mondays 09:00 in Shanghai = 01:00 UTC.
    expect(
      nextRun('0 9 * * 1', 'Asia/Shanghai', new Date('2026-10-27T00:00:00Z'))?.toISOString(),
    ).toBe('2026-11-02T01:00:00.000Z')
    const early = new ScheduleStore(`${s.dir}/due.json`, fixedClock('2026-10-27T00:00:00Z'))
    const sched = await early.addSchedule(schedule('zh'))
    const at = (iso: string) =>
      new ScheduleService({ driver: s.db.driver, store: early, clock: fixedClock(iso) }).due(
        new Date(iso),
      )
    expect(at('2026-11-02T00:59:00Z')).toEqual([])
    expect(at('2026-11-02T01:00:00Z').map((x) => x.id)).toEqual([sched.id])
    await early.recordRun(sched.id, '2026-11-02T01:00:05Z', [])
    expect(at('2026-11-02T02:00:00Z')).toEqual([])
    expect(at('2026-11-09T01:00:00Z').map((x) => x.id)).toEqual([sched.id])
  })

  it('refuse a bad cron expression, zone or secret name, naming the field', async () => {
    const store = new ScheduleStore(`${s.dir}/bad.json`, fixedClock(NOW))
    await expect(store.addSchedule({ ...schedule('zh'), cron: '61 * * * *' })).rejects.toThrow(
      /cron.*not a cron expression/,
    )
    await expect(store.addSchedule({ ...schedule('zh'), timezone: 'Mars/Base' })).rejects.toThrow(
      /timezone/,
    )
    await expect(
      store.addSchedule({
        ...schedule('zh'),
        targets: [{ kind: 'wecom', url: 'http://127.0.0.1/x', keyEnv: 'lower-case' }],
      }),
    ).rejects.toThrow(/targets\.0\.keyEnv/)
  })

  it('signs DingTalk messages and fits WeCom’s 4096 bytes', () => {
    expect(dingtalkSign('SECx', 1700000000000)).toBe(
      encodeURIComponent(
        createHmac('sha256', 'SECx').update('1700000000000\nSECx').digest('base64'),
      ),
    )
    const long = Array.from({ length: 500 }, (_, i) => `- 第 ${i} 行 指标`).join('\n')
    const fitted = fitBytes(long, 4096)
    expect(Buffer.byteLength(fitted)).toBeLessThanOrEqual(4096)
    expect(fitted.endsWith('\n…')).toBe(true)
  })
})

describe('memberlens report schedule', () => {
  it('adds, lists, sends now and logs, in English and Chinese', async () => {
    requests.length = 0
    const file = `${s.dir}/cli-schedules.json`
    const add = await runCli([
      'report',
      'schedule',
      'add',
      '--name',
      '周报',
      '--cron',
      '0 9 * * 1',
      '--report-lang',
      'zh',
      '--webhook',
      `${base}/hook`,
      '--db',
      dbFile,
      '--schedules',
      file,
      '--json',
    ])
    expect(add.code, add.err).toBe(0)
    const id = (JSON.parse(add.out) as { id: string }).id
    const list = await runCli([
      'report',
      'schedule',
      'list',
      '--db',
      dbFile,
      '--schedules',
      file,
      '--json',
    ])
    const listed = JSON.parse(list.out) as { schedules: { id: string; nextRun: string }[] }
    expect(listed.schedules[0]?.id).toBe(id)
    // Mondays 09:00 in Shanghai.
    expect(new Date(listed.schedules[0]?.nextRun ?? '').getUTCDay()).toBe(1)
    expect(new Date(listed.schedules[0]?.nextRun ?? '').getUTCHours()).toBe(1)
    const run = await runCli([
      'report',
      'schedule',
      'run',
      '--id',
      id,
      '--db',
      dbFile,
      '--schedules',
      file,
      '--alerts',
      `${s.dir}/none.json`,
    ])
    expect(run.code, run.err).toBe(0)
    expect(run.out).toContain(`webhook ${base}/hook`)
    const hook = requests.find((q) => q.path === '/hook')?.body as { report: { markdown: string } }
    expect(hook.report.markdown).toContain('## 会员指标 2026-10')
    const log = await runCli([
      'report',
      'schedule',
      'log',
      '--db',
      dbFile,
      '--schedules',
      file,
      '--lang',
      'zh',
    ])
    expect(log.out).toContain('尝试次数')
    expect(log.out).toMatch(/周报\s+webhook \S+\s+yes|周报\s+webhook \S+\s+是/)
    const none = await runCli([
      'report',
      'schedule',
      'add',
      '--name',
      'x',
      '--cron',
      '0 9 * * *',
      '--db',
      dbFile,
      '--schedules',
      file,
    ])
    expect(none.code).not.toBe(0)
    expect(none.err).toContain('give at least one of --wecom, --dingtalk, --webhook, --email')
    const html = await runCli(['report', '--db', dbFile])
    expect(html.code).not.toBe(0)
    expect(html.err).toContain('--out')
  })
})

describe('/api/v1/report/schedules', () => {
  it('creates, lists, sends now and shows the log; a viewer may only list', async () => {
    requests.length = 0
    const keys = new KeyStore(`${s.dir}/keys.json`, TEST_CLOCK)
    const admin = (await keys.create('admin', 'admin')).secret
    const viewer = (await keys.create('viewer', 'viewer')).secret
    const app = createApp({
      driver: s.db.driver,
      keys,
      clock: TEST_CLOCK,
      schedules: service(`${s.dir}/api-schedules.json`),
      log: () => {},
    })
    const call = (key: string, method: string, url: string, body?: unknown) =>
      app.request(url, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    const input = {
      name: 'weekly',
      cron: '0 9 * * 1',
      lang: 'en',
      targets: [{ kind: 'wecom', url: `${base}/wecom`, keyEnv: 'WECOM_KEY' }],
    }
    expect((await call(viewer, 'POST', '/api/v1/report/schedules', input)).status).toBe(403)
    const created = await call(admin, 'POST', '/api/v1/report/schedules', input)
    expect(created.status).toBe(201)
    const sched = (await created.json()) as { id: string; timezone: string }
    expect(sched.timezone).toBe('Asia/Shanghai')
    const bad = await call(admin, 'POST', '/api/v1/report/schedules', {
      ...input,
      cron: 'every day',
    })
    expect(bad.status).toBe(400)
    const listed = (await (await call(viewer, 'GET', '/api/v1/report/schedules')).json()) as {
      schedules: { id: string }[]
    }
    expect(listed.schedules.map((x) => x.id)).toEqual([sched.id])
    const run = await call(admin, 'POST', `/api/v1/report/schedules/${sched.id}/run`)
    expect(run.status).toBe(200)
    expect(await run.json()).toMatchObject({
      period: '2026-10-01',
      deliveries: [{ target: `wecom ${base}/wecom`, delivered: true, attempts: 1 }],
    })
    const w = requests.find((q) => q.path === '/wecom')?.body as { markdown: { content: string } }
    expect(w.markdown.content).toContain('Member metrics 2026-10')
    const log = (await (await call(admin, 'GET', '/api/v1/report/schedules/log')).json()) as {
      log: { delivered: boolean }[]
    }
    expect(log.log).toHaveLength(1)
    expect((await call(admin, 'DELETE', `/api/v1/report/schedules/${sched.id}`)).status).toBe(200)
    expect((await call(admin, 'POST', `/api/v1/report/schedules/${sched.id}/run`)).status).toBe(404)
  })
})
