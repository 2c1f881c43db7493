/**
 * The CLV fit on a worker thread, so that a long fit (Pareto/NBD on a large base) does not hold up the
 * API's other requests. The summaries are copied to the worker and the fit copied back; errors come back
 * as the same classes (InputError, ModelFitError), so the API answers them as it would a fit on its own
 * thread.
 * @module
 */
import type { Worker } from 'node:worker_threads'
import { InputError, ModelFitError } from '../../core/errors.js'
import { startModuleWorker } from '../../core/worker-thread.js'
import type { RepeatBuyingSummaries } from '../../engine/summaries/repeat-buying.js'
import type { ClvFit, FitLimits, ResolvedClvOptions } from './clv.js'
import type { FitReply, FitRequest } from './fit-worker.js'

/** Starts the worker on `fit-worker` (built `.js`, or `.ts` when this module runs from source). */
function startWorker(request: FitRequest): Worker {
  const fromSource = import.meta.url.endsWith('.ts')
  const entry = new URL(fromSource ? './fit-worker.ts' : './fit-worker.js', import.meta.url)
  return startModuleWorker(entry, request)
}

/**
 * {@link fitClvSummaries} on a worker thread. Resolves with the fit; rejects with InputError or
 * ModelFitError as the fit would throw them (a time limit that runs out is a ModelFitError).
 */
export function fitClvSummariesOffThread(
  summaries: RepeatBuyingSummaries,
  options: ResolvedClvOptions,
  limits: FitLimits = {},
): Promise<ClvFit> {
  return new Promise<ClvFit>((resolve, reject) => {
    const worker = startWorker({ summaries, options, limits })
    let settled = false
    worker.once('message', (reply: FitReply) => {
      settled = true
      void worker.terminate()
      if (reply.ok) resolve(reply.fit)
      else if (reply.kind === 'input') reject(new InputError(reply.message))
      else if (reply.kind === 'model-fit')
        reject(new ModelFitError(reply.message, reply.iterations))
      else reject(new Error(`CLV fit failed on its worker thread: ${reply.message}`))
    })
    worker.once('error', (error) => {
      if (settled) return
      settled = true
      reject(error)
    })
    worker.once('exit', (code) => {
      if (!settled) {
        settled = true
        reject(
          new Error(`the CLV fit's worker thread stopped (exit code ${code}) before answering`),
        )
      }
    })
  })
}
