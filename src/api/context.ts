/**
 * What every route module gets from the app: one context (the database, keys, ledger, audit log, alerts, the
 * query time limit, the default analysis instant, the data cache) and one environment type. `createApp`
 * builds the context once; each module in `routes/` turns it into a router.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import type { AlertService } from '../alerts/alert-service.js'
import type { ScheduleService } from '../alerts/report-schedule.js'
import type { Clock } from '../core/clock.js'
import { NotFoundError } from '../core/errors.js'
import type { DuckDbDriver } from '../duckdb/driver.js'
import {
  findDefaultAsOf,
  findZonedAsOf,
  type ZonedAsOf,
} from '../engine/lifecycle/default-as-of.js'
import type { BrandEvent } from '../calendar/index.js'
import type { TreeConfigInput } from '../engine/metrics/tree.js'
import type { Ledger } from '../ledger/ledger.service.js'
import type { AuditLog } from '../duckdb/audit-log.js'
import { SessionPool } from '../duckdb/session-pool.js'
import { DataCache } from './data-cache.js'
import { ApiError } from './error-handler.js'
import type { KeyRecord, KeyStore } from './keys.js'

/** The request variables every /api route can read: the authenticated key. */
export type ApiEnv = { Variables: { key: KeyRecord } }
/** A route module's router, mounted under `/api/v1` by `createApp`. */
export type ApiRouter = OpenAPIHono<ApiEnv>

export interface ApiContext {
  /**
   * The member database as the request being served sees it: its own connection (see {@link session}), so
   * that cancelling its query stops nothing else. Outside a request, the server's driver.
   */
  readonly driver: DuckDbDriver
  /**
   * The middleware that lends each /api request a database session from the pool ({@link ApiOptions.connections}
   * at once; more wait their turn), stopped when the client goes away and given back when the request ends.
   */
  readonly session: MiddlewareHandler<ApiEnv>
  /** The pool the sessions come from. */
  readonly pool: SessionPool
  readonly clock: Clock
  readonly keys: KeyStore
  /** The loyalty ledger, when the server was started with one (else the loyalty writes answer 503). */
  readonly ledger: Ledger | undefined
  /** Where every write is recorded. */
  readonly audit: AuditLog
  /** Alert rules and their evaluation, when configured (else the alert routes answer 503). */
  readonly alerts: AlertService | undefined
  /** Report schedules and their delivery, when configured (else the report schedule routes answer 503). */
  readonly schedules: ScheduleService | undefined
  /** The metric tree the `/tree` route evaluates, when not the default. */
  readonly tree: TreeConfigInput | undefined
  /** The brand's own events (会员日, campaigns) the `/calendar` route adds to the built-in ones. */
  readonly calendarEvents: readonly BrandEvent[]
  /** Answers that depend only on loaded data, cached per data version. */
  readonly cache: DataCache
  /** Largest number of rows a metric query, list or export may return. */
  readonly maxRows: number
  /** Serialises writes to the member database (ingest, segments, alert evaluation). */
  readonly writeLock: <T>(fn: () => Promise<T>) => Promise<T>
  /** Runs an analytics query under the API's time limit (past it: 504 QUERY_TIMEOUT). */
  /**
   * Time limit of a model fit run for a request (on a worker thread), below the query timeout so that the
   * answer names the fit's limit (422) rather than a timeout.
   */
  readonly fitTimeLimitMs: number
  readonly timed: <T>(fn: () => Promise<T>) => Promise<T>
  /** The given instant, or the day after the data's last activity (404 on an empty database). */
  readonly asOf: (asOf: string | undefined) => Promise<string>
  /**
   * The given wall date, or the day after the data's last activity with days counted in the project time
   * zone, as the user reads it (`local`) and as the engine's UTC instant (`instant`); 404 on an empty database.
   */
  readonly zonedAsOf: (asOf: string | undefined) => Promise<ZonedAsOf>
  /** Reports a server-side failure that the client's answer does not carry. */
  readonly log: (e: unknown) => void
  /** ISO 4217 code of the money figures, as the dashboard shows them. */
  readonly currency: string
  /** The project time zone: days and months of routes without a `tz` parameter. */
  readonly timezone: string
  /** The dashboard's language until the viewer chooses one (the `lang` setting). */
  readonly lang: 'en' | 'zh'
}

export interface ContextOptions {
  readonly driver: DuckDbDriver
  readonly clock: Clock
  readonly keys: KeyStore
  readonly ledger?: Ledger | undefined
  readonly audit: AuditLog
  readonly alerts?: AlertService | undefined
  readonly schedules?: ScheduleService | undefined
  readonly tree?: TreeConfigInput | undefined
  readonly calendarEvents?: readonly BrandEvent[] | undefined
  readonly queryTimeoutMs: number
  readonly fitTimeLimitMs?: number | undefined
  readonly connections?: number | undefined
  readonly maxRows: number
  readonly log: (e: unknown) => void
  readonly currency?: string | undefined
  readonly timezone?: string | undefined
  readonly lang?: 'en' | 'zh' | undefined
}

/** Database sessions an API server lends out at once, unless `connections` says otherwise. */
export const DEFAULT_CONNECTIONS = 8
/**
 * Milliseconds an unused pooled session stays open: a shared database's own idle time (so that the file is let
 * go of as soon as before), else this.
 */
const SESSION_IDLE_MS = 1000

