/**
 * The API and dashboard server that `memberlens serve` and `memberlens demo` start: the member database
 * opened on demand, keys, audit log, alerts, the loyalty ledger when configured, and the built dashboard.
 * @module
 */
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { serve, type ServerType } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import { type Lang } from './lang.js'
import { AlertService, isRuleDue } from '../alerts/alert-service.js'
import { AlertStore } from '../alerts/alert-store.js'
import { ScheduleService, ScheduleStore } from '../alerts/report-schedule.js'
import { KeyStore, createApp, errorBody } from '../api/index.js'
import { systemClock } from '../core/clock.js'
import { Ledger } from '../ledger/ledger.service.js'
import { loadProgram } from '../ledger/program.js'
import { openLedgerStore } from '../ledger/stores/open-store.js'
import type { LedgerStore } from '../ledger/stores/store.js'
import { AuditLog } from '../duckdb/audit-log.js'
import { DatabaseBusyError } from '../store/db-lock.js'
import { NotFoundError } from '../core/errors.js'
import { DuckDbDriver } from '../duckdb/driver.js'
import { ensureSchema } from '../store/database.js'
import { databaseExists } from '../store/db-path.js'

export const WEB_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../../web/dist')

/** A file beside the database (`:memory:` databases keep theirs in memory too). */
function besideDb(db: string, name: string): string {
  return db === ':memory:' ? ':memory:' : join(dirname(resolve(db)), name)
}

/**
 * The server's database: opened on demand and closed after a short idle time, so that other processes
 * (`memberlens ingest`, `alerts evaluate`, …) can open the file between requests. `:memory:` stays open.
 */
async function openServerDatabase(options: ServeOptions): Promise<DuckDbDriver> {
  if (!options.create && !databaseExists(options.db))
    throw new NotFoundError(
      `no database at ${options.db}: build one with \`memberlens demo --db ${options.db}\` or load data with \`memberlens ingest <table> <files> --db ${options.db}\`, or pass --create to serve an empty one`,
    )
  const driver =
    options.db === ':memory:'
      ? await DuckDbDriver.open({ path: options.db })
      : DuckDbDriver.shared(
          { path: options.db },
          {
            idleMs: options.idleMs ?? 1000,
            lockWait: { timeoutMs: options.lockWaitMs ?? 15_000, intervalMs: 50 },
          },
        )
  const release = await driver.hold()
  try {
    await ensureSchema(driver)
  } finally {
    release()
  }
  return driver
}

export function defaultKeysPath(db: string): string {
  return join(dirname(resolve(db)), 'memberlens.keys.json')
}

export const defaultAuditPath = (db: string) => besideDb(db, 'memberlens.audit.duckdb')

export const defaultSchedulesPath = (db: string) =>
  db === ':memory:' ? 'memberlens.schedules.json' : besideDb(db, 'memberlens.schedules.json')
export const defaultAlertsPath = (db: string) =>
  db === ':memory:' ? 'memberlens.alerts.json' : besideDb(db, 'memberlens.alerts.json')

export interface ServeOptions {
  readonly db: string
  readonly host: string
  readonly port: number
  readonly keys?: string
  /** ISO 4217 code of money figures on the dashboard (default CNY). */
  readonly currency?: string
  /** Loyalty ledger (directory or postgres:// URL) and program file; without them loyalty routes answer 503. */
  readonly ledger?: string
  readonly program?: string
  /** Audit database (default memberlens.audit.duckdb beside the database). */
  readonly audit?: string
  /** Alert rules file (default memberlens.alerts.json beside the database). */
  readonly alerts?: string
  /** Default webhook for alerts. */
  readonly webhook?: string
  /** Minutes between scheduled alert evaluations (0: only after ingests and on request; default 60). */
  readonly alertsEvery?: number
  /** Requests per second per key (bursts of twice as many); default 20. */
  readonly rate?: number
  /** Database sessions lent to API requests at once (default 8); further requests wait for one. */
  readonly connections?: number
  /** Start with an empty database when the file does not exist (otherwise that is an error). */
  readonly create?: boolean
  /** Milliseconds without requests after which the database is closed for other processes (default 1000). */
  readonly idleMs?: number
  /** Milliseconds a request waits while another process holds the database (default 15000). */
  readonly lockWaitMs?: number
  /** The project time zone (default UTC for a library caller; the CLI passes its setting). */
  readonly tz?: string
  /** The dashboard's language until the viewer chooses one (default English; the CLI passes its setting). */
  readonly lang?: Lang
}

export interface RunningServer {
  readonly url: string
  readonly dashboardUrl: string
  close(): Promise<void>
}

