/**
 * The audit trail's recorder: a middleware that records every write request (any method but GET, HEAD and
 * OPTIONS under /api) with the key, route, time, status and outcome. `createApp` installs it right after
 * authentication and before the routes, so it wraps every route whichever module serves it (Hono runs
 * handlers in registration order). The admin reads the trail at `GET /api/v1/audit` (routes/audit.ts).
 * @module
 */
import type { MiddlewareHandler } from 'hono'
import { outcomeOf, type AuditLog } from '../duckdb/audit-log.js'
import type { ApiEnv } from './context.js'
import type { KeyRecord } from './keys.js'

const READS = new Set(['GET', 'HEAD', 'OPTIONS'])

export function auditWrites(audit: AuditLog, log: (e: unknown) => void): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    await next()
    if (READS.has(c.req.method)) return
    const key = c.get('key') as KeyRecord | undefined
    if (!key) return
    let detail: string | null = c.req.header('idempotency-key') ?? null
    if (c.res.status >= 400) {
      const body = (await c.res
        .clone()
        .json()
        .catch(() => null)) as { error?: { code?: string } } | null
      detail = body?.error?.code ?? detail
    }
    try {
      await audit.record({
        keyId: key.id,
        keyName: key.name,
        role: key.role,
        method: c.req.method,
        route: c.req.path,
        status: c.res.status,
        outcome: outcomeOf(c.res.status),
        detail,
      })
    } catch (e) {
      // The write itself has happened; a lost audit row is reported to the operator, not to the client.
      log(e)
    }
  }
}
