/**
 * Two processes, one embedded ledger directory: a real `memberlens serve --ledger DIR` child and a real
 * `memberlens points earn --ledger DIR` child. The CLI is refused at once with one line naming the server
 * (pid and address), never hanging; the server keeps answering; after it stops, every earn it acknowledged
 * is in the ledger and the directory is free again.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findRequest } from '../../src/ledger/ledger.repository.js'
import { LOCK_FILE } from '../../src/ledger/stores/dir-lock.js'
import { openLedgerStore } from '../../src/ledger/stores/open-store.js'
import { openDatabase } from '../../src/store/database.js'
import { runCli } from '../helpers/cli.js'

const REPO = resolve(import.meta.dirname, '../..')
const BIN = join(REPO, 'bin/memberlens.js')
const PROGRAM = join(REPO, 'examples/loyalty-program.yaml')

let dir = ''
let dbPath = ''
let ledgerDir = ''
let secret = ''
let server: ChildProcess | undefined

/** Runs the CLI in-process; returns its exit code and what it printed. */
const cli = (...args: string[]) => runCli(args)

/** Runs the CLI as its own process (as a user would), with a time limit: a hang fails the test. */
function cliProcess(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((ok) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: REPO, timeout: 90_000, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code =
          error === null ? 0 : typeof error.code === 'number' ? error.code : (error.signal ?? -1)
        ok({ code: Number(code), out: stdout, err: stderr })
      },
    )
  })
}

/** Starts `memberlens serve` as a child process and resolves with its base URL once it listens. */
function startServe(): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'serve',
        '--db',
        dbPath,
        '--ledger',
        ledgerDir,
        '--program',
        PROGRAM,
        '--port',
        '0',
        '--alerts-every',
        '0',
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    )
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => fail(new Error(`serve did not start: ${stderr}`)), 90_000)
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const m = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/docs/.exec(line)
      if (m) {
        clearTimeout(timer)
        ok({ child, url: m[1] as string })
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      fail(new Error(`serve exited with ${code}: ${stderr}`))
    })
  })
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-two-'))
  dbPath = join(dir, 'm.duckdb')
  ledgerDir = join(dir, 'ledger')
  const db = await openDatabase(dbPath)
  await db.close()
  const key = await cli(
    'keys',
    'create',
    '--name',
    'till',
    '--role',
    'operator',
    '--db',
    dbPath,
    '--json',
  )
  expect(key.code, key.err).toBe(0)
  secret = (JSON.parse(key.out) as { secret: string }).secret
})
afterAll(async () => {
  if (server && server.exitCode === null) server.kill('SIGKILL')
  await rm(dir, { recursive: true, force: true })
})

describe('serve and the CLI on one embedded ledger directory', () => {
  it('refuses the CLI with one line naming the server, loses no acknowledged write, and frees the directory', async () => {
    const started = await startServe()
    server = started.child
    const { url } = started
    const post = (path: string, key: string, body: unknown) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${secret}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify(body),
      })
    const earn = (order: string) =>
      post('/api/v1/loyalty/earn', `order-${order}`, {
        type: 'order',
        memberId: '42',
        orderId: order,
        amount: '100',
        channel: 'store',
      })
    expect((await post('/api/v1/loyalty/enroll', 'enroll-42', { memberId: '42' })).status).toBe(200)
    const acknowledged: string[] = []
    const first = await earn('S1')
    expect(first.status).toBe(200)
    acknowledged.push('order-S1')

    const refused = await cliProcess(
      'points',
      'earn',
      '42',
      '--order',
      'C1',
      '--amount',
      '50',
      '--key',
      'order-C1',
      '--ledger',
      ledgerDir,
      '--program',
      PROGRAM,
    )
    expect(refused.code).not.toBe(0)
    expect(refused.out).toBe('')
    const lines = refused.err.trim().split('\n')
    expect(lines, refused.err).toHaveLength(1)
    expect(lines[0]).toContain(
      `error: ledger directory ${ledgerDir} is in use by memberlens serve at ${url} (pid ${server.pid},`,
    )
    expect(lines[0]).toMatch(/stop the server, or send the operation through its API/)

    // The server kept answering, and its ledger is intact.
    for (const order of ['S2', 'S3']) {
      const r = await earn(order)
      expect(r.status).toBe(200)
      acknowledged.push(`order-${order}`)
    }
    const balance = await fetch(`${url}/api/v1/loyalty/members/42/balance`, {
      headers: { authorization: `Bearer ${secret}` },
    })
    expect(balance.status).toBe(200)

    const exited = new Promise<number | null>((ok) => server?.once('exit', (code) => ok(code)))
    server.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(existsSync(join(ledgerDir, LOCK_FILE))).toBe(false)

    // Every acknowledged earn is there; the refused one is not; and the CLI can now write.
    const after = await cli(
      'points',
      'earn',
      '42',
      '--order',
      'C1',
      '--amount',
      '50',
      '--key',
      'order-C1',
      '--ledger',
      ledgerDir,
      '--program',
      PROGRAM,
      '--json',
    )
    expect(after.code, after.err).toBe(0)
    const store = await openLedgerStore(ledgerDir)
    try {
      for (const key of acknowledged)
        expect(await findRequest(store, key), `acknowledged ${key} is missing`).toBeDefined()
      const orders = await store.query<{ order_id: string }>(
        'SELECT order_id FROM ledger_orders ORDER BY order_id',
      )
      expect(orders.map((o) => o.order_id)).toEqual(['C1', 'S1', 'S2', 'S3'])
    } finally {
      await store.close()
    }
  })
})
