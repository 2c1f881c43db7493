/**
 * One registry maps error codes to HTTP statuses; every error answers `{ error: { code, message, details? } }`.
 * User errors say what went wrong; anything else is logged and answered with a 500 that leaks nothing.
 * @module
 */
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { InputError, MemberlensError, type ErrorCode } from '../core/errors.js'

export type ApiErrorCode =
  | ErrorCode
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'QUERY_TIMEOUT'
  | 'TOO_LARGE'
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
  CONFLICT: 409,
  UNAVAILABLE: 503,
  RATE_LIMITED: 429,
  QUERY_FAILED: 500,
  INTERNAL: 500,
  QUERY_TIMEOUT: 504,
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

/** The app's error handler. */
export function handleError(error: unknown, c: Context, log: (e: unknown) => void): Response {
  if (error instanceof MemberlensError && error.userFacing) {
    const details =
      error instanceof InputError
        ? { issues: error.issues, totalIssues: error.totalIssues }
        : undefined
    return apiError(c, error.code, error.message, details)
  }
  // Hono's own client errors (a body that is not JSON) carry their status and a safe message.
  if (error instanceof HTTPException && error.status === 400)
    return apiError(c, 'INPUT_INVALID', error.message || 'malformed request')
  log(error)
  return apiError(c, 'INTERNAL', 'internal error')
}
