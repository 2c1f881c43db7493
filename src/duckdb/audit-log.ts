/**
 * The audit log of the API's writes: one row per write request (loyalty operations, segments, ingest, keys,
 * alert rules) with the key that made it, the route, the time and the outcome, in the table `api_audit`.
 *
 * The table lives in its own DuckDB database (`memberlens.audit.duckdb` beside the member database), opened on
 * its own connection: writing an audit row never waits behind an analytics query on the member database, so
 * a slow report cannot hold up a loyalty write's answer. The file is open only while in use (see
 * `DuckDbDriver.shared`), so the CLI can record key changes while a server runs.
 * @module
 */
import type { Clock } from '../core/clock.js'
import { DuckDbDriver } from './driver.js'
import { sql } from '../engine/sql/fragment.js'

export const AUDIT_OUTCOMES = ['ok', 'refused', 'invalid', 'failed'] as const
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number]

export interface AuditEntry {
  readonly keyId: string
  readonly keyName: string
  readonly role: string
  readonly method: string
  readonly route: string
  readonly status: number
  readonly outcome: AuditOutcome
  /** Error code or idempotency key, when there is one. */
  readonly detail: string | null
}

export interface AuditRow extends AuditEntry {
  readonly id: number
  readonly at: string
}

/** The outcome class of an HTTP status. */
export function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return 'ok'
  if (status === 401 || status === 403 || status === 429) return 'refused'
  if (status < 500) return 'invalid'
  return 'failed'
}

export class AuditLog {
  private opened: Promise<DuckDbDriver> | undefined
  private tail: Promise<unknown> = Promise.resolve()

  /** The audit database at `path` (`:memory:` for a temporary one), opened and created on first use. */
  constructor(
    readonly path: string,
    private readonly clock: Clock,
  ) {}

  private init(): Promise<DuckDbDriver> {
    this.opened ??= (async () => {
      // Opened on demand and let go after a second unused, so that the CLI (`memberlens keys create`) can
      // record its changes while a server runs; `:memory:` stays open.
      const driver =
        this.path === ':memory:'
          ? await DuckDbDriver.open({ path: this.path, threads: 1 })
          : DuckDbDriver.shared(
              { path: this.path, threads: 1 },
              { idleMs: 1000, lockWait: { timeoutMs: 5000, intervalMs: 50 } },
            )
      await driver.execute(sql`CREATE SEQUENCE IF NOT EXISTS api_audit_id`)
      await driver.execute(sql`CREATE TABLE IF NOT EXISTS api_audit (
        id BIGINT PRIMARY KEY DEFAULT nextval('api_audit_id'), logged_at TIMESTAMP NOT NULL, key_id VARCHAR NOT NULL,
        key_name VARCHAR NOT NULL, role VARCHAR NOT NULL, method VARCHAR NOT NULL, route VARCHAR NOT NULL,
        status INTEGER NOT NULL, outcome VARCHAR NOT NULL, detail VARCHAR)`)
      return driver
    })()
    // A failed open is retried by the next call rather than remembered.
    this.opened.catch(() => {
      this.opened = undefined
    })
    return this.opened
  }

  /** Runs one statement at a time on the audit connection. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn)
    this.tail = run.catch(() => undefined)
    return run
  }

  async record(e: AuditEntry): Promise<void> {
    const driver = await this.init()
    const at = this.clock.now().toISOString().replace('T', ' ').replace('Z', '')
    await this.serial(() =>
      driver.execute(sql`INSERT INTO api_audit (logged_at, key_id, key_name, role, method, route, status, outcome, detail)
        VALUES (CAST(${at} AS TIMESTAMP), ${e.keyId}, ${e.keyName}, ${e.role}, ${e.method}, ${e.route},
          ${e.status}, ${e.outcome}, ${e.detail})`),
    )
  }

  /** Entries newest first, optionally for one key, route prefix or outcome. */
  async list(
    options: {
      limit?: number
      offset?: number
      keyId?: string
      route?: string
      outcome?: AuditOutcome
    } = {},
  ): Promise<{ total: number; entries: AuditRow[] }> {
    const driver = await this.init()
    const where = sql`WHERE TRUE
      ${options.keyId === undefined ? sql`` : sql`AND key_id = ${options.keyId}`}
      ${options.route === undefined ? sql`` : sql`AND starts_with(route, ${options.route})`}
      ${options.outcome === undefined ? sql`` : sql`AND outcome = ${options.outcome}`}`
    return this.serial(async () => {
      const total = await driver.first<{ n: bigint }>(
        sql`SELECT count(*) AS n FROM api_audit ${where}`,
      )
      const rows = await driver.all<Record<string, unknown>>(
        sql`SELECT id::DOUBLE AS id, strftime(logged_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS at, key_id, key_name, role, method,
            route, status, outcome, detail
          FROM api_audit ${where} ORDER BY id DESC LIMIT ${options.limit ?? 100} OFFSET ${options.offset ?? 0}`,
      )
      return { total: Number(total?.n ?? 0), entries: rows as unknown as AuditRow[] }
    })
  }

  async close(): Promise<void> {
    await this.tail
    const opened = this.opened
    this.opened = undefined
    if (opened) await (await opened).close()
  }
}
