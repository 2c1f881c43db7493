/**
 * The embedded ledger's directory lock: one process at a time, a clear refusal naming the holder, release on
 * close, and a lock left by a process that is gone taken over.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LedgerInUseError } from '../../src/core/errors.js'
import { LOCK_FILE, lockLedgerDir } from '../../src/ledger/stores/dir-lock.js'
import { openLedgerStore } from '../../src/ledger/stores/open-store.js'

let root = ''
let dir = ''
let lockPath = ''

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'memberlens-lock-'))
  dir = join(root, 'ledger')
  lockPath = join(dir, LOCK_FILE)
  await mkdir(dir)
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

/** The pid of a process that has exited (so no process runs under it, barring reuse within the test). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  })
  return Number(r.stdout)
}

function writeLock(info: { pid: number; host?: string; holder?: string }): void {
  writeFileSync(
    lockPath,
    JSON.stringify({
      pid: info.pid,
      host: info.host ?? hostname(),
      since: '2026-12-03T08:00:00.000Z',
      holder: info.holder ?? 'memberlens points earn',
    }),
  )
}

/** The error a second taker gets (the store takes the lock before it opens the directory). */
async function refusal(): Promise<LedgerInUseError> {
  try {
    ;(await lockLedgerDir(dir, 'memberlens points earn')).release()
  } catch (error) {
    expect(error).toBeInstanceOf(LedgerInUseError)
    return error as LedgerInUseError
  }
  throw new Error('the second open should have been refused')
}

describe('embedded ledger directory lock', () => {
  it('refuses a second open while the first is open, and releases the directory on close', async () => {
    const first = await openLedgerStore(dir, { holder: 'memberlens loyalty replay' })
    try {
      const info = JSON.parse(readFileSync(lockPath, 'utf8')) as Record<string, unknown>
      expect(info).toMatchObject({
        pid: process.pid,
        host: hostname(),
        holder: 'memberlens loyalty replay',
      })
      const e = await openLedgerStore(dir).then(
        async (s) => {
          await s.close()
          throw new Error('the second open should have been refused')
        },
        (error: unknown) => error as LedgerInUseError,
      )
      expect(e).toBeInstanceOf(LedgerInUseError)
      expect(e.code).toBe('LEDGER_IN_USE')
      expect(e.message).toMatch(
        /^ledger directory .+ is in use by memberlens loyalty replay \(this process, since .+\): an embedded ledger has one writer at a time; .*PostgreSQL ledger/,
      )
      expect(e.message).not.toContain('\n')
    } finally {
      await first.close()
    }
    expect(existsSync(lockPath)).toBe(false)
    const again = await openLedgerStore(dir)
    await again.close()
  })

  it('names a running server, its pid and address, and what to do', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], {
      stdio: 'ignore',
    })
    try {
      const pid = child.pid as number
      writeLock({ pid, holder: 'memberlens serve at http://127.0.0.1:4321' })
      const e = await refusal()
      expect(e.message).toContain(
        `is in use by memberlens serve at http://127.0.0.1:4321 (pid ${pid}, since 2026-12-03T08:00:00.000Z)`,
      )
      expect(e.message).toMatch(
        /stop the server, or send the operation through its API \(POST \/api\/v1\/loyalty\/…\), or use a PostgreSQL ledger/,
      )
      // The refusal touched nothing: the holder's lock is still there, unchanged.
      expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ pid })
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('takes over a lock whose process is gone', async () => {
    writeLock({ pid: deadPid() })
    const lock = await lockLedgerDir(dir, 'test')
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: process.pid })
    lock.release()
    expect(existsSync(lockPath)).toBe(false)
  })

  it('takes over a lock with this pid that this process does not hold (a restarted container)', async () => {
    writeLock({ pid: process.pid })
    ;(await lockLedgerDir(dir, 'test')).release()
    expect(existsSync(lockPath)).toBe(false)
  })

  it("refuses another host's lock, which it cannot check, and says which file to delete", async () => {
    writeLock({ pid: 12345, host: 'other-host.example' })
    const e = await refusal()
    expect(e.message).toContain('(pid 12345 on host other-host.example,')
    expect(e.message).toContain(`if that process no longer runs, delete ${lockPath}`)
  })

  it('keeps the refusal on one line whatever the lock file says', async () => {
    writeLock({
      pid: 12345,
      host: 'other-host.example',
      holder: 'memberlens serve\nat\r\u001b[31mx',
    })
    const e = await refusal()
    expect(e.message).toContain('is in use by memberlens serve at [31mx (pid 12345')
    expect(e.message).not.toMatch(/\p{Cc}/u)
  })

  it('takes over an unreadable lock only once it is old (a crash while writing it)', async () => {
    writeFileSync(lockPath, '')
    // A fresh empty file may be a lock being written right now: waited for, then refused.
    await expect(lockLedgerDir(dir, 'test')).rejects.toThrow(/could not take the lock/)
    const old = new Date(Date.now() - 60_000)
    utimesSync(lockPath, old, old)
    const lock = await lockLedgerDir(dir, 'test')
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ holder: 'test' })
    lock.release()
    expect(existsSync(lockPath)).toBe(false)
  })

  it('updates the holder description without letting the lock go', async () => {
    const lock = await lockLedgerDir(dir, 'memberlens serve')
    lock.describe('memberlens serve at http://127.0.0.1:9')
    expect(JSON.parse(readFileSync(lock.path, 'utf8'))).toMatchObject({
      pid: process.pid,
      holder: 'memberlens serve at http://127.0.0.1:9',
    })
    lock.release()
    lock.release()
    expect(existsSync(lock.path)).toBe(false)
  })
})
