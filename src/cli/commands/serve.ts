/**
 * `memberlens serve` (the API and the dashboard) and `memberlens keys create|list|revoke`.
 * @module
 */
import { timeZoneOption } from '../time-zone-option.js'
import { existsSync } from 'node:fs'
import { userInfo } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { serve, type ServerType } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import { Command, InvalidArgumentError, Option } from 'commander'
import pc from 'picocolors'
import { AlertService } from '../../alerts/alert-service.js'
import { AlertStore } from '../../alerts/alert-store.js'
import { KeyStore, ROLES, createApp, errorBody, type Role } from '../../api/index.js'
import { systemClock } from '../../core/clock.js'
import { Ledger } from '../../ledger/ledger.service.js'
import { loadProgram } from '../../ledger/program.js'
import { openLedgerStore } from '../../ledger/stores/open-store.js'
import type { LedgerStore } from '../../ledger/stores/store.js'
import { AuditLog } from '../../store/audit-log.js'
import { NotFoundError } from '../../core/errors.js'
import { DuckDbDriver } from '../../engine/drivers/duckdb-driver.js'
import { DEFAULT_DB_PATH, ensureSchema } from '../../store/database.js'
import { DatabaseBusyError } from '../../store/db-lock.js'
import { databaseExists } from '../../store/db-path.js'
import { codeName, langOption, translator, type Lang } from '../lang.js'
import { keyValues, printJson, table } from '../output.js'

const WEB_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../../../web/dist')

export function defaultKeysPath(db: string): string {
  return join(dirname(resolve(db)), 'memberlens.keys.json')
}

/** A file beside the database (`:memory:` databases keep theirs in memory too). */
function besideDb(db: string, name: string): string {
  return db === ':memory:' ? ':memory:' : join(dirname(resolve(db)), name)
}

export const defaultAuditPath = (db: string) => besideDb(db, 'memberlens.audit.duckdb')
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
  /** Start with an empty database when the file does not exist (otherwise that is an error). */
  readonly create?: boolean
  /** Milliseconds without requests after which the database is closed for other processes (default 1000). */
  readonly idleMs?: number
  /** Milliseconds a request waits while another process holds the database (default 15000). */
  readonly lockWaitMs?: number
  /** The project time zone (default UTC for a library caller; the CLI passes its setting). */
  readonly tz?: string
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
    ledger = new Ledger(ledgerStore, program, { clock: systemClock })
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
  const app = createApp({
    driver,
    keys,
    clock: systemClock,
    ledger,
    audit,
    alerts,
    log,
    currency: options.currency ?? 'CNY',
    ...(options.tz === undefined ? {} : { timezone: options.tz }),
    ...(options.rate === undefined
      ? {}
      : { rate: { perSecond: options.rate, burst: 2 * options.rate } }),
  })
  // Scheduled evaluation; one at a time, and never keeping the process alive by itself.
  const every = options.alertsEvery ?? 60
  let evaluating = false
  const timer =
    every > 0
      ? setInterval(() => {
          if (evaluating) return
          evaluating = true
          driver
            .hold()
            .then(async (release) => {
              try {
                await alerts.evaluate('schedule')
              } finally {
                release()
              }
            })
            .catch(log)
            .finally(() => {
              evaluating = false
            })
        }, every * 60_000)
      : undefined
  timer?.unref()
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
      await new Promise<void>((ok) => server.close(() => ok()))
      await audit.close()
      await ledgerStore?.close()
      await driver.close()
    },
  }
}

/**
 * Records a key change made on the command line in the audit log. The log is one DuckDB file: while a server
 * holds it, the change is made but not recorded, and the user is told so.
 */
async function auditKeyChange(
  flags: { db: string; audit?: string },
  route: string,
  keyId: string,
): Promise<void> {
  const log = new AuditLog(flags.audit ?? defaultAuditPath(flags.db), systemClock)
  try {
    await log.record({
      keyId: 'cli',
      keyName: `cli:${userInfo().username}`,
      role: 'admin',
      method: 'CLI',
      route,
      status: 200,
      outcome: 'ok',
      detail: keyId,
    })
  } catch {
    process.stderr.write(
      pc.yellow(
        'not recorded in the audit log (a running server holds it): use POST /api/v1/keys to manage keys with an audit trail\n',
      ),
    )
  } finally {
    await log.close().catch(() => undefined)
  }
}

