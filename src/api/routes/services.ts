/**
 * What the write and operations routes (segments, loyalty, risk, ingest, alerts, audit) need from the app:
 * the shared request helpers plus the services they call. `createApp` builds one and hands it to each
 * `register…Routes(app, services)`.
 * @module
 */
import type { OpenAPIHono, RouteConfig, z } from '@hono/zod-openapi'
import type { Clock } from '../../core/clock.js'
import type { DuckDbDriver } from '../../engine/drivers/duckdb-driver.js'
import type { Ledger } from '../../ledger/ledger.service.js'
import type { AlertService } from '../../alerts/alert-service.js'
import type { AuditLog } from '../../store/audit-log.js'
import type { KeyRecord, KeyStore } from '../keys.js'

export type ServiceEnv = { Variables: { key: KeyRecord } }
export type ServiceApp = OpenAPIHono<ServiceEnv>

export interface RouteServices {
  readonly driver: DuckDbDriver
  readonly clock: Clock
  readonly keys: KeyStore
  /** The loyalty ledger, when the server was started with one. */
  readonly ledger: Ledger | undefined
  readonly audit: AuditLog
  readonly alerts: AlertService | undefined
  /** Largest number of rows a list or export may return. */
  readonly maxRows: number
  /** Serialises writes to the member database (ingest, segments, alert evaluation). */
  readonly writeLock: <T>(fn: () => Promise<T>) => Promise<T>
  readonly security: { ApiKey: string[] }[]
  readonly json: (schema: z.ZodType, description: string) => RouteConfig['responses']
  readonly timed: <T>(fn: () => Promise<T>) => Promise<T>
  readonly asOf: (asOf: string | undefined) => Promise<string>
  /** Reports a server-side failure that the client's answer does not carry. */
  readonly log: (e: unknown) => void
}

/** The shared error responses of a route (a `json(...)` response set without its 200). */
export function errorResponses(responses: RouteConfig['responses']): RouteConfig['responses'] {
  return Object.fromEntries(Object.entries(responses).filter(([status]) => status !== '200'))
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
