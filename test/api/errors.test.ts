/**
 * Errors in the API's own terms: 415 for a body of the wrong media type, JSON 404 for unknown /api routes
 * even behind the dashboard's page fallback, 400 for impossible dates, the role check before validation,
 * parameter names (never CLI flags), valid values and did-you-mean, and no server paths in messages.
 */
import { tmpdir } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/api/app.js'
import { allows, KeyStore, ROLES, type Role } from '../../src/api/keys.js'
import { fixedClock } from '../../src/core/clock.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let keys: KeyStore
let app: ReturnType<typeof createApp>
const secret: Partial<Record<Role, string>> = {}
const clock = fixedClock('2026-11-01T00:00:00Z')

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
      'order_id,phone,ordered_at,channel,net_amount\nO1,13800138000,2024-01-05,app,100\nO2,13900000000,2024-02-06,store,50\n',
    ),
  )
  keys = new KeyStore(`${s.dir}/keys.json`, clock)
  for (const role of ROLES) secret[role] = (await keys.create(`${role} test`, role)).secret
  app = createApp({
    driver: s.db.driver,
    keys,
    clock,
    rate: { perSecond: 10_000, burst: 10_000 },
    log: () => {},
  })
})
afterAll(async () => {
  await s.cleanup()
})

type ErrorBody = {
  error?: {
    code: string
    message: string
    details?: { issues?: Array<{ field?: string; reason: string; value?: unknown }> }
  }
}
const auth = (role: Role): Record<string, string> => ({ authorization: `Bearer ${secret[role]}` })
const get = (path: string, role: Role) => app.request(path, { headers: auth(role) })
const send = (method: string, path: string, role: Role, body: string, type = 'application/json') =>
  app.request(path, { method, headers: { ...auth(role), 'content-type': type }, body })
const error = async (r: Response) => ((await r.json()) as ErrorBody).error

describe('media type', () => {
  it('answers 415 with a JSON error when a JSON route gets another Content-Type', async () => {
    const filter = JSON.stringify({ filter: { region: ['浙江'] } })
    const ok = await send('POST', '/api/v1/segment-sizes/preview', 'viewer', filter)
    expect(ok.status).toBe(200)
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'text/csv']) {
      const r = await send('POST', '/api/v1/segment-sizes/preview', 'viewer', filter, type)
      expect(r.status).toBe(415)
      expect(r.headers.get('content-type')).toContain('application/json')
      const e = await error(r)
      expect(e?.code).toBe('UNSUPPORTED_MEDIA_TYPE')
      expect(e?.message).toContain(type)
      expect(e?.message).toContain('application/json')
    }
    const segment = JSON.stringify({ name: 'zj', filter: { region: ['浙江'] } })
    const r = await send('POST', '/api/v1/segments', 'operator', segment, 'text/plain')
    expect(r.status).toBe(415)
  })
})

describe('unknown routes', () => {
  it('answers a JSON 404 under /api, even when the host adds a page fallback after the API', async () => {
    const hosted = createApp({
      driver: s.db.driver,
      keys,
      clock,
      rate: { perSecond: 10_000, burst: 10_000 },
      log: () => {},
    })
    // What `memberlens serve` adds for the dashboard: every other GET answers the page.
    hosted.get('/*', (c) => c.html('<!doctype html><title>dashboard</title>'))
    for (const path of ['/api/v1/nope', '/api/v2/metrics', '/api/v1/metrics/nope/deeper']) {
      const r = await hosted.request(path, { headers: auth('analyst') })
      expect(r.status).toBe(404)
      expect(r.headers.get('content-type')).toContain('application/json')
      const e = await error(r)
      expect(e?.code).toBe('NOT_FOUND')
      expect(e?.message).toContain(path)
    }
    const wrongMethod = await hosted.request('/api/v1/metrics', {
      method: 'DELETE',
      headers: auth('admin'),
    })
    expect(wrongMethod.status).toBe(404)
    expect((await error(wrongMethod))?.code).toBe('NOT_FOUND')
    // The fallback still serves the dashboard's own paths, and real API routes still answer.
    expect(await (await hosted.request('/segments')).text()).toContain('dashboard')
    expect((await hosted.request('/api/v1/metrics', { headers: auth('viewer') })).status).toBe(200)
  })
})