export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the HTTP API (OpenAPI at /openapi.json, reference at /docs) and the dashboard',
    )
    .option('--db <file>', 'database file', DEFAULT_DB_PATH)
    .option('--create', 'start with an empty database when the file does not exist', false)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .addOption(
      new Option('--port <port>', 'port (0: any free port)').default(3000).argParser(Number),
    )
    .option('--keys <file>', 'API key file (default: memberlens.keys.json beside the database)')
    .addOption(
      new Option(
        '--currency <code>',
        'ISO 4217 code of money figures on the dashboard (default CNY)',
      ).argParser((v) => {
        if (!/^[A-Z]{3}$/.test(v)) throw new InvalidArgumentError('an ISO 4217 code such as CNY')
        return v
      }),
    )
    .option(
      '--ledger <dir|url>',
      'loyalty ledger for the loyalty routes: a directory (locked while serving; write to it through the API) or a postgres:// URL',
    )
    .option('--program <file>', 'loyalty program file (with --ledger)', './loyalty-program.yaml')
    .option(
      '--audit <file>',
      'audit database (default: memberlens.audit.duckdb beside the database)',
    )
    .option('--alerts <file>', 'alert rules (default: memberlens.alerts.json beside the database)')
    .option('--webhook <url>', 'POST fired alerts here (rules may name their own)')
    .addOption(timeZoneOption())
    .addOption(langOption('the startup lines'))
    .addOption(
      new Option('--alerts-every <minutes>', 'minutes between alert evaluations (0: off)')
        .default(60)
        .argParser(Number),
    )
    .addOption(
      new Option(
        '--rate <n>',
        'requests per second per API key (bursts of 2n; default 20)',
      ).argParser((v) => {
        const n = Number(v)
        if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError('a positive number')
        return n
      }),
    )
    .addHelpText(
      'after',
      `
The database is open only while requests use it, and closed after a second without requests: other commands
(ingest, alerts evaluate, …) run on the same database while the server runs, each waiting briefly for the file,
and the API shows their data at the next request. A missing database file is an error unless --create.`,
    )
    .action(async (flags: ServeOptions & { lang?: Lang }) => {
      const s = await startServer(flags)
      const t = translator(flags.lang)
      if (!existsSync(WEB_DIST))
        process.stderr.write(pc.yellow(`${t('dashboard not built: run `npm run build -w web`')}\n`))
      const rows: Array<[string, string]> = [
        [t('dashboard'), pc.bold(s.dashboardUrl)],
        ['API', `${s.url}/docs  (${s.url}/openapi.json)`],
      ]
      process.stdout.write(
        `${t('memberlens is serving {db}', { db: flags.db })}\n${keyValues(rows)}\n${t('Press Ctrl+C to stop.')}\n`,
      )
      await new Promise<void>((ok) => {
        process.once('SIGINT', ok)
        process.once('SIGTERM', ok)
      })
      await s.close()
    })

  const keys = program
    .command('keys')
    .description('API keys (stored hashed; a secret is shown once)')
  const keysOption = () =>
    new Option('--keys <file>', 'API key file (default: memberlens.keys.json beside the database)')
  const auditOption = () =>
    new Option(
      '--audit <file>',
      'audit database (default: memberlens.audit.duckdb beside the database)',
    )
  keys
    .command('create')
    .description(
      'create a key with a role: viewer (aggregates), analyst (+ members, masked), operator (+ loyalty, segments), admin',
    )
    .requiredOption('--name <name>', 'who or what uses the key')
    .addOption(new Option('--role <role>', 'role').choices(ROLES).default('viewer'))
    .option('--db <file>', 'database file (locates the key file)', DEFAULT_DB_PATH)
    .addOption(keysOption())
    .addOption(auditOption())
    .addOption(langOption())
    .option('--json', 'machine-readable JSON', false)
    .action(
      async (flags: {
        name: string
        role: Role
        db: string
        keys?: string
        audit?: string
        json: boolean
        lang?: Lang
      }) => {
        const t = translator(flags.lang)
        const store = new KeyStore(flags.keys ?? defaultKeysPath(flags.db), systemClock)
        const { key, secret } = await store.create(flags.name, flags.role)
        await auditKeyChange(flags, 'keys create', key.id)
        if (flags.json) printJson({ id: key.id, name: key.name, role: key.role, secret })
        else
          process.stdout.write(
            `${t('key {id} ({role}) for {name}:', {
              id: key.id,
              role: codeName(key.role, flags.lang ?? 'en'),
              name: key.name,
            })}\n  ${pc.bold(secret)}\n${t('Keep it now: it is stored only as a hash.')}\n`,
          )
      },
    )
  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option('--db <file>', 'database file (locates the key file)', DEFAULT_DB_PATH)
    .addOption(keysOption())
    .addOption(langOption())
    .option('--json', 'machine-readable JSON', false)
    .action((flags: { db: string; keys?: string; json: boolean; lang?: Lang }) => {
      const t = translator(flags.lang)
      const list = new KeyStore(flags.keys ?? defaultKeysPath(flags.db), systemClock)
        .list()
        .map(({ hash: _hash, ...k }) => k)
      if (flags.json) printJson({ keys: list })
      else
        process.stdout.write(
          `${table(
            ['id', t('name'), t('role'), t('created'), t('revoked')],
            list.map((k) => [
              k.id,
              k.name,
              codeName(k.role, flags.lang ?? 'en'),
              k.createdAt,
              k.revokedAt ?? '',
            ]),
          )}\n`,
        )
    })
  keys
    .command('revoke')
    .description('revoke a key; the server refuses it from its next request')
    .argument('<id>', 'key id')
    .option('--db <file>', 'database file (locates the key file)', DEFAULT_DB_PATH)
    .addOption(keysOption())
    .addOption(auditOption())
    .addOption(langOption())
    .action(
      async (id: string, flags: { db: string; keys?: string; audit?: string; lang?: Lang }) => {
        const k = await new KeyStore(flags.keys ?? defaultKeysPath(flags.db), systemClock).revoke(
          id,
        )
        await auditKeyChange(flags, 'keys revoke', k.id)
        process.stdout.write(
          `${translator(flags.lang)('revoked {id} ({name})', { id: k.id, name: k.name })}\n`,
        )
      },
    )
}
