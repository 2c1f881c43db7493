/**
 * The HTTP API (Hono): parse → authorise → call the library → JSON. Request and response schemas are zod
 * schemas, from which `/openapi.json` is generated, so the document cannot drift from the code. `createApp`
 * only assembles: the middleware every /api request passes, then one router per resource (`routes/`).
 * @module
 */
import { OpenAPIHono } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import type { AlertService } from '../alerts/alert-service.js'
import type { Clock } from '../core/clock.js'
import type { DuckDbDriver } from '../duckdb/driver.js'
import type { BrandEvent } from '../calendar/index.js'
import type { TreeConfigInput } from '../engine/metrics/tree.js'
import type { Ledger } from '../ledger/ledger.service.js'
import { AuditLog } from '../store/audit-log.js'
import { auditWrites } from './audit-writes.js'
import { authenticate } from './authenticate.js'
import { createContext, type ApiEnv } from './context.js'
import { apiError, handleError, invalidRequest, logToStderr } from './error-handler.js'
import type { KeyStore } from './keys.js'
import { RateLimiter } from './rate-limit.js'
import { API_INFO } from './openapi.js'
import { referencePage } from './reference.js'
import { ROUTE_MODULES } from './routes/index.js'

export interface ApiOptions {
  readonly driver: DuckDbDriver
  readonly keys: KeyStore
  readonly clock: Clock
  /** The loyalty ledger; without one the loyalty routes answer 503. */
  readonly ledger?: Ledger
  /** Where writes are recorded (default: an in-memory audit database). */
  readonly audit?: AuditLog
  /** Alert rules and their evaluation; without it the alert routes answer 503. */
  readonly alerts?: AlertService
  /** Milliseconds after which an analytics query is cancelled (default 30 s). */
  readonly queryTimeoutMs?: number
  /** Largest number of result rows a metric query may return (default 10,000). */
  readonly maxRows?: number
  /** Requests per second per key, and burst (default 20 and 40). */
  readonly rate?: { readonly perSecond: number; readonly burst: number }
  readonly tree?: TreeConfigInput
  /** The brand's own events for `/calendar`, read with `parseBrandEvents` (default: none). */
  readonly calendarEvents?: readonly BrandEvent[]
  readonly log?: (error: unknown) => void
  /** ISO 4217 code of the money figures, as the dashboard shows them (default CNY). */
  readonly currency?: string
  /** The project time zone: days and months of routes without a `tz` parameter, and its default (UTC). */
  readonly timezone?: string
  /** The dashboard's language until the viewer chooses one (the `lang` setting; default English). */
  readonly lang?: 'en' | 'zh'
}

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
