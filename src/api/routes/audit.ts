/**
 * The audit trail: a middleware that records every write request (any method but GET, HEAD and OPTIONS
 * under /api) with the key, route, time, status and outcome, and the admin's endpoint to read it.
 * The middleware must be installed before the routes it watches: Hono runs handlers in registration order.
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { AUDIT_OUTCOMES, outcomeOf, type AuditLog } from '../../store/audit-log.js'
import type { KeyRecord } from '../keys.js'
import { scoped } from '../require-scope.js'
import type { RouteServices, ServiceApp, ServiceEnv } from './services.js'

const READS = new Set(['GET', 'HEAD', 'OPTIONS'])

const AuditRowSchema = z
  .object({
    id: z.number(),
    at: z.string(),
    keyId: z.string(),
    keyName: z.string(),
    role: z.string(),
    method: z.string(),
    route: z.string(),
    status: z.number(),
    outcome: z.enum(AUDIT_OUTCOMES),
    detail: z.string().nullable(),
  })
  .openapi('AuditEntry')

/**
 * The middleware recording writes. `createApp` installs it right after authentication, so that it wraps every
 * route registered later, whichever module serves it.
 */
export function auditWrites(
  audit: AuditLog,
  log: (e: unknown) => void,
): MiddlewareHandler<ServiceEnv> {
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

/** The admin's endpoint reading the audit log. */
export function registerAuditRoutes(app: ServiceApp, s: RouteServices): void {
  app.openapi(
    createRoute({
      ...scoped('audit'),
      method: 'get',
      path: '/api/v1/audit',
      security: s.security,
      description:
        'Write requests, newest first: key, route, time, HTTP status and outcome (ok, refused, invalid, failed), with the error code or idempotency key. Admin only.',
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
          keyId: z.string().max(64).optional(),
          route: z.string().max(200).optional().openapi({ example: '/api/v1/loyalty' }),
          outcome: z.enum(AUDIT_OUTCOMES).optional(),
        }),
      },
      responses: s.json(
        z.object({ total: z.number(), entries: z.array(AuditRowSchema) }).openapi('AuditLog'),
        'A page of the audit log',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const r = await s.audit.list({
        limit: q.limit,
        offset: q.offset,
        ...(q.keyId === undefined ? {} : { keyId: q.keyId }),
        ...(q.route === undefined ? {} : { route: q.route }),
        ...(q.outcome === undefined ? {} : { outcome: q.outcome }),
      })
      return c.json(r, 200)
    },
  )
}
