/**
 * One writer per embedded ledger directory. PGlite does not lock its data directory, and two processes writing
 * one directory corrupt each other's view of it (a write acknowledged by one is lost, the other spins). So the
 * embedded store takes this lock before it opens the directory and releases it when it closes.
 *
 * The lock is a file, `memberlens.lock`, inside the directory, created atomically (`O_CREAT | O_EXCL`), holding
 * who took it: process id, host, start time and what the process is (e.g. `memberlens serve at http://…`).
 * A lock whose process is gone (same host, pid no longer running, or this very pid without the lock held) is
 * stale and taken over; a lock of a live process, or of another host (whose processes cannot be checked), is
 * refused with a {@link LedgerInUseError} naming the holder and what to do.
 *
 * Taking over a stale lock moves the file aside under a private name and checks that what it moved is the
 * stale lock it read: if another process took the lock over in between, its fresh lock is put back (with a
 * hard link, which never overwrites) and the loop looks again, so two processes cannot both take it over.
 * @module
 */
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { systemClock, type Clock } from '../../core/clock.js'
import { LedgerInUseError } from '../../core/errors.js'

/** The lock file's name inside the ledger directory. */
export const LOCK_FILE = 'memberlens.lock'

/** What the lock file holds. */
export interface LockInfo {
  readonly pid: number
  readonly host: string
  /** ISO time the lock was taken. */
  readonly since: string
  /** What holds it, in the user's terms: `memberlens serve at http://127.0.0.1:3000`, `memberlens points earn`. */
  readonly holder: string
}

export interface DirLock {
  /** The lock file. */
  readonly path: string
  /** Rewrites the holder description (e.g. once the server knows its address). */
  describe(holder: string): void
  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): void
}

/** A lock file that cannot be parsed and is older than this is left over from a crash mid-write. */
const UNREADABLE_STALE_MS = 10_000
const ATTEMPTS = 20

/** Lock files held by this process, with the exact text written, for release at exit. */
const held = new Map<string, string>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // Normal exits and uncaught errors run 'exit' listeners; a kill -9 leaves a stale lock that the next open
  // recognises by its dead pid.
  process.on('exit', () => {
    for (const [path, text] of held) releaseIfOurs(path, text)
    held.clear()
  })
}

function releaseIfOurs(path: string, text: string): void {
  try {
    if (readFileSync(path, 'utf8') === text) unlinkSync(path)
  } catch {
    // already gone, or the directory was removed: nothing to release
  }
}

function parseLock(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>
    if (
      typeof v.pid === 'number' &&
      Number.isInteger(v.pid) &&
      typeof v.host === 'string' &&
      typeof v.since === 'string' &&
      typeof v.holder === 'string'
    )
      return v as LockInfo
  } catch {
    // not JSON: handled by the caller
  }
  return undefined
}

/** Whether the lock's process may still be running. Another host's process cannot be checked: assumed alive. */
function holderAlive(info: LockInfo, path: string): boolean {
  if (info.host !== hostname()) return true
  if (info.pid === process.pid) return held.has(path)
  try {
    process.kill(info.pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** A value read from the lock file, safe to put in a one-line message. */
function oneLine(text: string): string {
  const flat = text.replace(/\p{Cc}+/gu, ' ').trim()
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat
}

function inUseMessage(dir: string, info: LockInfo, path: string): string {
  const holder = oneLine(info.holder)
  const who = info.pid === process.pid ? 'this process' : `pid ${info.pid}`
  const where = info.host === hostname() ? '' : ` on host ${oneLine(info.host)}`
  const isServer = /^memberlens serve\b/.test(holder)
  const todo = isServer
    ? 'stop the server, or send the operation through its API (POST /api/v1/loyalty/…), or use a PostgreSQL ledger (--ledger postgres://…) to share one ledger between processes'
    : 'wait for it to finish or stop it, or use a PostgreSQL ledger (--ledger postgres://…) to share one ledger between processes'
  const remote = info.host === hostname() ? '' : `; if that process no longer runs, delete ${path}`
  return `ledger directory ${dir} is in use by ${holder} (${who}${where}, since ${oneLine(info.since)}): an embedded ledger has one writer at a time; ${todo}${remote}`
}

function sleep(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms))
}

/** Creates the lock file with `text` if it is absent; false when it exists. */
function tryCreate(path: string, text: string): boolean {
  let fd: number
  try {
    fd = openSync(path, 'wx', 0o644)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
  try {
    writeSync(fd, text)
  } finally {
    closeSync(fd)
  }
  return true
}

/** Moves a stale lock (whose text was `staleText`) out of the way, unless another process replaced it meanwhile. */
function removeStale(path: string, staleText: string): void {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    renameSync(path, aside)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  let moved = ''
  try {
    moved = readFileSync(aside, 'utf8')
  } catch {
    // vanished: nothing to put back
  }
  if (moved !== staleText) {
    // We moved a lock that another process has just taken: put it back without overwriting anything.
    try {
      linkSync(aside, path)
    } catch {
      // a third process created one meanwhile: theirs stands
    }
  }
  try {
    unlinkSync(aside)
  } catch {
    // already gone
  }
}

/**
 * Takes the lock on ledger directory `dir` (which must exist) for `holder`, or throws a
 * {@link LedgerInUseError} naming the process that holds it. Never waits for a live holder.
 */
export async function lockLedgerDir(
  dir: string,
  holder: string,
  clock: Clock = systemClock,
): Promise<DirLock> {
  const path = join(resolve(dir), LOCK_FILE)
  const info = (h: string): string =>
    `${JSON.stringify({ pid: process.pid, host: hostname(), since: clock.now().toISOString(), holder: h } satisfies LockInfo)}\n`
  let text = info(holder)
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (tryCreate(path, text)) {
      held.set(path, text)
      installExitHook()
      return {
        path,
        describe(h: string) {
          if (held.get(path) !== text) return
          const next = info(h)
          // Replace atomically: a reader sees the old or the new description, never half of one.
          const tmp = `${path}.${process.pid}.tmp`
          writeFileSync(tmp, next)
          renameSync(tmp, path)
          text = next
          held.set(path, text)
        },
        release() {
          if (held.get(path) !== text) return
          held.delete(path)
          releaseIfOurs(path, text)
        },
      }
    }
    let current: string
    try {
      current = readFileSync(path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue // released meanwhile: try again
      throw error
    }
    const other = parseLock(current)
    if (other === undefined) {
      // Being written right now, or left half-written by a crash: wait briefly, then treat an old one as stale.
      let age: number
      try {
        age = clock.now().getTime() - statSync(path).mtimeMs
      } catch {
        continue
      }
      if (age > UNREADABLE_STALE_MS) removeStale(path, current)
      else await sleep(50)
      continue
    }
    if (holderAlive(other, path)) throw new LedgerInUseError(inUseMessage(dir, other, path))
    removeStale(path, current)
  }
  throw new LedgerInUseError(
    `could not take the lock ${path} after ${ATTEMPTS} attempts: other processes keep taking and releasing it; try again`,
  )
}
