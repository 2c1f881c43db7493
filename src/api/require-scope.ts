/**
 * The role check of a route, as route middleware: it runs after the key is authenticated and before the
 * route's parameters and body are validated, so a key without the scope gets 403 whatever it sent.
 * @module
 */
import type { MiddlewareHandler } from 'hono'
import type { ApiEnv as Env } from './context.js'
import { apiError } from './error-handler.js'
import { allows, type Scope } from './keys.js'

/** What a scope lets a key do, for the 403 message. */
const DOES: Readonly<Record<Scope, string>> = {
  aggregates: 'read aggregates',
  members: 'read members',
  pii: 'see personal data',
  loyalty: 'use the loyalty ledger',
  segments: 'manage segments',
  alerts: 'manage alert rules',
  ingest: 'load data',
  keys: 'manage keys',
  audit: 'read the audit log',
}

/** The 403 answer when the key in use lacks `scope`, else undefined. */
export function refusal(
  c: Parameters<MiddlewareHandler<Env>>[0],
  scope: Scope,
): Response | undefined {
  const role = c.get('key').role
  return allows(role, scope)
    ? undefined
    : apiError(c, 'FORBIDDEN', `role ${role} may not ${DOES[scope]} (scope ${scope})`)
}

/** Middleware refusing keys without `scope`. */
export function requireScope(scope: Scope): MiddlewareHandler<Env> {
  return async (c, next) => {
    const denied = refusal(c, scope)
    if (denied) return denied
    await next()
    return undefined
  }
}

/**
 * The part of a route definition that declares its scope: the middleware, and `x-scope` in the OpenAPI
 * document so clients can see which role a route needs. Spread it into `createRoute({...})`.
 */
export function scoped(scope: Scope): { middleware: MiddlewareHandler<Env>; 'x-scope': Scope } {
  return { middleware: requireScope(scope), 'x-scope': scope }
}
