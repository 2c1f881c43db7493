/**
 * Risk and win-back page: the latest risk scoring in aggregate (members and CLV at risk per churn class with
 * its playbook, reason and signal mix, score distribution), and the CSV export of one churn class for a
 * campaign tool.
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import { CHURN_CLASSES } from '../../analytics/early-warning.js'
import {
  formatRiskExport,
  getRiskExportRows,
  withoutIdentities,
} from '../../analytics/risk-export.js'
import { riskSummary } from '../../analytics/risk-summary.js'
import { NotFoundError } from '../../core/errors.js'
import { allows } from '../keys.js'
import type { ApiApp, RouteContext } from './context.js'
import { scoped } from '../require-scope.js'

const RiskMixSchema = z
  .object({
    runId: z.string(),
    clvRunId: z.string().nullable(),
    threshold: z.number(),
    members: z.number(),
    atRisk: z.number(),
    clvAtRisk: z.number().nullable(),
    classes: z.array(
      z.object({
        churnClass: z.string(),
        playbook: z.string(),
        members: z.number(),
        atRisk: z.number(),
        meanScore: z.number(),
        clvAtRisk: z.number().nullable(),
      }),
    ),
    reasons: z.array(z.object({ code: z.string(), members: z.number() })),
    signals: z.array(z.object({ code: z.string(), members: z.number() })),
    scoreBins: z.array(z.number()),
  })
  .openapi('RiskMix')

/** The export's identity columns: every column named after an identity type (phone, email, wechat_unionid…). */
/** Most rows one export may return. */
const MAX_EXPORT_ROWS = 100_000

export function registerRiskPageRoutes(app: ApiApp, ctx: RouteContext): void {
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/api/v1/risk-mix',
      security: ctx.security,
      request: {
        query: z.object({
          threshold: z.coerce.number().min(0).max(1).default(0.5),
        }),
      },
      responses: ctx.json(
        z.object({ risk: RiskMixSchema.nullable() }),
        'The latest risk scoring in aggregate: members and predicted CLV at risk (score ≥ threshold) per churn class, reason and signal mix, score distribution; null before the first scoring',
      ),
    }),
    async (c) => {
      const { threshold } = c.req.valid('query')
      const risk = await ctx
        .timed(() => riskSummary(ctx.driver, threshold))
        .catch((e: unknown) => {
          if (e instanceof NotFoundError) return null
          throw e
        })
      return c.json({ risk }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('members'),
      method: 'get',
      path: '/api/v1/risk-export',
      security: ctx.security,
      description:
        'Members of one churn class in the latest risk scoring, highest score first, with identities and consent flags as CSV (or JSON Lines) for a campaign tool. Every identity column (phone, email, WeChat unionid, app user id) is left empty for roles without access to personal data.',
      request: {
        query: z.object({
          churnClass: z.enum(CHURN_CLASSES),
          minScore: z.coerce.number().min(0).max(1).default(0),
          format: z.enum(['csv', 'jsonl']).default('csv'),
        }),
      },
      responses: {
        200: {
          description: 'The export file',
          content: {
            'text/csv': { schema: z.string() },
            'application/x-ndjson': { schema: z.string() },
          },
        },
        ...Object.fromEntries(
          Object.entries(ctx.json(z.object({}), '')).filter(([k]) => k !== '200'),
        ),
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const { runId, rows } = await ctx.timed(() =>
        getRiskExportRows(ctx.driver, {
          churnClass: q.churnClass,
          minScore: q.minScore,
          top: MAX_EXPORT_ROWS,
        }),
      )
      const pii = allows(c.get('key').role, 'pii')
      const out = pii ? rows : rows.map(withoutIdentities)
      c.header(
        'content-type',
        q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      )
      c.header(
        'content-disposition',
        `attachment; filename="${runId}-${q.churnClass}.${q.format === 'csv' ? 'csv' : 'jsonl'}"`,
      )
      return c.body(formatRiskExport(out, q.format), 200) as never
    },
  )
}