/** The context the route modules share. */
export function createContext(o: ContextOptions): ApiContext {
  const sessions = new AsyncLocalStorage<DuckDbDriver>()
  const current = (): DuckDbDriver => sessions.getStore() ?? o.driver
  const pool = new SessionPool(o.driver, {
    size: o.connections ?? DEFAULT_CONNECTIONS,
    idleMs: o.driver.sharedIdleMs ?? SESSION_IDLE_MS,
  })
  return {
    get driver() {
      return current()
    },
    pool,
    session: async (c, next) => {
      // The request's signal aborts when its client disconnects before the answer is sent.
      const signal = c.req.raw.signal as AbortSignal | undefined
      const session = await acquireWithin(pool, signal, o.queryTimeoutMs)
      const stop = () => session.stop('the client closed the connection')
      signal?.addEventListener('abort', stop, { once: true })
      try {
        await sessions.run(session, next)
      } finally {
        signal?.removeEventListener('abort', stop)
        await pool.release(session)
      }
    },
    clock: o.clock,
    keys: o.keys,
    ledger: o.ledger,
    audit: o.audit,
    alerts: o.alerts,
    schedules: o.schedules,
    tree: o.tree,
    calendarEvents: o.calendarEvents ?? [],
    cache: new DataCache(current),
    maxRows: o.maxRows,
    fitTimeLimitMs: o.fitTimeLimitMs ?? Math.max(1000, o.queryTimeoutMs - 5000),
    writeLock: serialLock(),
    log: o.log,
    currency: o.currency ?? 'CNY',
    timezone: o.timezone ?? 'UTC',
    lang: o.lang ?? 'en',
    timed: async <T>(fn: () => Promise<T>): Promise<T> => {
      const driver = current()
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        // A session is stopped, so that a statement the work starts after this moment is refused too (an
        // interrupt between two statements would be lost); the pool lifts the stop when it is given back.
        if (driver.isSession) driver.stop(`the query took longer than ${o.queryTimeoutMs} ms`)
        else driver.cancel()
      }, o.queryTimeoutMs)
      try {
        return await fn()
      } catch (e) {
        if (timedOut)
          throw new ApiError('QUERY_TIMEOUT', `query took longer than ${o.queryTimeoutMs} ms`)
        throw e
      } finally {
        clearTimeout(timer)
      }
    },
    zonedAsOf: async (asOf) => {
      const at = await findZonedAsOf(current(), asOf, o.timezone ?? 'UTC')
      if (at === undefined) throw new NotFoundError('the database holds no orders or events')
      return at
    },
    asOf: async (asOf) => {
      if (asOf !== undefined) return asOf
      const latest = await findDefaultAsOf(current())
      if (latest === undefined) throw new NotFoundError('the database holds no orders or events')
      return latest
    },
  }
}

/**
 * A session from the pool for one request, waiting at most `limitMs` for one to come free (past it: 504
 * QUERY_TIMEOUT saying the server is busy) and no longer than the client stays (`signal`).
 */
async function acquireWithin(
  pool: SessionPool,
  signal: AbortSignal | undefined,
  limitMs: number,
): Promise<DuckDbDriver> {
  const wait = new AbortController()
  const onClient = () => wait.abort(signal?.reason)
  if (signal?.aborted === true) onClient()
  else signal?.addEventListener('abort', onClient, { once: true })
  let busy = false
  const timer = setTimeout(() => {
    busy = true
    wait.abort('no database session came free in time')
  }, limitMs)
  try {
    return await pool.acquire(wait.signal)
  } catch (e) {
    if (busy) {
      throw new ApiError(
        'QUERY_TIMEOUT',
        `no database session came free within ${limitMs} ms: every session is answering another request; try again`,
      )
    }
    throw e
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onClient)
  }
}

/** A promise chain that runs one function at a time, in arrival order. */
export function serialLock(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve()
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn)
    tail = run.catch(() => undefined)
    return run
  }
}

/** What `createApp` is given: the database, keys and clock, and the optional parts of the context. */
export interface ApiOptions {
  readonly driver: DuckDbDriver
  readonly keys: KeyStore
  readonly clock: Clock
  /** The loyalty ledger; without one the loyalty routes answer 503. */
  readonly ledger?: Ledger
  /** Where writes are recorded (default: an in-memory audit database). */
  readonly audit?: AuditLog
  /** Alert rules and their evaluation; without it the alert routes answer 503. */
  readonly alerts?: AlertService
  /** Report schedules; without them the report schedule routes answer 503. */
  readonly schedules?: ScheduleService
  /** Milliseconds after which an analytics query is cancelled (default 30 s). */
  readonly queryTimeoutMs?: number
  /**
   * Milliseconds a model fit for a request (the CLV validation's) may run on its worker thread before it
   * stops with a 422 naming the limit (default: the query timeout less 5 s, at least 1 s).
   */
  readonly fitTimeLimitMs?: number
  /** Largest number of result rows a metric query may return (default 10,000). */
  readonly maxRows?: number
  /**
   * Database sessions (connections of their own) lent to requests at once (default 8); further requests wait
   * for one in arrival order. Each request's query runs on its own session, so one request's time limit or
   * disconnect stops only its own query.
   */
  readonly connections?: number
  /** Requests per second per key, and burst (default 20 and 40). */
  readonly rate?: { readonly perSecond: number; readonly burst: number }
  readonly tree?: TreeConfigInput
  /** The brand's own events for `/calendar`, read with `parseBrandEvents` (default: none). */
  readonly calendarEvents?: readonly BrandEvent[]
  readonly log?: (error: unknown) => void
  /** ISO 4217 code of the money figures, as the dashboard shows them (default CNY). */
  readonly currency?: string
  /** The project time zone: days and months of routes without a `tz` parameter, and its default (UTC). */
  readonly timezone?: string
  /** The dashboard's language until the viewer chooses one (the `lang` setting; default English). */
  readonly lang?: 'en' | 'zh'
}