describe('dates', () => {
  it('answers 400 naming the parameter for dates the calendar does not have', async () => {
    const cases = [
      ['/api/v1/tree?period=2026-13', 'period'],
      ['/api/v1/tree?period=2026-02-30', 'period'],
      ['/api/v1/metrics/query?metrics=orders&from=2024-00&to=2024-02', 'from'],
      ['/api/v1/overview?month=2024-13', 'month'],
      ['/api/v1/rfm/grid?asOf=2024-02-30', 'asOf'],
      ['/api/v1/lifecycle/sizes?from=2024-13&to=2025-01', 'from'],
    ] as const
    for (const [path, field] of cases) {
      const r = await get(path, 'viewer')
      expect(r.status, path).toBe(400)
      const e = await error(r)
      expect(e?.code).toBe('INPUT_INVALID')
      expect(e?.details?.issues?.map((i) => i.field)).toContain(field)
      expect(e?.details?.issues?.[0]?.reason).toContain('calendar date')
    }
    expect((await get('/api/v1/tree?period=2024-02', 'viewer')).status).toBe(200)
    expect((await get('/api/v1/tree?period=2024-02-29', 'viewer')).status).toBe(200)
  })
})

describe('role before validation', () => {
  it('answers 403, not 400, to a role without the scope whatever it sends', async () => {
    const junk = '{"filter": {"nope": 1}, "extra": true}'
    expect((await send('POST', '/api/v1/segments', 'viewer', junk)).status).toBe(403)
    expect((await send('POST', '/api/v1/segments', 'analyst', 'not json')).status).toBe(403)
    expect((await send('PUT', '/api/v1/segments/bad%20name!', 'analyst', junk)).status).toBe(403)
    expect((await send('POST', '/api/v1/ingest/nope', 'operator', junk)).status).toBe(403)
    expect((await send('POST', '/api/v1/keys', 'operator', '{}')).status).toBe(403)
    expect((await get('/api/v1/audit?limit=-5', 'operator')).status).toBe(403)
    expect((await get('/api/v1/risk?limit=abc', 'viewer')).status).toBe(403)
    // With the scope, the same junk is a 400 naming what is wrong.
    expect((await send('POST', '/api/v1/segments', 'operator', junk)).status).toBe(400)
  })

  it('declares a scope on every /api operation and checks it before parameters and body', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { 'x-scope'?: string }>>
    }
    let checked = 0
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/')) continue
      for (const [method, op] of Object.entries(ops)) {
        if (path === '/api/v1/whoami') continue
        expect(op['x-scope'], `${method} ${path}`).toBeDefined()
        const scope = op['x-scope'] as Parameters<typeof allows>[1]
        // Parameters that fail every schema: a path segment no pattern accepts, a query of junk.
        const url = `${path.replace(/\{[^}]+\}/g, '%00bad%20')}?limit=-1&from=2026-13&asOf=x&format=x`
        for (const role of ROLES) {
          if (allows(role, scope)) continue
          const r = await app.request(url, {
            method: method.toUpperCase(),
            headers: { ...auth(role), 'content-type': 'application/json' },
            ...(method === 'get' ? {} : { body: '{"unexpected": [' }),
          })
          expect(r.status, `${role} ${method} ${path}`).toBe(403)
          expect((await error(r))?.code).toBe('FORBIDDEN')
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThan(40)
  })
})

