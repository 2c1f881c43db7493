/**
 * Starts a throw-away PostgreSQL server from Debian's binaries, for the ledger tests and the bench:
 * a fresh data directory under the system temp dir, trust authentication, listening on 127.0.0.1 only, on a free
 * port. When `initdb`/`pg_ctl` are missing it installs Debian's `postgresql` package first (root only).
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
 *
 *   npx tsx scripts/local-postgres.ts     # starts one, prints its URL, stops it on Ctrl-C
 * @module
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface LocalPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string
  readonly port: number
  readonly dataDir: string
  /**
   * Stops the server and deletes its directory. Asynchronous on purpose: a caller such as vitest's global
   * teardown must keep its event loop running meanwhile (a synchronous stop blocked vitest's main process, so
   * the exits of its test workers went unseen until the stop returned, reported as worker timeouts).
   */
  stop(): Promise<void>
}

/** The newest Debian PostgreSQL bin directory with initdb and pg_ctl, if any. */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
  for (const v of versions) {
    const bin = join(root, v, 'bin')
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin
  }
  return undefined
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0
}

/** Installs Debian's server package (needs root and apt). */
function installPostgres(log: (s: string) => void): void {
  if (!isRoot()) {
    throw new Error(
      'PostgreSQL server binaries are missing and installing them needs root (apt-get install postgresql)',
    )
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  log(
    'local-postgres: installing Debian postgresql (apt-get update && apt-get install -y postgresql)',
  )
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'postgresql']]) {
    const r = spawnSync('apt-get', args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    })
    if (r.status !== 0) {
      throw new Error(
        `apt-get ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout || String(r.error)).slice(-800)}`,
      )
    }
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/** uid/gid to run the server as: the `postgres` user when we are root, ourselves otherwise. */
function runAs(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
  return { uid, gid }
}

function run(
  bin: string,
  args: string[],
  user: { uid: number; gid: number } | undefined,
  what: string,
): void {
  const r = spawnSync(bin, args, {
    ...(user ?? {}),
    cwd: tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' },
  })
  if (r.status !== 0) {
    throw new Error(
      `${what} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error)).trim().slice(-1200)}`,
    )
  }
}

/** {@link run} without blocking the event loop. */
function runAsync(
  bin: string,
  args: string[],
  user: { uid: number; gid: number } | undefined,
  what: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      {
        ...(user ?? {}),
        cwd: tmpdir(),
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' },
      },
      (error, stdout, stderr) => {
        if (error === null) resolve()
        else
          reject(
            new Error(
              `${what} failed (exit ${error.code ?? error.signal}): ${(stderr || stdout || error.message).trim().slice(-1200)}`,
            ),
          )
      },
    )
  })
}

export interface StartOptions {
  /** Extra `-c name=value` server settings. */
  readonly settings?: Readonly<Record<string, string>>
  readonly log?: (s: string) => void
}

/** Starts a new local server and waits until it accepts connections. */
export async function startLocalPostgres(options: StartOptions = {}): Promise<LocalPostgres> {
  const log = options.log ?? ((s: string) => process.stderr.write(`${s}\n`))
  let bin = findPostgresBin()
  if (!bin) {
    installPostgres(log)
    bin = findPostgresBin()
    if (!bin)
      throw new Error(
        'postgresql was installed but no initdb/pg_ctl was found under /usr/lib/postgresql',
      )
  }
  const user = runAs()
  const dir = mkdtempSync(join(tmpdir(), 'memberlens-pg-'))
  const dataDir = join(dir, 'data')
  if (user) chownSync(dir, user.uid, user.gid)
  const port = await freePort()
  try {
    run(
      join(bin, 'initdb'),
      [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--no-sync',
        '--no-instructions',
      ],
      user,
      'initdb',
    )
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      port: String(port),
      unix_socket_directories: dir,
      max_connections: '100',
      ...options.settings,
    }
    writeFileSync(
      join(dataDir, 'postgresql.auto.conf'),
      Object.entries(settings)
        .map(([k, v]) => `${k} = '${v.replace(/'/g, "''")}'`)
        .join('\n') + '\n',
    )
    if (user) chownSync(join(dataDir, 'postgresql.auto.conf'), user.uid, user.gid)
    run(
      join(bin, 'pg_ctl'),
      ['-D', dataDir, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start'],
      user,
      'pg_ctl start',
    )
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  let stopped = false
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop: async () => {
      if (stopped) return
      stopped = true
      try {
        // Immediate: the directory is deleted next, so the shutdown checkpoint of a fast stop (seconds after a
        // write-heavy test run) would only write what is about to be thrown away.
        await runAsync(
          join(bin, 'pg_ctl'),
          ['-D', dataDir, '-m', 'immediate', '-w', 'stop'],
          user,
          'pg_ctl stop',
        )
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    },
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const pg = await startLocalPostgres()
  process.stdout.write(`${pg.url}\n`)
  const stop = () => {
    void pg.stop().finally(() => process.exit(0))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  setInterval(() => {}, 1 << 30)
}
