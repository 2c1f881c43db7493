/**
 * The HTTP API (Hono): parse → authorise → call the library → JSON. Request and response schemas are zod
 * schemas, from which `/openapi.json` is generated, so the document cannot drift from the code. `createApp`
 * only assembles: the middleware every /api request passes, then one router per resource (`routes/`).
 * @module
 */
import { OpenAPIHono } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import { AuditLog } from '../duckdb/audit-log.js'
import { auditWrites } from './audit-writes.js'
import { authenticate } from './authenticate.js'
import { createContext, type ApiEnv, type ApiOptions } from './context.js'
import { apiError, handleError, invalidRequest, logToStderr } from './error-handler.js'
import { RateLimiter } from './rate-limit.js'
import { API_INFO } from './openapi.js'
import { referencePage } from './reference.js'
import { ROUTE_MODULES } from './routes/index.js'

export type { ApiOptions }

export { maskIdentity } from './masking.js'

export function createApp(options: ApiOptions) {
  const log = options.log ?? logToStderr
  const { perSecond, burst } = options.rate ?? { perSecond: 20, burst: 40 }
  const limiter = new RateLimiter(perSecond, burst, () => options.clock.now().getTime())
  const audit = options.audit ?? new AuditLog(':memory:', options.clock)
  const ctx = createContext({
    ...options,
    audit,
    log,
    queryTimeoutMs: options.queryTimeoutMs ?? 30_000,
    maxRows: options.maxRows ?? 10_000,
  })

  // A request failing its schema answers 400 naming each field (error-handler.ts); every router inherits it.
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: invalidRequest })
  app.notFound((c) => apiError(c, 'NOT_FOUND', `no route ${c.req.method} ${c.req.path}`))
  app.onError((e, c) => handleError(e, c, log))
  const tooLarge = bodyLimit({
    maxSize: 10 * 1024 * 1024,
    onError: (c) => apiError(c, 'TOO_LARGE', 'request body over 10 MB'),
  })
  app.use('/api/*', tooLarge, authenticate(options.keys, limiter), ctx.session)
  // Every write under /api, whichever module serves it, is recorded with its key (audit-writes.ts).
  app.use('/api/*', auditWrites(audit, log))
  app.openAPIRegistry.registerComponent('securitySchemes', 'ApiKey', {
    type: 'http',
    scheme: 'bearer',
  })
  for (const routes of Object.values(ROUTE_MODULES)) app.route('/api/v1', routes(ctx))

  app.doc31('/openapi.json', { openapi: '3.1.0', info: API_INFO })
  app.get('/docs', (c) =>
    c.html(referencePage(app.getOpenAPI31Document({ openapi: '3.1.0', info: API_INFO }))),
  )
  app.get('/health', (c) => c.json({ ok: true }))
  // Registered last, so a path under /api that no route matched answers a JSON 404 here, before any
  // catch-all a host adds after createApp (the dashboard's page fallback) could answer it with HTML.
  app.all('/api/*', (c) =>
    apiError(
      c,
      'NOT_FOUND',
      `no route ${c.req.method} ${c.req.path}; the routes are listed at /docs`,
    ),
  )
  return app
}

export type App = ReturnType<typeof createApp>
