/**
 * A bounded pool of sessions (connections of their own) on one DuckDB database, for a server that reads it for
 * many requests at once: at most `size` sessions are lent out, so concurrent requests run side by side up to
 * that number and wait in arrival order beyond it; a returned session is kept for the next request and closed
 * after `idleMs` unused, so that a shared database can close and other processes open the file in between.
 *
 * A session comes back clean: its temporary tables are dropped and a stop ({@link DuckDbDriver.stop}) is
 * lifted; one that cannot be cleaned is closed instead. A request that gives up (`signal` aborted) while
 * waiting leaves the queue.
 * @module
 */
import { sourceColumn, sql } from '../engine/sql/fragment.js'
import { QueryCancelledError, type DuckDbDriver } from './driver.js'

export interface SessionPoolOptions {
  /** Most sessions lent out at once (at least 1). */
  readonly size: number
  /** Milliseconds an unused session is kept before it is closed. */
  readonly idleMs: number
}

interface Waiter {
  readonly resolve: (session: DuckDbDriver) => void
  readonly reject: (error: unknown) => void
  readonly signal: AbortSignal | undefined
  readonly onAbort: () => void
}

/** What a pool is doing now. */
export interface SessionPoolStats {
  /** Sessions lent out. */
  readonly lent: number
  /** Sessions kept unused. */
  readonly idle: number
  /** Requests waiting for a session. */
  readonly waiting: number
}

export class SessionPool {
  private lent = 0
  private readonly idle: { session: DuckDbDriver; timer: NodeJS.Timeout }[] = []
  private readonly waiting: Waiter[] = []
  private closed = false

  constructor(
    private readonly driver: DuckDbDriver,
    private readonly options: SessionPoolOptions,
  ) {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new Error(`a session pool needs a size of at least 1, not ${options.size}`)
  }

  get stats(): SessionPoolStats {
    return { lent: this.lent, idle: this.idle.length, waiting: this.waiting.length }
  }

  /** A session for one request; give it back with {@link release}. Rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<DuckDbDriver> {
    if (this.closed) return Promise.reject(new Error('the session pool is closed'))
    if (signal?.aborted === true) return Promise.reject(abortReason(signal))
    if (this.lent < this.options.size) {
      this.lent++
      return Promise.resolve(this.take())
    }
    return new Promise<DuckDbDriver>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const at = this.waiting.indexOf(waiter)
          if (at >= 0) this.waiting.splice(at, 1)
          reject(abortReason(signal as AbortSignal))
        },
      }
      signal?.addEventListener('abort', waiter.onAbort, { once: true })
      this.waiting.push(waiter)
    })
  }

  /** Gives a session back: cleaned and handed to the next waiting request, or kept for a while. */
  async release(session: DuckDbDriver): Promise<void> {
    let kept: DuckDbDriver | undefined = session
    try {
      await clean(session)
    } catch {
      kept = undefined
      await session.close().catch(() => undefined)
    }
    const next = this.waiting.shift()
    if (next !== undefined) {
      next.signal?.removeEventListener('abort', next.onAbort)
      next.resolve(kept ?? this.driver.session())
      return
    }
    this.lent--
    if (kept === undefined) return
    if (this.closed) {
      await kept.close()
      return
    }
    const entry = {
      session: kept,
      timer: setTimeout(() => {
        const at = this.idle.indexOf(entry)
        if (at >= 0) this.idle.splice(at, 1)
        void kept.close().catch(() => undefined)
      }, this.options.idleMs),
    }
    entry.timer.unref()
    this.idle.push(entry)
  }

  /** Closes the unused sessions and refuses new requests; lent sessions close when given back. */
  async close(): Promise<void> {
    this.closed = true
    for (const w of this.waiting.splice(0)) {
      w.signal?.removeEventListener('abort', w.onAbort)
      w.reject(new Error('the session pool is closed'))
    }
    for (const { session, timer } of this.idle.splice(0)) {
      clearTimeout(timer)
      await session.close()
    }
  }

  /** The most recently used unused session (its connection is likeliest to be warm), or a new one. */
  private take(): DuckDbDriver {
    const entry = this.idle.pop()
    if (entry === undefined) return this.driver.session()
    clearTimeout(entry.timer)
    return entry.session
  }
}

/** Lifts a stop and drops the temporary tables a request left on the session's connection. */
async function clean(session: DuckDbDriver): Promise<void> {
  session.resume()
  if (!session.isOpen) return
  const temp = await session.all<{ name: string }>(
    sql`SELECT table_name AS name FROM duckdb_tables() WHERE temporary`,
  )
  for (const t of temp)
    await session.execute(
      sql`DROP TABLE IF EXISTS ${sourceColumn('temp')}.${sourceColumn('main')}.${sourceColumn(t.name)}`,
    )
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  return new QueryCancelledError(
    reason instanceof Error
      ? reason.message
      : typeof reason === 'string'
        ? reason
        : 'request aborted',
  )
}
