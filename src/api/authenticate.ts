/**
 * The first check of every /api request: a known, unrevoked key (`Authorization: Bearer <key>` or
 * `X-API-Key`) within its rate. The key is then the request's `key` variable, read by the scope check, the
 * audit trail and the routes.
 * @module
 */
import type { MiddlewareHandler } from 'hono'
import type { ApiEnv } from './context.js'
import { apiError } from './error-handler.js'
import type { KeyStore } from './keys.js'
import type { RateLimiter } from './rate-limit.js'

export function authenticate(keys: KeyStore, limiter: RateLimiter): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization')
    const secret = header?.startsWith('Bearer ')
      ? header.slice(7).trim()
      : c.req.header('x-api-key')
    if (!secret)
      return apiError(c, 'UNAUTHORIZED', 'an API key is required (Authorization: Bearer <key>)')
    const key = keys.authenticate(secret)
    if (!key) return apiError(c, 'UNAUTHORIZED', 'unknown or revoked API key')
    const rate = limiter.take(key.id)
    if (!rate.ok) {
      c.header('Retry-After', String(rate.retryAfter))
      return apiError(c, 'RATE_LIMITED', `too many requests; retry in ${rate.retryAfter} s`)
    }
    c.set('key', key)
    await next()
    return undefined
  }
}
