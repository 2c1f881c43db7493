/**
 * `memberlens serve` over real HTTP on 127.0.0.1 with a ledger, an audit database and alerts delivered to a
 * local webhook receiver, and `memberlens alerts …` sharing the same alerts file.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { KeyStore } from '../../src/api/keys.js'
import { main } from '../../src/cli/index.js'
import { startServer } from '../../src/cli/server.js'
import { systemClock } from '../../src/core/clock.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { openDatabase } from '../../src/store/database.js'
import { TEST_CLOCK } from '../helpers/db.js'

let dir = ''
let dbPath = ''
let receiver: Server
let hookUrl = ''
const received: Array<{ alert: Record<string, unknown> }> = []

/** Runs the CLI in-process and returns its exit code and what it printed. */
async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  let out = ''
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk)
    return true
  })
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  try {
    const code = await main(['node', 'memberlens', ...args])
    return { code, out }
  } finally {
    spy.mockRestore()
    err.mockRestore()
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-serve-'))
  dbPath = join(dir, 'm.duckdb')
  const db = await openDatabase(dbPath)
  await writeFile(
    join(dir, 'members.csv'),
    'phone,registered_at\n13800138000,2024-01-01\n13900000000,2024-01-02\n',
  )
  await writeFile(
    join(dir, 'orders.csv'),
    'order_id,phone,ordered_at,channel,net_amount\nO1,13800138000,2024-01-05,app,100\nO2,13900000000,2024-01-31,app,50\nO3,13800138000,2024-02-10,app,30\n',
  )
  await ingestFile(db.driver, join(dir, 'members.csv'), { table: 'members', clock: TEST_CLOCK })
  await ingestFile(db.driver, join(dir, 'orders.csv'), { table: 'orders', clock: TEST_CLOCK })
  await db.close()
  receiver = createServer((req, res) => {
    let b = ''
    req.on('data', (c: Buffer) => (b += c.toString()))
    req.on('end', () => {
      received.push(JSON.parse(b) as { alert: Record<string, unknown> })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', () => ok()))
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`
})
afterAll(async () => {
  await new Promise<void>((ok) => receiver.close(() => ok()))
  await rm(dir, { recursive: true, force: true })
})

describe('alerts CLI and serve', () => {
  it('adds, lists and refuses ambiguous rules from the CLI', async () => {
    const add = await cli(
      'alerts',
      'add',
      '--db',
      dbPath,
      '--name',
      'Revenue under 100',
      '--metric',
      'net_revenue',
      '--below',
      '100',
      '--json',
    )
    expect(add.code).toBe(0)
    expect(JSON.parse(add.out)).toMatchObject({
      metric: 'net_revenue',
      condition: { kind: 'threshold', op: '<', value: 100 },
    })
    expect(existsSync(join(dir, 'memberlens.alerts.json'))).toBe(true)
    const both = await cli(
      'alerts',
      'add',
      '--db',
      dbPath,
      '--name',
      'x',
      '--metric',
      'orders',
      '--above',
      '1',
      '--below',
      '2',
    )
    expect(both.code).toBe(2)
    const list = await cli('alerts', 'list', '--db', dbPath, '--json')
    expect((JSON.parse(list.out) as { rules: unknown[] }).rules).toHaveLength(1)
  })

  it('records key changes made on the command line in the audit log', async () => {
    const made = await cli(
      'keys',
      'create',
      '--db',
      dbPath,
      '--name',
      'bi',
      '--role',
      'viewer',
      '--json',
    )
    expect(made.code).toBe(0)
    const id = (JSON.parse(made.out) as { id: string }).id
    expect((await cli('keys', 'revoke', id, '--db', dbPath)).code).toBe(0)
  })

  it('serves loyalty writes, audits them, and evaluates alerts after an ingest', async () => {
    const keys = new KeyStore(join(dir, 'memberlens.keys.json'), systemClock)
    const { secret } = await keys.create('ops', 'admin')
    const server = await startServer({
      db: dbPath,
      host: '127.0.0.1',
      port: 0,
      ledger: 'memory://',
      program: resolve(import.meta.dirname, '../../examples/loyalty-program.yaml'),
      webhook: hookUrl,
      alertsEvery: 0,
    })
    try {
      const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }
      const enroll = await fetch(`${server.url}/api/v1/loyalty/enroll`, {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': 'enroll-1' },
        body: JSON.stringify({ memberId: '1' }),
      })
      expect(enroll.status).toBe(200)
      // January is the last complete month: revenue 150, no alert yet.
      const first = await fetch(`${server.url}/api/v1/alerts/evaluate`, { method: 'POST', headers })
      expect(((await first.json()) as { fired: unknown[] }).fired).toEqual([])
      // An order on the last day of February completes it: revenue 40 < 100 fires.
      const ingest = await fetch(`${server.url}/api/v1/ingest/orders`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          records: [
            {
              order_id: 'O4',
              phone: '13900000000',
              ordered_at: '2024-02-29 12:00:00',
              channel: 'app',
              net_amount: 10,
            },
          ],
        }),
      })
      expect(await ingest.json()).toMatchObject({ rowsInserted: 1, alertsFired: 1 })
      expect(received.map((r) => [r.alert['label'], r.alert['value'], r.alert['trigger']])).toEqual(
        [['2024-02', 40, 'ingest']],
      )
      const audit = (await (await fetch(`${server.url}/api/v1/audit`, { headers })).json()) as {
        entries: Array<{ route: string; keyName: string }>
      }
      expect(audit.entries.map((e) => e.route)).toEqual(
        expect.arrayContaining([
          '/api/v1/loyalty/enroll',
          '/api/v1/ingest/orders',
          'keys create',
          'keys revoke',
        ]),
      )
    } finally {
      await server.close()
    }
    expect(existsSync(join(dir, 'memberlens.audit.duckdb'))).toBe(true)
  })

  it('shows the alert history and evaluates from the CLI without firing twice', async () => {
    const history = await cli('alerts', 'history', '--db', dbPath, '--json')
    expect(
      (JSON.parse(history.out) as { alerts: Array<{ label: string }> }).alerts.map((a) => a.label),
    ).toEqual(['2024-02'])
    const ev = await cli('alerts', 'evaluate', '--db', dbPath, '--webhook', hookUrl, '--json')
    expect(ev.code).toBe(0)
    expect((JSON.parse(ev.out) as { fired: unknown[] }).fired).toEqual([])
    expect(received).toHaveLength(1)
    const rules = JSON.parse((await cli('alerts', 'list', '--db', dbPath, '--json')).out) as {
      rules: Array<{ id: string }>
    }
    expect((await cli('alerts', 'remove', rules.rules[0]?.id ?? '', '--db', dbPath)).code).toBe(0)
    expect((await cli('alerts', 'remove', 'ffffffff', '--db', dbPath)).code).toBe(3)
  })
})
