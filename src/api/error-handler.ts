/**
 * One registry maps error codes to HTTP statuses; every error answers `{ error: { code, message, details? } }`.
 * User errors say what went wrong; anything else is logged and answered with a 500 that leaks nothing.
 * @module
 */
import type { Hook } from '@hono/zod-openapi'
import type { Context, Env } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { inTermsOf, type FieldNames } from '../core/error-terms.js'
import { formatIssue, InputError, MemberlensError, type ErrorCode } from '../core/errors.js'

export type ApiErrorCode =
  | ErrorCode
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'QUERY_TIMEOUT'
  | 'TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'CONFLICT'
  | 'UNAVAILABLE'
  | 'INTERNAL'

export const STATUS: Readonly<Record<ApiErrorCode, ContentfulStatusCode>> = {
  INPUT_INVALID: 400,
  CONFIG_INVALID: 400,
  UNSUPPORTED_FEATURE: 400,
  NOT_FOUND: 404,
  LEDGER_CONFLICT: 409,
  INSUFFICIENT_POINTS: 409,
  REWARD_OUT_OF_STOCK: 409,
  LEDGER_IN_USE: 503,
  MODEL_FIT_FAILED: 422,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  CONFLICT: 409,
  UNAVAILABLE: 503,
  DATABASE_BUSY: 503,
  RATE_LIMITED: 429,
  QUERY_FAILED: 500,
  INTERNAL: 500,
  QUERY_TIMEOUT: 504,
}

/**
 * An answer a route gives instead of its result (a conflict, a missing ledger, too many rows, a query past
 * its time limit): thrown by the handler, answered by `handleError` with the code's status.
 */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export function errorBody(code: ApiErrorCode, message: string, details?: unknown) {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } }
}

export function apiError(
  c: Context,
  code: ApiErrorCode,
  message: string,
  details?: unknown,
): Response {
  return c.json(errorBody(code, message, details), STATUS[code])
}

/**
 * The API parameters that carry the request fields the engine names neutrally (`metric` → `metrics`,
 * `dimension` → `by`, `timezone` → `tz`); the CLI names them by its flags instead (src/cli/output.ts).
 */
export const API_FIELD_NAMES: Readonly<Record<string, string>> = {
  metric: 'metrics',
  dimension: 'by',
  timezone: 'tz',
}

/**
 * Runs `fn`, renaming the fields of an input error it throws for a route whose parameters differ from
 * the defaults (e.g. the drivers route, whose metrics are `core` and `candidates`).
 */
export async function withFieldNames<T>(names: FieldNames, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    throw inTermsOf(e, names)
  }
}

/**
 * The answer to a request that fails its schema: 400 with each problem as parameter (or body field) and
 * reason, the accepted values where the schema lists them, and a message that says the first problems in
 * words. Every router inherits it from the app.
 */
export function invalidRequest<E extends Env>(
  result: Parameters<Hook<unknown, E, string, Response | undefined>>[0],
  c: Context<E>,
): Response | undefined {
  if (result.success) return undefined
  const whole = result.target === 'json' ? 'body' : result.target
  const issues = result.error.issues.map((i) => {
    const allowed = i.code === 'invalid_value' ? i.values.map((v) => String(v)) : undefined
    const unknown = i.code === 'unrecognized_keys' ? i.keys : undefined
    return {
      field: i.path.length === 0 ? whole : i.path.join('.'),
      reason: unknown ? `unknown field ${unknown.join(', ')}` : i.message,
      ...(allowed ? { allowed } : {}),
    }
  })
  const words = issues.slice(0, 3).map((i) => formatIssue(i))
  const more = issues.length > 3 ? `; and ${issues.length - 3} more` : ''
  return c.json(errorBody('INPUT_INVALID', `${words.join('; ')}${more}`, { issues }), 400)
}

/** The app's error handler. */
/** The API's default report of a server-side failure: its stack on standard error. */
export function logToStderr(e: unknown): void {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
}

export function handleError(thrown: unknown, c: Context, log: (e: unknown) => void): Response {
  if (thrown instanceof ApiError) return apiError(c, thrown.code, thrown.message, thrown.details)
  const error = inTermsOf(thrown, API_FIELD_NAMES)
  if (error instanceof MemberlensError && error.userFacing) {
    const details =
      error instanceof InputError
        ? { issues: error.issues, totalIssues: error.totalIssues }
        : undefined
    return apiError(c, error.code, error.message, details)
  }
  // Hono's own client errors (a body that is not JSON, a body of another media type) carry their status.
  if (error instanceof HTTPException) {
    if (error.status === 400)
      return apiError(c, 'INPUT_INVALID', error.message || 'malformed request')
    if (error.status === 413) return apiError(c, 'TOO_LARGE', 'request body too large')
    if (error.status === 415) {
      const sent = c.req.header('content-type')
      return apiError(
        c,
        'UNSUPPORTED_MEDIA_TYPE',
        sent === undefined
          ? 'the request has a body but no Content-Type; send it as application/json'
          : `Content-Type ${JSON.stringify(sent)} is not accepted here; send the body as application/json`,
      )
    }
  }
  // A request whose client went away was stopped on purpose: nobody reads the answer, and nothing failed.
  if (!(c.req.raw.signal as AbortSignal | undefined)?.aborted) log(error)
  return apiError(c, 'INTERNAL', 'internal error')
}
