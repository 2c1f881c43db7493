/**
 * `memberlens serve` (the API and the dashboard) and `memberlens keys create|list|revoke`.
 * @module
 */
import { timeZoneOption } from '../time-zone-option.js'
import { existsSync } from 'node:fs'
import { userInfo } from 'node:os'
import { Command, InvalidArgumentError, Option } from 'commander'
import pc from 'picocolors'
import { KeyStore, ROLES, type Role } from '../../api/index.js'
import { systemClock } from '../../core/clock.js'
import { AuditLog } from '../../duckdb/audit-log.js'
import { LANGS, codeName, langOption, translator, type Lang } from '../lang.js'
import { keyValues, printJson, table } from '../output.js'
import { dbOption } from '../database.js'
import {
  startServer,
  defaultKeysPath,
  defaultAuditPath,
  WEB_DIST,
  type ServeOptions,
} from '../server.js'

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
    .addOption(dbOption())
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
    .addOption(
      new Option(
        '--lang <lang>',
        'language of the startup lines, and the one the dashboard opens in until the viewer picks one (en or zh; default en)',
      ).choices(LANGS),
    )
    .addOption(
      new Option(
        '--alerts-every <minutes>',
        'minutes between evaluations of each alert rule, staggered: each rule has its own minute in the cycle (0: off)',
      )
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
    .addOption(
      new Option(
        '--connections <n>',
        'database sessions API requests run on at once; more wait their turn (default 8)',
      ).argParser((v) => {
        const n = Number(v)
        if (!(Number.isInteger(n) && n >= 1 && n <= 64))
          throw new InvalidArgumentError('a whole number from 1 to 64')
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
    .addOption(dbOption('database file (locates the key file)'))
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
    .addOption(dbOption('database file (locates the key file)'))
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
    .addOption(dbOption('database file (locates the key file)'))
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
