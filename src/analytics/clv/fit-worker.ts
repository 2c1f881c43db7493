/**
 * Worker-thread entry of {@link fitClvSummariesOffThread}: fits the summaries it is given and posts the
 * fit back, or the error's class, message and iteration count.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import { InputError, ModelFitError } from '../../core/errors.js'
import type { RepeatBuyingSummaries } from '../../engine/summaries/repeat-buying.js'
import { fitClvSummaries, type FitLimits, type ResolvedClvOptions } from './clv.js'

/** What the launcher sends. */
export interface FitRequest {
  readonly summaries: RepeatBuyingSummaries
  readonly options: ResolvedClvOptions
  readonly limits: FitLimits
}

/** What the worker answers. */
export type FitReply =
  | { readonly ok: true; readonly fit: ReturnType<typeof fitClvSummaries> }
  | {
      readonly ok: false
      readonly kind: 'input' | 'model-fit' | 'other'
      readonly message: string
      readonly iterations: number
    }

const request = workerData as FitRequest
let reply: FitReply
try {
  reply = { ok: true, fit: fitClvSummaries(request.summaries, request.options, request.limits) }
} catch (error) {
  reply = {
    ok: false,
    kind:
      error instanceof InputError
        ? 'input'
        : error instanceof ModelFitError
          ? 'model-fit'
          : 'other',
    message: error instanceof Error ? error.message : String(error),
    iterations: error instanceof ModelFitError ? error.iterations : 0,
  }
}
parentPort?.postMessage(reply)
