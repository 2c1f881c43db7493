/**
 * The CLI as a team runs it: settings from the environment and a project file in a parent folder, and a
 * server running on the database while other commands load data into it and evaluate alerts. Every command
 * runs the real executable in a child process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const REPO = resolve(import.meta.dirname, '../..')
const BIN = join(REPO, 'bin/memberlens.js')
const run = promisify(execFile)

interface Outcome {
  code: number
  stdout: string
  stderr: string
}

/** The environment of a user with no memberlens settings of their own. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  for (const k of Object.keys(env)) if (k.startsWith('MEMBERLENS_')) delete env[k]
  return { ...env, ...extra }
}

async function cli(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      cwd,
      env: cleanEnv(env),
    })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

let dir: string
const children: ChildProcess[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-shared-'))
  const demo = await cli(
    ['demo', '--no-serve', '--members', '300', '--months', '6', '--db', 'm.duckdb', '--quiet'],
    dir,
  )
  expect(demo).toMatchObject({ code: 0 })
})
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  await rm(dir, { recursive: true, force: true })
})

describe('settings from the environment and the project file', () => {
  it('MEMBERLENS_DB selects the database', async () => {
    const o = await cli(['overview', '--json'], dir, { MEMBERLENS_DB: 'm.duckdb' })
    expect(o.stderr).toBe('')
    expect(JSON.parse(o.stdout).overview.allTime.members).toBe(300)
    // Without it, the default ./memberlens.duckdb does not exist: the command says so and what to do.
    const none = await cli(['overview'], dir)
    expect(none.code).toBe(3)
    expect(none.stderr).toBe(
      'error: no database at ./memberlens.duckdb: build one with `memberlens demo --db ./memberlens.duckdb` or load data with `memberlens ingest <table> <files> --db ./memberlens.duckdb`\n',
    )
  })

  it('a memberlens.config.yaml in a parent folder selects the database, relative to the file', async () => {
    const project = join(dir, 'team')
    const deep = join(project, 'reports', 'weekly')
    await mkdir(deep, { recursive: true })
    await writeFile(join(project, 'memberlens.config.yaml'), 'db: ../m.duckdb\nlang: zh\n')
    const o = await cli(['overview', '--json'], deep)
    expect(o.stderr).toBe('')
    expect(JSON.parse(o.stdout).overview.allTime.members).toBe(300)

    const c = await cli(['config', '--json', '--tz', 'Asia/Shanghai'], deep, {
      MEMBERLENS_LANG: 'en',
    })
    expect(c.code).toBe(0)
    const shown = JSON.parse(c.stdout)
    expect(shown.file).toBe(join(project, 'memberlens.config.yaml'))
    expect(shown.settings.db).toEqual({
      value: join(dir, 'm.duckdb'),
      source: 'file',
      file: join(project, 'memberlens.config.yaml'),
    })
    expect(shown.settings.lang).toEqual({ value: 'en', source: 'env', variable: 'MEMBERLENS_LANG' })
    expect(shown.settings.tz).toEqual({ value: 'Asia/Shanghai', source: 'flag' })
    expect(shown.settings.engine).toEqual({ value: 'duckdb', source: 'default' })
  })
})

describe('one database, many processes', () => {
  it('a command on a database another process holds waits, then says which process holds it', async () => {
    const script = `import { DuckDBInstance } from '@duckdb/node-api'
const i = await DuckDBInstance.create(process.argv[1]); await i.connect()
process.stdout.write('held\\n'); setInterval(() => {}, 1000)`
    const holder = spawn(
      process.execPath,
      ['--input-type=module', '-e', script, join(dir, 'm.duckdb')],
      {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    children.push(holder)
    await new Promise<void>((ok) => holder.stdout?.once('data', () => ok()))
    try {
      const o = await cli(['overview', '--db', 'm.duckdb'], dir, { MEMBERLENS_LOCK_WAIT: '1' })
      expect(o.code).toBe(1)
      const lines = o.stderr.trim().split('\n')
      expect(lines).toHaveLength(2)
      expect(lines[0]).toBe(
        `waiting for m.duckdb: in use by process ${holder.pid} (${process.execPath}) (up to 1 s)`,
      )
      expect(lines[1]).toMatch(
        new RegExp(
          `^error: m\\.duckdb is in use by process ${holder.pid} .*\\(waited \\d+ s\\): one process at a time can open a DuckDB database\\. Wait for that command to finish, or stop it, and run again`,
        ),
      )
      expect(o.stderr).not.toMatch(/internal error|Could not set lock/)
    } finally {
      holder.kill()
      await new Promise((ok) => holder.once('exit', ok))
    }
  })

  it('serve refuses a database file that does not exist unless --create', async () => {
    const o = await cli(['serve', '--db', 'missing.duckdb', '--port', '0'], dir)
    expect(o.code).toBe(3)
    expect(o.stderr).toMatch(
      /^error: no database at missing\.duckdb: .*or pass --create to serve an empty one\n$/,
    )
  })

  it('while serve runs, ingest and alerts evaluate on the same database succeed and the API shows the new orders', async () => {
    const key = await cli(
      ['keys', 'create', '--name', 'test', '--role', 'viewer', '--db', 'm.duckdb', '--json'],
      dir,
    )
    expect(key.code).toBe(0)
    const secret = JSON.parse(key.stdout).secret as string
    const rule = await cli(
      [
        'alerts',
        'add',
        '--name',
        'any orders',
        '--metric',
        'orders',
        '--above',
        '0',
        '--db',
        'm.duckdb',
      ],
      dir,
    )
    expect(rule.code).toBe(0)

    const server = spawn(
      process.execPath,
      [BIN, 'serve', '--db', 'm.duckdb', '--port', '0', '--alerts-every', '0'],
      { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    )
    children.push(server)
    let serverErr = ''
    server.stderr?.on('data', (d: Buffer) => (serverErr += d.toString()))
    const base = await new Promise<string>((ok, fail) => {
      let out = ''
      server.stdout?.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/docs/.exec(out)
        if (m) ok(m[1] as string)
      })
      server.once('exit', (code) => fail(new Error(`serve exited with ${code}: ${serverErr}`)))
    })
    const overview = async () => {
      const r = await fetch(`${base}/api/v1/overview`, {
        headers: { authorization: `Bearer ${secret}` },
      })
      expect(r.status).toBe(200)
      return ((await r.json()) as { overview: { allTime: { orders: number } } }).overview.allTime
    }
    try {
      const before = await overview()
      await writeFile(
        join(dir, 'more.csv'),
        'order_id,ordered_at,channel,net_amount,currency,phone\n' +
          'MORE-1,2026-10-20T10:00:00Z,app,10.00,CNY,13900000001\n' +
          'MORE-2,2026-10-21T10:00:00Z,app,20.00,CNY,13900000001\n',
      )
      // The API keeps answering while the commands run.
      const [ingest] = await Promise.all([
        cli(['ingest', 'orders', 'more.csv', '--db', 'm.duckdb', '--json'], dir),
        overview(),
      ])
      expect(ingest.stderr).not.toMatch(/error/)
      expect(ingest.code).toBe(0)
      expect(JSON.parse(ingest.stdout).loads[0]).toMatchObject({ rowsInserted: 2 })

      const evaluate = await cli(['alerts', 'evaluate', '--db', 'm.duckdb'], dir)
      expect(evaluate.stderr).not.toMatch(/error/)
      expect(evaluate.code).toBe(0)
      expect(evaluate.stdout).toMatch(/^any orders: orders is \d+ in 2026-10 \(> 0\)$/m)

      const after = await overview()
      expect(after.orders).toBe(before.orders + 2)
      expect(serverErr).toBe('')
    } finally {
      server.kill('SIGTERM')
      await new Promise((ok) => server.once('exit', ok))
    }
  })
})
