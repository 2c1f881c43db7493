/** One database file, many processes: waiting for a held file, the one-line error, the shared handle. */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { NotFoundError } from '../../src/core/errors.js'
import { DuckDbDriver } from '../../src/duckdb/driver.js'
import { sql } from '../../src/engine/sql/fragment.js'
import {
  DatabaseBusyError,
  lockHolderOf,
  retryWhileLocked,
  setLockWaitPolicy,
} from '../../src/store/db-lock.js'

const REPO = resolve(import.meta.dirname, '../..')
const LOCK_TEXT =
  'IO Error: Could not set lock on file "/data/m.duckdb": Conflicting lock is held in /usr/bin/node (PID 4242). See also https://duckdb.org/docs/stable/connect/concurrency'

let dir: string
const children: ChildProcess[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-lock-'))
})
afterEach(() => {
  setLockWaitPolicy({ timeoutMs: 0 })
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill()
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Another process that opens `path` read-write and keeps it until killed; resolves once it holds it. */
function holdInAnotherProcess(path: string): Promise<ChildProcess> {
  const script = `import { DuckDBInstance } from '@duckdb/node-api'
const i = await DuckDBInstance.create(process.argv[1]); await i.connect()
process.stdout.write('held\\n'); setInterval(() => {}, 1000)`
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, path], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  return new Promise((ok, fail) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('held')) ok(child)
    })
    child.once('exit', (code) => fail(new Error(`holder exited with ${code}`)))
  })
}

/** Another process that opens `path`, runs one statement and exits; resolves with its exit code. */
function writeInAnotherProcess(path: string, statement: string): Promise<number | null> {
  const script = `import { DuckDBInstance } from '@duckdb/node-api'
const i = await DuckDBInstance.create(process.argv[1]); const c = await i.connect()
await c.run(process.argv[2]); c.closeSync(); i.closeSync()`
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, path, statement], {
    cwd: REPO,
    stdio: 'inherit',
  })
  return new Promise((ok) => child.once('exit', ok))
}

describe('database locks', () => {
  it('reads the holder from DuckDB’s lock error and ignores other errors', () => {
    expect(lockHolderOf(new Error(LOCK_TEXT))).toEqual({ pid: 4242, program: '/usr/bin/node' })
    expect(lockHolderOf(new Error('Catalog Error: Table x does not exist'))).toBeUndefined()
  })

  it('retries while the file is held, noting the wait once, and gives up with one line naming the holder', async () => {
    const notes: string[] = []
    let attempts = 0
    const value = await retryWhileLocked(
      'm.duckdb',
      async () => {
        attempts++
        if (attempts < 3) throw new Error(LOCK_TEXT)
        return 'open'
      },
      { timeoutMs: 2000, intervalMs: 10, onWait: (n) => notes.push(n) },
    )
    expect(value).toBe('open')
    expect(attempts).toBe(3)
    expect(notes).toEqual([
      'waiting for m.duckdb: in use by process 4242 (/usr/bin/node) (up to 2 s)',
    ])

    const busy = await retryWhileLocked('m.duckdb', () => Promise.reject(new Error(LOCK_TEXT)), {
      timeoutMs: 60,
      intervalMs: 10,
    }).catch((e: unknown) => e)
    expect(busy).toBeInstanceOf(DatabaseBusyError)
    expect((busy as Error).message).toMatch(
      /^m\.duckdb is in use by process 4242 \(\/usr\/bin\/node\) \(waited \d+ s\): one process at a time/,
    )
    expect((busy as Error).message).not.toMatch(/\n/)

    let other = 0
    await expect(
      retryWhileLocked(
        'm.duckdb',
        () => {
          other++
          return Promise.reject(new Error('disk full'))
        },
        { timeoutMs: 1000 },
      ),
    ).rejects.toThrow('disk full')
    expect(other).toBe(1)
  })

  it('names the other process that holds a real database file, then opens it once that process is gone', async () => {
    const path = join(dir, 'held.duckdb')
    const holder = await holdInAnotherProcess(path)
    setLockWaitPolicy({ timeoutMs: 300, intervalMs: 50 })
    const error = await DuckDbDriver.open({ path, readOnly: true }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DatabaseBusyError)
    expect((error as DatabaseBusyError).holder.pid).toBe(holder.pid)
    expect((error as Error).message).toContain(`in use by process ${holder.pid}`)

    // The holder ends while we wait: the open goes through.
    setLockWaitPolicy({ timeoutMs: 10_000, intervalMs: 50 })
    setTimeout(() => holder.kill(), 300)
    const driver = await DuckDbDriver.open({ path })
    expect(await driver.first(sql`SELECT 1 AS one`)).toEqual({ one: 1 })
    await driver.close()
  })

  it('says that a database opened for reading does not exist', async () => {
    await expect(
      DuckDbDriver.open({ path: join(dir, 'none.duckdb'), readOnly: true }),
    ).rejects.toThrow(NotFoundError)
  })

  it('a shared driver opens on use, lets go when idle so another process can write, and sees what it wrote', async () => {
    const path = join(dir, 'shared.duckdb')
    const driver = DuckDbDriver.shared({ path }, { idleMs: 80, lockWait: { timeoutMs: 5000 } })
    expect(driver.isOpen).toBe(false)
    await driver.execute(sql`CREATE TABLE t (x INTEGER)`)
    expect(driver.isOpen).toBe(true)

    // Held across an idle period: stays open.
    const release = await driver.hold()
    await new Promise((ok) => setTimeout(ok, 200))
    expect(driver.isOpen).toBe(true)
    release()

    for (let i = 0; i < 100 && driver.isOpen; i++) await new Promise((ok) => setTimeout(ok, 50))
    expect(driver.isOpen).toBe(false)
    expect(await writeInAnotherProcess(path, 'INSERT INTO t VALUES (7)')).toBe(0)
    expect(await driver.all(sql`SELECT x FROM t`)).toEqual([{ x: 7 }])
    await driver.close()
    await expect(driver.hold()).rejects.toThrow(/closed/)
  })
})
