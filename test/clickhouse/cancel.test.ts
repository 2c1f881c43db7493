/**
 * Cancelling running queries: `driver.cancel()` makes a running query reject at once on DuckDB and on
 * ClickHouse (chdb), and Ctrl+C in the CLI cancels the running ClickHouse request and exits with 130.
 * The DuckDB query counts through 10^12 rows: without a working cancel it outlives the test timeout. chdb
 * cannot stop an in-process computation (its C interface has no interrupt: the request is abandoned and the
 * count runs on in the background), so its query is long but finite, and must reject rather than finish.
 */
import { spawn } from 'node:child_process'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { createClient } from '@clickhouse/client'
import { createChdbConnection } from 'chdb/connection'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/index.js'
import { QueryError } from '../../src/core/errors.js'
import { ClickHouseDriver } from '../../src/engine/drivers/clickhouse-driver.js'
import type { Driver } from '../../src/engine/drivers/driver.js'
import { DuckDbDriver } from '../../src/duckdb/driver.js'
import { sql, type Fragment } from '../../src/engine/sql/fragment.js'

const BIN = resolve(import.meta.dirname, '../../bin/memberlens.js')

/** Starts `query`, cancels it once it has run for a moment, and returns how it ended. */
async function cancelWhileRunning(driver: Driver, query: Fragment): Promise<unknown> {
  const running = driver.all(query).then(
    () => 'finished',
    (e: unknown) => e,
  )
  await new Promise((ok) => setTimeout(ok, 500))
  driver.cancel()
  return running
}

describe('driver.cancel()', () => {
  it('interrupts a running DuckDB query, and the connection stays usable', async () => {
    const duck = await DuckDbDriver.open({ path: ':memory:', threads: 1 })
    try {
      const ended = await cancelWhileRunning(
        duck,
        sql`SELECT count(*) AS n FROM range(1000000000000) t(x) WHERE x % 7 = 3`,
      )
      expect(ended).toBeInstanceOf(QueryError)
      expect(String((ended as QueryError).cause)).toMatch(/interrupt/i)
      expect(await duck.first(sql`SELECT 42 AS answer`)).toEqual({ answer: 42 })
    } finally {
      await duck.close()
    }
  })

  it('aborts a running ClickHouse query (chdb), and the driver stays usable', async () => {
    type ClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection']
    const connection = createChdbConnection({ path: ':memory:' }) as unknown as ClientConnection
    const ch = ClickHouseDriver.fromClient(createClient({ connection }), { maxThreads: 1 })
    try {
      const ended = await cancelWhileRunning(
        ch,
        sql`SELECT count() AS n FROM numbers(3000000000) WHERE number % 7 = 3`,
      )
      expect(ended).toBeInstanceOf(QueryError)
      expect(await ch.first(sql`SELECT 42 AS answer`)).toEqual({ answer: 42 })
    } finally {
      await ch.close()
    }
  })
})

/**
 * A stand-in ClickHouse server: answers the ping, then holds every query open (a query that runs for ever)
 * and records when the client drops it.
 */
function holdingServer(): {
  server: Server
  queryArrived: Promise<void>
  queryDropped: Promise<void>
} {
  let arrived = () => {}
  let dropped = () => {}
  const queryArrived = new Promise<void>((ok) => (arrived = ok))
  const queryDropped = new Promise<void>((ok) => (dropped = ok))
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/ping')) {
      res.end('Ok.\n')
      return
    }
    req.resume()
    res.on('close', () => {
      if (!res.writableEnded) dropped()
    })
    arrived()
  })
  return { server, queryArrived, queryDropped }
}

describe('Ctrl+C in the CLI', () => {
  let fake: ReturnType<typeof holdingServer>
  let url: string
  beforeAll(async () => {
    fake = holdingServer()
    await new Promise<void>((ok) => fake.server.listen(0, '127.0.0.1', ok))
    url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    fake.server.closeAllConnections()
    await new Promise((ok) => fake.server.close(ok))
  })

  it('in-process: the SIGINT handler aborts the registered engine’s request, and main returns 130', async () => {
    // Were the engine not registered for cancelling, the handler would end the process (process.exit), which
    // fails the test; were the request not aborted, queryDropped would never resolve.
    const own = holdingServer()
    await new Promise<void>((ok) => own.server.listen(0, '127.0.0.1', ok))
    const local = `http://127.0.0.1:${(own.server.address() as AddressInfo).port}`
    try {
      const code = main([
        'node',
        'memberlens',
        'overview',
        '--engine',
        'clickhouse',
        '--url',
        local,
      ])
      await own.queryArrived
      process.emit('SIGINT')
      await own.queryDropped
      expect(await code).toBe(130)
    } finally {
      own.server.closeAllConnections()
      await new Promise((ok) => own.server.close(ok))
    }
  })

  it('cancels the running ClickHouse request and exits with 130 and one line', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'overview', '--engine', 'clickhouse', '--url', url],
      {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    const exited = new Promise<{ code: number | null; signal: string | null }>((ok) =>
      child.on('exit', (code, signal) => ok({ code, signal })),
    )
    await fake.queryArrived
    child.kill('SIGINT')
    await fake.queryDropped
    expect(await exited).toEqual({ code: 130, signal: null })
    expect(stderr).toBe('cancelled\n')
  })
})
