/**
 * Ctrl+C: one SIGINT handler for the whole CLI, installed by `main` while a command runs. Engines opened for
 * the command register here; an interrupt cancels their running queries (a ClickHouse request is aborted,
 * which stops the query on the server; a DuckDB connection is interrupted) and the command ends with exit
 * code 130 and one line on stderr. Commands without a cancellable engine stop at once, as without a handler,
 * and commands that listen for Ctrl+C themselves (`serve`) keep their own handling. A second Ctrl+C during a
 * cancel stops at once.
 * @module
 */

/** Exit code of a command stopped by Ctrl+C (128 + SIGINT), as shells report it. */
export const EXIT_CANCELLED = 130

/** Anything with a running query that can be cancelled. */
export interface Cancellable {
  cancel(): void
}

const registered = new Set<Cancellable>()
let controller: AbortController | undefined

/**
 * Registers an open engine: while registered, Ctrl+C cancels its running query. Returns the function that
 * unregisters it. Outside `main` (library use, tests) registering has no effect on signals.
 */
export function registerCancellable(target: Cancellable): () => void {
  registered.add(target)
  if (controller?.signal.aborted) target.cancel()
  return () => {
    registered.delete(target)
  }
}

/** Cancels every registered engine; true when there was one (the command then ends by itself). */
export function cancelRegistered(): boolean {
  controller?.abort()
  for (const target of registered) target.cancel()
  return registered.size > 0
}

/**
 * Runs `fn` with the SIGINT handler installed. Resolves with `fn`'s value, or with `cancelled` once Ctrl+C
 * has cancelled the running queries (without waiting for `fn`, whose queries reject shortly after).
 */
export async function withInterruptHandler<T>(
  fn: () => Promise<T>,
  onStopNow: () => never = () => process.exit(EXIT_CANCELLED),
): Promise<{ readonly cancelled: false; readonly value: T } | { readonly cancelled: true }> {
  const own = new AbortController()
  controller = own
  let presses = 0
  const aborted = new Promise<{ readonly cancelled: true }>((resolve) => {
    own.signal.addEventListener('abort', () => resolve({ cancelled: true }), { once: true })
  })
  const onSigint = () => {
    // A command that handles Ctrl+C itself (serve, demo: stop the server and return) keeps doing so.
    if (registered.size === 0 && process.listenerCount('SIGINT') > 1) return
    presses++
    if (presses > 1 || !cancelRegistered()) onStopNow()
  }
  process.on('SIGINT', onSigint)
  try {
    const run = fn().then((value) => ({ cancelled: false as const, value }))
    // The command's own rejection after a cancel is expected; it must not surface as unhandled.
    run.catch(() => undefined)
    return await Promise.race([run, aborted])
  } finally {
    process.off('SIGINT', onSigint)
    if (controller === own) controller = undefined
  }
}
