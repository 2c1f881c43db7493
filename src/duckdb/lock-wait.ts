/**
 * One DuckDB database file, many processes. DuckDB lets one process at a time open a file read-write (and
 * read-only opens share the file only with other read-only opens), so a second process gets a lock error.
 * This module turns that error into a bounded wait and, if the file stays held, into one line that names the
 * holder and says what to do. It never loads DuckDB itself.
 *
 * The CLI sets a process-wide {@link LockWaitPolicy} (wait up to `MEMBERLENS_LOCK_WAIT` seconds, printing one
 * note); a library caller that sets nothing gets the clear error at once. The server passes its own policy
 * to the shared handle it opens on demand (see `DuckDbDriver.shared`).
 * @module
 */
import { MemberlensError } from '../core/errors.js'

/** How long to wait for a database file that another process holds. */
export interface LockWaitPolicy {
  /** Give up after this many milliseconds (0: fail at once). */
  readonly timeoutMs: number
  /** Time between attempts (default 100 ms). */
  readonly intervalMs?: number
  /**
   * Called once, with a one-line note, when the first attempt finds the file held; `wait` names the file, its
   * holder and the longest wait, for a caller that words the note itself (e.g. in another language).
   */
  readonly onWait?: (
    note: string,
    wait: { readonly path: string; readonly holder: LockHolder; readonly timeoutMs: number },
  ) => void
}

let processPolicy: LockWaitPolicy = { timeoutMs: 0 }

/** Sets the policy that opens without their own policy use (the CLI sets it once per command). */
export function setLockWaitPolicy(policy: LockWaitPolicy): void {
  processPolicy = policy
}

export function lockWaitPolicy(): LockWaitPolicy {
  return processPolicy
}

/** The process that holds a database file, as DuckDB's lock error names it. */
export interface LockHolder {
  readonly pid?: number
  readonly program?: string
}

const LOCK_RE = /Could not set lock on file/i
const HOLDER_RE = /Conflicting lock is held in (.+?) \(PID (\d+)\)/

/** The holder named by a DuckDB lock error, or undefined when `error` is not a lock error. */
export function lockHolderOf(error: unknown): LockHolder | undefined {
  const message = error instanceof Error ? error.message : String(error)
  if (!LOCK_RE.test(message)) return undefined
  const m = HOLDER_RE.exec(message)
  if (!m) return {}
  return { program: m[1] as string, pid: Number(m[2]) }
}

function describeHolder(holder: LockHolder): string {
  if (holder.pid === undefined) return 'another process'
  return `process ${holder.pid}${holder.program ? ` (${holder.program})` : ''}`
}

/** A database file stayed held by another process for longer than the wait allowed. */
export class DatabaseBusyError extends MemberlensError {
  constructor(
    readonly path: string,
    readonly holder: LockHolder,
    waitedMs: number,
    cause?: unknown,
  ) {
    const waited = waitedMs > 0 ? ` (waited ${Math.round(waitedMs / 1000)} s)` : ''
    super(
      'DATABASE_BUSY',
      `${path} is in use by ${describeHolder(holder)}${waited}: one process at a time can open a DuckDB database. ` +
        `Wait for that command to finish, or stop it, and run again (a running \`memberlens serve\` lets go of the ` +
        `database after about a second without requests; MEMBERLENS_LOCK_WAIT sets how many seconds to wait).`,
      { cause },
    )
  }
}

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms))

/**
 * Runs `open` until it does not fail with a lock error, for at most the policy's time; other errors pass
 * through at once. Past the time, throws a {@link DatabaseBusyError}.
 */
export async function retryWhileLocked<T>(
  path: string,
  open: () => Promise<T>,
  policy: LockWaitPolicy = processPolicy,
): Promise<T> {
  const started = performance.now()
  const interval = policy.intervalMs ?? 100
  let noted = false
  for (;;) {
    try {
      return await open()
    } catch (error) {
      const holder = lockHolderOf(error)
      if (holder === undefined) throw error
      const waited = performance.now() - started
      if (waited >= policy.timeoutMs) throw new DatabaseBusyError(path, holder, waited, error)
      if (!noted) {
        noted = true
        policy.onWait?.(
          `waiting for ${path}: in use by ${describeHolder(holder)} (up to ${Math.round(policy.timeoutMs / 1000)} s)`,
          { path, holder, timeoutMs: policy.timeoutMs },
        )
      }
      await sleep(Math.min(interval, Math.max(1, policy.timeoutMs - waited)))
    }
  }
}
