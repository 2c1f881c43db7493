/**
 * Group commit: requests from concurrent callers wait in a short queue and are written together, one
 * transaction per batch, so that one commit (one WAL flush) acknowledges many of them.
 *
 * A batch is cut when the queue holds `maxBatch` requests that can go, or `maxDelayMs` after the first one
 * arrived. Each caller's promise settles only after its batch has committed (or with its own refusal). Order per
 * key (the member) is kept: a batch holds at most one request per key, and a request waits while an earlier one
 * of its key is queued before it or still in a batch being written. At most `maxInFlight` batches are written at
 * once.
 * @module
 */

export interface GroupCommitOptions {
  /** Requests per batch at most (default 64). */
  readonly maxBatch?: number
  /** How long the first request of a batch waits for others, in milliseconds (default 1). */
  readonly maxDelayMs?: number
  /** Batches written at the same time at most (default 4). */
  readonly maxInFlight?: number
}

/** One queued request: its key (the member), and the caller's promise to settle. */
export interface Queued<T, R> {
  readonly key: string
  readonly request: T
  readonly resolve: (value: R) => void
  readonly reject: (error: unknown) => void
}

/**
 * A queue that cuts batches and hands each to `write`, which must settle every request of the batch (resolve or
 * reject it) before it resolves.
 */
export class GroupCommitQueue<T, R> {
  private readonly maxBatch: number
  private readonly maxDelayMs: number
  private readonly maxInFlight: number
  private queue: Queued<T, R>[] = []
  private readonly busy = new Set<string>()
  private inFlight = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private readonly idle: Array<() => void> = []

  constructor(
    private readonly write: (batch: readonly Queued<T, R>[]) => Promise<void>,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 64
    this.maxDelayMs = options.maxDelayMs ?? 1
    this.maxInFlight = options.maxInFlight ?? 4
    for (const [name, v] of [
      ['maxBatch', this.maxBatch],
      ['maxInFlight', this.maxInFlight],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 1)
        throw new RangeError(`${name} must be a whole number ≥ 1`)
    }
    if (!(this.maxDelayMs >= 0)) throw new RangeError('maxDelayMs must be ≥ 0')
  }

  /** Queues a request; the promise settles once its batch has been written. */
  submit(key: string, request: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ key, request, resolve, reject })
      if (this.queue.length >= this.maxBatch) this.flush()
      else this.timer ??= setTimeout(() => this.flush(), this.maxDelayMs)
    })
  }

  /** Requests waiting or being written. */
  get pending(): number {
    return this.queue.length + this.busy.size
  }

  /** Resolves when every request submitted so far has been settled. */
  drained(): Promise<void> {
    if (this.pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.idle.push(resolve))
  }

  /** Cuts as many batches as may be written now. */
  private flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
    }
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch: Queued<T, R>[] = []
      const rest: Queued<T, R>[] = []
      // Keys that cannot go in this batch: being written, or already met in this pass (kept in order).
      const held = new Set(this.busy)
      for (const q of this.queue) {
        if (batch.length < this.maxBatch && !held.has(q.key)) batch.push(q)
        else rest.push(q)
        held.add(q.key)
      }
      if (batch.length === 0) break
      this.queue = rest
      for (const q of batch) this.busy.add(q.key)
      this.inFlight++
      void this.run(batch)
    }
    // Whatever is left waits for a batch in flight: its end flushes again.
  }

  private async run(batch: readonly Queued<T, R>[]): Promise<void> {
    try {
      await this.write(batch)
    } catch (error) {
      // `write` settles every request; should it fail itself, no caller is left waiting.
      for (const q of batch) q.reject(error)
    } finally {
      for (const q of batch) this.busy.delete(q.key)
      this.inFlight--
      if (this.queue.length > 0) this.flush()
      if (this.pending === 0) for (const done of this.idle.splice(0)) done()
    }
  }
}
