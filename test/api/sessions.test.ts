/**
 * Each API request reads the member database on a session of its own, so the query time limit stops the
 * request that ran over it and nothing else: before sessions, one shared connection meant a timeout
 * interrupted whichever request happened to be running.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Context } from 'hono'
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
    maxRows: 100,
    log: () => undefined,
  })
})
afterAll(async () => {
  await s.cleanup()
})

/** Serves one "request": `handler` runs inside the session middleware, as a route handler does. */
async function request<T>(handler: () => Promise<T>): Promise<T> {
  let result: T | undefined
  await ctx.session({} as Context, async () => {
    result = await handler()
  })
  return result as T
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
    await ctx.session({} as Context, async () => {
      inside = ctx.driver
    })
    expect(inside).not.toBe(s.db.driver)
  })
})
