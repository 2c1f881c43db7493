/**
 * `/api/v1/audit`: the admin's view of the audit trail — every write request with the key, route, time,
 * status and outcome, newest first. The writes are recorded by the middleware in `audit-writes.ts`.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { AUDIT_OUTCOMES } from '../../duckdb/audit-log.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'

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

export function auditRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('audit'),
      method: 'get',
      path: '/audit',
      operationId: 'listAuditEntries',
      summary: 'The audit log',
      security,
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
      responses: json(
        z.object({ total: z.number(), entries: items(AuditRowSchema) }).openapi('AuditLog'),
        'A page of the audit log',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const r = await ctx.audit.list({
        limit: q.limit,
        offset: q.offset,
        ...(q.keyId === undefined ? {} : { keyId: q.keyId }),
        ...(q.route === undefined ? {} : { route: q.route }),
        ...(q.outcome === undefined ? {} : { outcome: q.outcome }),
      })
      return c.json(r, 200)
    },
  )
  return app
}
