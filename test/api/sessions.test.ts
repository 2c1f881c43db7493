/**
 * Each API request reads the member database on a session of its own, lent from a bounded pool, so the query
 * time limit stops the request that ran over it and nothing else (before sessions, one shared connection meant
 * a timeout interrupted whichever request happened to be running), concurrent requests run side by side, and a
 * request whose client goes away has its query interrupted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono, type Context } from 'hono'
import { createContext, type ApiContext } from '../../src/api/context.js'
import { ApiError } from '../../src/api/error-handler.js'
import { KeyStore } from '../../src/api/keys.js'
import { QueryError } from '../../src/core/errors.js'
import { sql } from '../../src/engine/sql/fragment.js'
import { AuditLog } from '../../src/duckdb/audit-log.js'
import { scratch, TEST_CLOCK } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let ctx: ApiContext

/** A query that runs for minutes unless interrupted. */
const ENDLESS = sql`SELECT sum(i * i) AS v FROM range(100000000000) t(i)`
/** A query that takes a noticeable moment and then answers. */
const MOMENT = sql`SELECT sum(i) AS v FROM range(50000000) t(i)`
/** A query that outlasts the 300 ms time limit (about 1.5 s here) and then answers. */
const LONG = sql`SELECT sum(i) AS v FROM range(500000000) t(i)`
const LONG_SUM = (500_000_000 * 499_999_999) / 2

beforeAll(async () => {
  s = await scratch()
  ctx = createContext({
    driver: s.db.driver,
    clock: TEST_CLOCK,
    keys: new KeyStore(`${s.dir}/keys.json`, TEST_CLOCK),
    audit: new AuditLog(':memory:', TEST_CLOCK),
    queryTimeoutMs: 300,
    connections: 2,
    maxRows: 100,
    log: () => undefined,
  })
})
afterAll(async () => {
  await s.cleanup()
})

/**
 * Serves one "request": `handler` runs inside the session middleware, as a route handler does; `signal` is the
 * request's, which the HTTP server aborts when the client disconnects.
 */
async function request<T>(handler: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  let result: T | undefined
  const raw = new Request('http://127.0.0.1/api/v1/x', signal === undefined ? {} : { signal })
  await ctx.session({ req: { raw } } as unknown as Context, async () => {
    result = await handler()
  })
  return result as T
}