type Issue = { field?: string; reason: string; value?: unknown; allowed?: string[] }
const issuesOf = async (r: Response) => {
  const e = await error(r)
  return { e, issues: (e?.details?.issues ?? []) as Issue[] }
}
/** A CLI flag in an API message: `--from`, `--where`… */
const FLAG = /(^|[\s"'`(])--[a-z]/

describe('parameter names, accepted values and did-you-mean', () => {
  it('names API parameters, never CLI flags, in every metric query error', async () => {
    const cases: Array<[string, string]> = [
      ['metrics=net_revnue&from=2024-01&to=2024-02', 'metrics'],
      ['metrics=orders&from=2024-03&to=2024-01', 'to'],
      ['metrics=orders&from=2024-01&to=2024-02&where=region', 'where'],
      ['metrics=orders&from=2024-01&to=2024-02&where=regoin%3Dx', 'where'],
      ['metrics=orders&from=2024-01&to=2024-02&by=regoin', 'by'],
      ['metrics=orders&from=2024-01&to=2024-02&tz=Mars/Olympus_Mons', 'tz'],
      ['metrics=orders&from=2024-01&to=2024-02&grain=fortnight', 'grain'],
      ['metrics=registration_conversion&from=2024-01&to=2024-02&where=region%3Dx', 'where'],
    ]
    for (const [query, field] of cases) {
      const r = await get(`/api/v1/metrics/query?${query}`, 'viewer')
      expect(r.status, query).toBe(400)
      const { e, issues } = await issuesOf(r)
      expect(
        issues.map((i) => i.field),
        query,
      ).toContain(field)
      expect(e?.message, query).not.toMatch(FLAG)
      expect(JSON.stringify(issues), query).not.toMatch(FLAG)
      expect(e?.message, query).not.toBe('invalid request')
    }
  })

  it('suggests the nearest metric and lists the valid ones for an unknown metric', async () => {
    const r = await get(
      '/api/v1/metrics/query?metrics=net_revnue&from=2024-01&to=2024-02',
      'viewer',
    )
    const { e, issues } = await issuesOf(r)
    expect(e?.message).toBe('metrics "net_revnue": unknown metric; did you mean net_revenue?')
    expect(issues[0]?.allowed).toContain('net_revenue')
    expect(issues[0]?.allowed).toContain('orders')
    // Nothing near: no guess, still the list.
    const far = await issuesOf(
      await get('/api/v1/metrics/query?metrics=zzzzzzzz&from=2024-01&to=2024-02', 'viewer'),
    )
    expect(far.e?.message).toBe('metrics "zzzzzzzz": unknown metric')
    expect(far.issues[0]?.allowed?.length).toBeGreaterThan(20)
    // The drivers route names its metric parameters core and candidates.
    const d = await issuesOf(
      await get('/api/v1/drivers?core=net_revnue&from=2024-01&to=2024-02', 'viewer'),
    )
    expect(d.issues[0]?.field).toBe('core')
    expect(d.e?.message).toContain('did you mean net_revenue?')
    const c = await issuesOf(
      await get(
        '/api/v1/drivers?core=net_revenue&candidates=orders,aovv&from=2024-01&to=2024-02',
        'viewer',
      ),
    )
    expect(c.issues[0]?.field).toBe('candidates')
    expect(c.e?.message).toContain('did you mean aov?')
  })

  it('suggests the nearest dimension and lists accepted values of schema enums', async () => {
    const by = await issuesOf(
      await get('/api/v1/metrics/query?metrics=orders&from=2024-01&to=2024-02&by=regoin', 'viewer'),
    )
    expect(by.e?.message).toContain('did you mean region?')
    expect(by.issues[0]?.allowed).toContain('registration_channel')
    const grain = await issuesOf(
      await get(
        '/api/v1/metrics/query?metrics=orders&from=2024-01&to=2024-02&grain=fortnight',
        'viewer',
      ),
    )
    expect(grain.issues[0]).toMatchObject({
      field: 'grain',
      allowed: ['day', 'week', 'month', 'quarter', 'year'],
    })
    expect(grain.e?.message).toMatch(/^grain: /)
  })

  it('gives the segment builder the reason a name or filter is refused', async () => {
    const r = await send(
      'POST',
      '/api/v1/segments',
      'operator',
      JSON.stringify({ name: 'VIP 客户!', filter: { region: ['浙江'] }, colour: 'red' }),
    )
    expect(r.status).toBe(400)
    const { e, issues } = await issuesOf(r)
    expect(e?.message).toContain('name: letters, digits, _ . -')
    expect(e?.message).toContain('unknown field colour')
    expect(issues.map((i) => i.field)).toEqual(expect.arrayContaining(['name', 'body']))
  })

  it('the CLI keeps naming its flags for the same engine errors', async () => {
    const { runMetrics } = await import('../../src/engine/metrics/run.js')
    const { inTermsOf } = await import('../../src/core/error-terms.js')
    const { CLI_FIELD_NAMES } = await import('../../src/cli/output.js')
    const { API_FIELD_NAMES } = await import('../../src/api/error-handler.js')
    const failure = await runMetrics(s.db.driver, {
      metrics: ['orders'],
      from: '2024-03',
      to: '2024-01',
      where: [],
    }).catch((e: unknown) => e)
    expect((inTermsOf(failure, CLI_FIELD_NAMES) as Error).message).toBe(
      '--to "2024-01": is before the start of the range (2024-03)',
    )
    expect((inTermsOf(failure, API_FIELD_NAMES) as Error).message).toBe(
      'to "2024-01": is before the start of the range (2024-03)',
    )
    const where = await runMetrics(s.db.driver, {
      metrics: ['orders'],
      from: '2024-01',
      to: '2024-01',
      where: ['no condition'],
    }).catch((e: unknown) => e)
    expect((inTermsOf(where, CLI_FIELD_NAMES) as Error).message).toMatch(/^--where "no condition"/)
    expect((inTermsOf(where, API_FIELD_NAMES) as Error).message).toMatch(/^where "no condition"/)
    // A misspelt dimension inside a filter is the filter's problem; inside by, the split's.
    const inWhere = await runMetrics(s.db.driver, {
      metrics: ['orders'],
      from: '2024-01',
      to: '2024-01',
      where: ['regoin=浙江'],
    }).catch((e: unknown) => e)
    expect((inTermsOf(inWhere, CLI_FIELD_NAMES) as Error).message).toMatch(
      /^--where "regoin": did you mean region\?/,
    )
    const inBy = await runMetrics(s.db.driver, {
      metrics: ['orders'],
      from: '2024-01',
      to: '2024-01',
      by: ['regoin'],
    }).catch((e: unknown) => e)
    expect((inTermsOf(inBy, CLI_FIELD_NAMES) as Error).message).toMatch(/^--by "regoin"/)
    // The tree's period, which the CLI takes as --period.
    const { evaluateTree, DEFAULT_TREE } = await import('../../src/engine/metrics/tree.js')
    const tree = await evaluateTree(s.db.driver, DEFAULT_TREE, { period: '2026-13' }).catch(
      (e: unknown) => e,
    )
    expect((inTermsOf(tree, CLI_FIELD_NAMES) as Error).message).toMatch(/^--period "2026-13": /)
    // What the CLI prints: its flag, and the accepted values on a line of their own.
    const { reportError } = await import('../../src/cli/output.js')
    const grain = await runMetrics(s.db.driver, {
      metrics: ['orders'],
      from: '2024-01',
      to: '2024-01',
      grain: 'fortnight' as 'month',
    }).catch((e: unknown) => e)
    const printed: string[] = []
    const write = process.stderr.write.bind(process.stderr)
    process.stderr.write = ((chunk: string) => {
      printed.push(String(chunk))
      return true
    }) as typeof process.stderr.write
    try {
      expect(reportError(grain, {})).toBe(2)
      expect(reportError(failure, {})).toBe(2)
    } finally {
      process.stderr.write = write
    }
    const text = printed.join('')
    expect(text).toContain('--grain "fortnight": one of day, week, month, quarter, year')
    expect(text).toContain('accepted: day, week, month, quarter, year')
    expect(text).toContain('--to "2024-01": is before the start of the range (2024-03)')
  })
})

describe('no server paths', () => {
  it('names the uploaded file, never the server’s temporary path, in ingest errors', async () => {
    const bad: Array<[string, string]> = [
      [
        'orders.csv',
        'order_id,phone,ordered_at,channel,net_amount\nO9,13800138000,2024-01-05,app,"100\n',
      ],
      [
        'orders.csv',
        'order_id,phone,ordered_at,channel,net_amount\r\nO9,13800138000,2024-01-05,app,100\nO10,13800138000,2024-01-06,app,abc\n',
      ],
      [
        'orders.csv',
        'order_id,phone,ordered_at,channel,net_amount\nO9,13800138000,not a date,app,100\n',
      ],
    ]
    let named = 0
    for (const [name, content] of bad) {
      const form = new FormData()
      form.append('file', new File([content], name, { type: 'text/csv' }))
      const r = await app.request('/api/v1/ingest/orders/file', {
        method: 'POST',
        headers: auth('admin'),
        body: form,
      })
      expect(r.status).toBe(400)
      const text = await r.text()
      expect(text).not.toContain('memberlens-upload-')
      expect(text).not.toContain(tmpdir())
      expect(text).not.toContain('upload.csv')
      if (text.includes(name)) named++
    }
    expect(named).toBe(bad.length)
    // A JSON batch: its problems are named by record.
    const batch = await send(
      'POST',
      '/api/v1/ingest/orders',
      'admin',
      JSON.stringify({
        records: [
          { order_id: 'O9', phone: '13800138000', ordered_at: 'x', channel: 'app', net_amount: 1 },
        ],
      }),
    )
    expect(batch.status).toBe(400)
    const e = await error(batch)
    expect(e?.message).not.toContain(tmpdir())
    expect(e?.message).toMatch(/^records: /)
    expect(e?.details?.issues?.[0]).toMatchObject({ file: 'records', line: 1, field: 'ordered_at' })
    // Load options keep their own names: this route's parameter is timezone, not the metric routes' tz.
    const tz = await app.request('/api/v1/ingest/orders/file?timezone=Mars/Olympus_Mons', {
      method: 'POST',
      headers: { ...auth('admin'), 'content-type': 'text/csv' },
      body: 'order_id,phone,ordered_at,channel,net_amount\nO9,13800138000,2024-01-05,app,1\n',
    })
    expect(tz.status).toBe(400)
    expect((await error(tz))?.message).toMatch(/^timezone "Mars\/Olympus_Mons": unknown time zone/)
  })
})

describe('the dashboard shows the server’s reason', () => {
  it('turns the segment builder’s refused save into the server’s message and problems', async () => {
    const { apiErrorOf } = await import('../../web/src/api-error.js')
    const r = await send(
      'POST',
      '/api/v1/segments',
      'operator',
      JSON.stringify({ name: 'VIP 客户!', filter: { region: ['浙江'] } }),
    )
    const shown = apiErrorOf(r.status, r.statusText, await r.json(), '可选值')
    expect(shown.status).toBe(400)
    expect(shown.code).toBe('INPUT_INVALID')
    expect(shown.message).toContain('name: letters, digits, _ . -')
    expect(shown.message).not.toContain('invalid request')
    // The accepted values the server lists follow the reason, in the page's language.
    const m = await get(
      '/api/v1/metrics/query?metrics=orders&from=2024-01&to=2024-02&grain=x',
      'viewer',
    )
    const grain = apiErrorOf(m.status, m.statusText, await m.json(), '可选值')
    expect(grain.message).toContain('grain 可选值: day, week, month, quarter, year')
  })

  it('adds the problems a terse message leaves out, and falls back to the status without JSON', async () => {
    const { apiErrorOf } = await import('../../web/src/api-error.js')
    const terse = apiErrorOf(400, 'Bad Request', {
      error: {
        code: 'INPUT_INVALID',
        message: 'invalid request',
        details: { issues: [{ field: 'name', value: 'a b', reason: 'letters, digits, _ . -' }] },
      },
    })
    expect(terse.message).toBe('invalid request; name "a b": letters, digits, _ . -')
    expect(apiErrorOf(502, 'Bad Gateway', {}).message).toBe('502 Bad Gateway')
    expect(apiErrorOf(500, '', null).message).toBe('500')
  })
})