/** Starts the API and the dashboard; resolves once listening. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  // Read-write: segments, ingest and alert evaluation write to the database.
  const driver = await openServerDatabase(options)
  const keys = new KeyStore(options.keys ?? defaultKeysPath(options.db), systemClock)
  // The dashboard opened from this process gets a session key with the analyst role (personal data masked).
  const sessionKey = keys.createEphemeral('dashboard session', 'analyst')
  let ledgerStore: LedgerStore | undefined
  let ledger: Ledger | undefined
  if (options.ledger !== undefined) {
    const program = await loadProgram(options.program ?? './loyalty-program.yaml')
    ledgerStore = await openLedgerStore(options.ledger, { holder: 'memberlens serve' })
    // Concurrent order earns from the API are written a batch per transaction (group commit).
    ledger = new Ledger(ledgerStore, program, { clock: systemClock, groupCommit: true })
  }
  const audit = new AuditLog(options.audit ?? defaultAuditPath(options.db), systemClock)
  const log = (e: unknown) =>
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  const alerts = new AlertService({
    driver,
    store: new AlertStore(options.alerts ?? defaultAlertsPath(options.db), systemClock),
    clock: systemClock,
    ...(options.webhook === undefined ? {} : { webhookUrl: options.webhook }),
    ...(options.tz === undefined ? {} : { timezone: options.tz }),
    log,
  })
  const schedules = new ScheduleService({
    driver,
    store: new ScheduleStore(defaultSchedulesPath(options.db), systemClock),
    alerts: alerts.store,
    clock: systemClock,
    ...(options.currency === undefined ? {} : { currency: options.currency }),
    log: (line) => process.stderr.write(`${line}\n`),
  })
  const app = createApp({
    driver,
    keys,
    clock: systemClock,
    ledger,
    audit,
    alerts,
    schedules,
    log,
    currency: options.currency ?? 'CNY',
    ...(options.tz === undefined ? {} : { timezone: options.tz }),
    ...(options.lang === undefined ? {} : { lang: options.lang }),
    ...(options.rate === undefined
      ? {}
      : { rate: { perSecond: options.rate, burst: 2 * options.rate } }),
    ...(options.connections === undefined ? {} : { connections: options.connections }),
  })
  // Scheduled evaluation, staggered: a tick each minute evaluates the rules whose slot in the cycle (a fixed
  // offset per rule, from its id) has come, so that rules do not all query the database on one tick. One
  // evaluation at a time, and never keeping the process alive by itself.
  const every = options.alertsEvery ?? 60
  let evaluating = false
  const timer =
    every > 0
      ? setInterval(() => {
          if (evaluating) return
          const now = systemClock.now()
          try {
            if (!alerts.store.rules().some((r) => r.enabled && isRuleDue(r.id, now, every))) return
          } catch (e) {
            log(e)
            return
          }
          evaluating = true
          driver
            .hold()
            .then(async (release) => {
              try {
                await alerts.evaluate('schedule', (r) => isRuleDue(r.id, now, every))
              } finally {
                release()
              }
            })
            .catch(log)
            .finally(() => {
              evaluating = false
            })
        }, 60_000)
      : undefined
  timer?.unref()
  // Scheduled reports: each minute, send those whose cron time has come (one round at a time).
  let sending = false
  const reports = setInterval(() => {
    if (sending) return
    let due: boolean
    try {
      due = schedules.due(systemClock.now()).length > 0
    } catch (e) {
      log(e)
      return
    }
    if (!due) return
    sending = true
    driver
      .hold()
      .then(async (release) => {
        try {
          await schedules.runDue()
        } finally {
          release()
        }
      })
      .catch(log)
      .finally(() => {
        sending = false
      })
  }, 60_000)
  reports.unref()
  if (existsSync(WEB_DIST)) {
    app.use('/*', serveStatic({ root: WEB_DIST }))
    app.get('/*', serveStatic({ path: join(WEB_DIST, 'index.html') }))
  }
  // Each API request keeps the database open from its first to its last statement.
  const fetch = async (request: Request, ...rest: unknown[]): Promise<Response> => {
    if (!new URL(request.url).pathname.startsWith('/api/')) return app.fetch(request, ...rest)
    let release: () => void
    try {
      release = await driver.hold()
    } catch (error) {
      if (!(error instanceof DatabaseBusyError)) throw error
      return Response.json(errorBody('DATABASE_BUSY', error.message), {
        status: 503,
        headers: { 'retry-after': '5' },
      })
    }
    try {
      return await app.fetch(request, ...rest)
    } finally {
      release()
    }
  }
  let server: ServerType
  try {
    server = await new Promise<ServerType>((ok, fail) => {
      const s = serve({ fetch, hostname: options.host, port: options.port }, () => ok(s))
      s.once('error', fail)
    })
  } catch (error) {
    // Not listening (the port is taken, …): let go of everything opened above.
    if (timer) clearInterval(timer)
    clearInterval(reports)
    await audit.close()
    await ledgerStore?.close()
    await driver.close()
    throw error
  }
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  const url = `http://${options.host}:${port}`
  // A CLI command that finds the embedded ledger locked is told where this server answers.
  ledgerStore?.describeHolder(`memberlens serve at ${url}`)
  return {
    url,
    dashboardUrl: `${url}/#key=${sessionKey}`,
    close: async () => {
      if (timer) clearInterval(timer)
      clearInterval(reports)
      await new Promise<void>((ok) => server.close(() => ok()))
      await ledger?.drained()
      await audit.close()
      await ledgerStore?.close()
      await driver.close()
    },
  }
}
