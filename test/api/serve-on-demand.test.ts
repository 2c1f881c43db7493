/**
 * `memberlens serve` opens its database only while requests use it: other processes open the file between
 * requests, a request waits for a file another process holds and then answers 503 naming the holder, and a
 * missing database file is refused unless asked for.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../src/cli/server.js'
import { NotFoundError } from '../../src/core/errors.js'
import { sql } from '../../src/engine/sql/fragment.js'
import { openDatabase } from '../../src/store/database.js'

const REPO = resolve(import.meta.dirname, '../..')
let dir: string
const children: ChildProcess[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-serve-db-'))
})
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  await rm(dir, { recursive: true, force: true })
})

/** Runs a script in another Node process with the repository's packages; resolves once it prints `ready`. */
function another(script: string, args: string[]): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  const ready = new Promise<void>((ok, fail) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) ok()
    })
    child.once('exit', (code) => (code === 0 ? ok() : fail(new Error(`exited with ${code}`))))
  })
  return { child, ready }
}

const HOLD = `import { DuckDBInstance } from '@duckdb/node-api'
const i = await DuckDBInstance.create(process.argv[1]); await i.connect()
process.stdout.write('ready\\n'); setInterval(() => {}, 1000)`
// Retries while the file is held: the server lets go of it a moment after its last request.
const WRITE = `import { DuckDBInstance } from '@duckdb/node-api'
let i
for (let n = 0; !i; n++) {
  try { i = await DuckDBInstance.create(process.argv[1]) }
  catch (e) { if (n > 200 || !/lock/.test(e.message)) throw e; await new Promise((ok) => setTimeout(ok, 50)) }
}
const c = await i.connect()
await c.run("INSERT INTO memberlens_meta VALUES ('written_by', 'another process')"); c.closeSync(); i.closeSync()`

describe('serve opens its database on demand', () => {
  it('refuses a database file that does not exist, and creates it with create', async () => {
    const path = join(dir, 'missing.duckdb')
    const refused = await startServer({ db: path, host: '127.0.0.1', port: 0 }).catch(
      (e: unknown) => e,
    )
    expect(refused).toBeInstanceOf(NotFoundError)
    expect((refused as Error).message).toMatch(/^no database at .*missing\.duckdb: .*--create/)
    expect(existsSync(path)).toBe(false)
    const server = await startServer({
      db: path,
      host: '127.0.0.1',
      port: 0,
      create: true,
      alertsEvery: 0,
    })
    await server.close()
    expect(existsSync(path)).toBe(true)
  })

  it('lets another process write between requests, and answers 503 naming the process that holds the file', async () => {
    const path = join(dir, 'm.duckdb')
    const db = await openDatabase(path)
    await db.close()
    const server: RunningServer = await startServer({
      db: path,
      host: '127.0.0.1',
      port: 0,
      alertsEvery: 0,
      idleMs: 100,
      lockWaitMs: 400,
    })
    const key = server.dashboardUrl.split('#key=')[1] as string
    const get = () =>
      fetch(`${server.url}/api/v1/overview`, { headers: { authorization: `Bearer ${key}` } })
    try {
      expect((await get()).status).toBe(200)
      // Idle: the file is free for another process.
      const writer = another(WRITE, [path])
      await writer.ready
      expect(writer.child.exitCode).toBe(0)

      const holder = another(HOLD, [path])
      await holder.ready
      const busy = await get()
      expect(busy.status).toBe(503)
      expect(busy.headers.get('retry-after')).toBe('5')
      const body = (await busy.json()) as { error: { code: string; message: string } }
      expect(body.error.code).toBe('DATABASE_BUSY')
      expect(body.error.message).toContain(`in use by process ${holder.child.pid}`)
      // Files that need no database are served meanwhile.
      expect((await fetch(`${server.url}/openapi.json`)).status).toBe(200)

      holder.child.kill()
      await new Promise((ok) => holder.child.once('exit', ok))
      expect((await get()).status).toBe(200)
    } finally {
      await server.close()
    }
    const after = await openDatabase(path, { readOnly: true })
    expect(
      await after.driver.all(sql`SELECT value FROM memberlens_meta WHERE key = 'written_by'`),
    ).toEqual([{ value: 'another process' }])
    await after.close()
  })
})