/** Resolves when `p` settles, to whether it had settled within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false
  void p.then(
    () => (done = true),
    () => (done = true),
  )
  const until = Date.now() + ms
  while (!done && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
  return done
}

describe('API database sessions', () => {
  it('give each request its own connection: a timed-out request leaves a concurrent one running', async () => {
    // B's query starts first and outlasts A's time limit; A's query starts while B's runs. On one shared
    // connection A's query would wait behind B's, and A's timeout would interrupt B's query instead.
    const b = request(() => ctx.driver.first<{ v: unknown }>(LONG))
    await new Promise((r) => setTimeout(r, 50))
    const a = request(() => ctx.timed(() => ctx.driver.first(ENDLESS)))
    const [ra, rb] = await Promise.allSettled([a, b])
    expect(ra.status).toBe('rejected')
    expect((ra as PromiseRejectedResult).reason).toBeInstanceOf(ApiError)
    expect(((ra as PromiseRejectedResult).reason as ApiError).code).toBe('QUERY_TIMEOUT')
    expect(rb.status).toBe('fulfilled')
    expect(Number((rb as PromiseFulfilledResult<{ v: unknown }>).value.v)).toBe(LONG_SUM)
  })

  it('are separate connections of one database: cancelling one session stops only its own query', async () => {
    const a = s.db.driver.session()
    const b = s.db.driver.session()
    try {
      const endless = a.first(ENDLESS)
      const moment = b.first<{ v: unknown }>(MOMENT)
      setTimeout(() => a.cancel(), 150)
      await expect(endless).rejects.toBeInstanceOf(QueryError)
      expect(Number((await moment)?.v)).toBe((50_000_000 * 49_999_999) / 2)
      // The cancelled session still works afterwards.
      expect(await a.first(sql`SELECT 1 AS one`)).toEqual({ one: 1 })
    } finally {
      await a.close()
      await b.close()
    }
    // A closed session refuses work; the database itself stays open.
    await expect(a.first(sql`SELECT 1 AS one`)).rejects.toThrow(/closed/)
    expect(await s.db.driver.first(sql`SELECT 2 AS two`)).toEqual({ two: 2 })
  })

  it('outside a request, the context reads the server driver', async () => {
    expect(ctx.driver).toBe(s.db.driver)
    let inside: unknown
    await request(async () => {
      inside = ctx.driver
    })
    expect(inside).not.toBe(s.db.driver)
  })

  it('run two slow queries at once: a second request answers while the first still runs', async () => {
    const first = new AbortController()
    const endless = request(() => ctx.driver.first(ENDLESS), first.signal)
    await new Promise((r) => setTimeout(r, 100))
    expect(ctx.pool.stats.lent).toBe(1)
    // On one connection this would wait for the endless query; on its own session it answers.
    const moment = await request(() => ctx.driver.first<{ v: unknown }>(MOMENT))
    expect(Number(moment?.v)).toBe((50_000_000 * 49_999_999) / 2)
    expect(await settlesWithin(endless, 0)).toBe(false)
    first.abort()
    await expect(endless).rejects.toThrow()
  })

  it("interrupt an aborted request's query, refuse its later statements, and lend the session again", async () => {
    const client = new AbortController()
    let statements = 0
    const served = request(async () => {
      await ctx.driver.first(ENDLESS).catch(() => undefined)
      statements++
      // A handler that carries on after its query failed is refused at its next statement.
      return ctx.driver.first(sql`SELECT 1 AS one`)
    }, client.signal)
    await new Promise((r) => setTimeout(r, 150))
    client.abort()
    // Interrupted within moments, not after the minutes the query would take.
    expect(await settlesWithin(served, 5000)).toBe(true)
    await expect(served).rejects.toThrow(/cancelled/)
    expect(statements).toBe(1)
    expect(ctx.pool.stats).toMatchObject({ lent: 0, waiting: 0 })
    expect(ctx.pool.stats.idle).toBeGreaterThanOrEqual(1)
    // The session goes back clean: the next request on it runs normally.
    expect(await request(() => ctx.driver.first(sql`SELECT 2 AS two`))).toEqual({ two: 2 })
  })

  it('hand a reused session to the next request without the temporary tables the last one left', async () => {
    let first: unknown
    await request(async () => {
      first = ctx.driver
      await ctx.driver.execute(sql`CREATE TEMP TABLE left_behind AS SELECT 1 AS x`)
    })
    let second: unknown
    const seen = await request(async () => {
      second = ctx.driver
      return ctx.driver.all(
        sql`SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name = 'left_behind'`,
      )
    })
    expect(second).toBe(first)
    expect(seen).toEqual([])
  })

  it('lend at most `connections` sessions: a third request waits, and leaves the queue when aborted', async () => {
    const a = new AbortController()
    const b = new AbortController()
    const c = new AbortController()
    const ra = request(() => ctx.driver.first(ENDLESS), a.signal)
    const rb = request(() => ctx.driver.first(ENDLESS), b.signal)
    const both = Promise.allSettled([ra, rb])
    await new Promise((r) => setTimeout(r, 100))
    let thirdRan = false
    const rc = request(async () => {
      thirdRan = true
      return ctx.driver.first(sql`SELECT 3 AS three`)
    }, c.signal)
    await new Promise((r) => setTimeout(r, 100))
    expect(ctx.pool.stats).toMatchObject({ lent: 2, waiting: 1 })
    c.abort()
    await expect(rc).rejects.toThrow(/cancelled/)
    expect(thirdRan).toBe(false)
    expect(ctx.pool.stats.waiting).toBe(0)
    // A request waiting when a session comes back gets it.
    const rd = request(() => ctx.driver.first<{ four: number }>(sql`SELECT 4 AS four`))
    a.abort()
    expect(await rd).toEqual({ four: 4 })
    b.abort()
    expect((await both).map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(ctx.pool.stats).toMatchObject({ lent: 0, waiting: 0 })
  })

  it('stop a timed-out request between statements too: work it starts after the limit is refused', async () => {
    // The limit (300 ms) passes while no statement runs (an interrupt then would be lost); the next statement,
    // which would run for minutes, is refused at once and the request answers 504.
    let started = 0
    const served = request(() =>
      ctx.timed(async () => {
        await new Promise((r) => setTimeout(r, 400))
        started++
        return ctx.driver.first(ENDLESS)
      }),
    )
    expect(await settlesWithin(served, 5000)).toBe(true)
    const error = await served.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).code).toBe('QUERY_TIMEOUT')
    expect(started).toBe(1)
    // The session goes back to the pool unstopped.
    expect(await request(() => ctx.driver.first(sql`SELECT 5 AS five`))).toEqual({ five: 5 })
    expect(ctx.pool.stats).toMatchObject({ lent: 0, waiting: 0 })
  })

  it('wait for a session at most the time limit: 504 saying the server is busy, the queue left', async () => {
    const a = new AbortController()
    const b = new AbortController()
    const held = Promise.allSettled([
      request(() => ctx.driver.first(ENDLESS), a.signal),
      request(() => ctx.driver.first(ENDLESS), b.signal),
    ])
    await new Promise((r) => setTimeout(r, 100))
    let ran = false
    const waiting = request(async () => {
      ran = true
      return ctx.driver.first(sql`SELECT 6 AS six`)
    })
    // Both sessions are busy for minutes; the third request gives up after the 300 ms limit.
    expect(await settlesWithin(waiting, 3000)).toBe(true)
    const error = await waiting.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).code).toBe('QUERY_TIMEOUT')
    expect((error as ApiError).message).toMatch(/no database session came free within 300 ms/)
    expect(ran).toBe(false)
    expect(ctx.pool.stats.waiting).toBe(0)
    a.abort()
    b.abort()
    await held
    expect(ctx.pool.stats).toMatchObject({ lent: 0, waiting: 0 })
  })

  it('over HTTP: a client that disconnects has its query interrupted', async () => {
    const app = new Hono()
    let outcome: Promise<unknown> | undefined
    app.get('/api/slow', ctx.session as never, async (c) => {
      outcome = ctx.driver.first(ENDLESS)
      await outcome
      return c.json({ done: true })
    })
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 })
    try {
      await new Promise<void>((r) => server.once('listening', () => r()))
      const { port } = server.address() as AddressInfo
      const client = new AbortController()
      const answer = fetch(`http://127.0.0.1:${port}/api/slow`, { signal: client.signal })
      while (outcome === undefined) await new Promise((r) => setTimeout(r, 20))
      await new Promise((r) => setTimeout(r, 100))
      client.abort()
      await expect(answer).rejects.toThrow()
      expect(await settlesWithin(outcome, 5000)).toBe(true)
      await expect(outcome).rejects.toThrow(/Interrupt/i)
    } finally {
      await new Promise((r) => server.close(r))
    }
  })
})
