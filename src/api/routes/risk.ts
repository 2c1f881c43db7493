/**
 * `/api/v1/risk`: the early-warning list (members most at risk of churning, with reason codes, signals,
 * churn class and win-back playbook; paged); `/api/v1/risk-mix`, the latest risk scoring in aggregate
 * (members and CLV at risk per churn class with its playbook, reason and signal mix, score distribution);
 * and `/api/v1/risk-export`, one churn class as CSV or JSON Lines for a campaign tool.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { CHURN_CLASSES } from '../../analytics/risk/early-warning.js'
import {
  formatRiskExport,
  getRiskExportRows,
  RISK_EXPORT_COLUMNS,
  withoutIdentities,
} from '../../analytics/risk/export.js'
import { narrowIdentityColumns } from '../../engine/segments/identity-columns.js'
import { riskSummary } from '../../analytics/risk/summary.js'
import { listRisk, RISK_ORDERS } from '../../analytics/risk/risk.js'
import { NotFoundError } from '../../core/errors.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { ApiError } from '../error-handler.js'
import { allows } from '../keys.js'
import { file, json, security, items } from '../openapi.js'
import { withIdentities } from '../member-identities.js'
import { scoped } from '../require-scope.js'
import { IdsParam, MemberIdentitiesSchema, parseIdsParam } from '../schemas.js'

const RiskRowSchema = z
  .object({
    memberId: z.number(),
    score: z.number(),
    reasons: items(z.string()),
    signals: items(z.string()),
    churnClass: z.string(),
    playbook: z.string(),
    pAlive: z.number().nullable(),
    clv: z.number().nullable(),
    clvAtRisk: z.number().nullable(),
    identities: MemberIdentitiesSchema.optional(),
  })
  .openapi('RiskRow')

const RiskMixSchema = z
  .object({
    runId: z.string(),
    asOf: z
      .string()
      .nullable()
      .openapi({ description: 'the day the scores are computed as of (YYYY-MM-DD)' }),
    clvRunId: z.string().nullable(),
    threshold: z.number(),
    members: z.number(),
    atRisk: z.number(),
    clvAtRisk: z.number().nullable(),
    classes: items(
      z.object({
        churnClass: z.string(),
        playbook: z.string(),
        members: z.number(),
        atRisk: z.number(),
        meanScore: z.number(),
        clvAtRisk: z.number().nullable(),
      }),
    ),
    reasons: items(z.object({ code: z.string(), members: z.number() })),
    signals: items(z.object({ code: z.string(), members: z.number() })),
    scoreBins: items(z.number()),
  })
  .openapi('RiskMix')

/** Most rows one export may return. */
const MAX_EXPORT_ROWS = 100_000

const finite = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : null
const codes = (s: unknown): string[] =>
  typeof s === 'string' ? s.split(',').filter((x) => x !== '') : []

export function riskRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()

  app.openapi(
    createRoute({
      ...scoped('members'),
      method: 'get',
      path: '/risk',
      operationId: 'listRisk',
      summary: 'The early-warning list',
      security,
      description: `Members of the latest risk scoring (\`memberlens risk score\`), highest risk first (or most CLV at risk), with the reasons raising each score; \`ids\` adds each member's source identities. \`offset + limit\` may not exceed ${ctx.maxRows.toLocaleString('en')}.`,
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(1000).default(50),
          offset: z.coerce.number().int().min(0).default(0),
          order: z.enum(RISK_ORDERS).default('score'),
          churnClass: z.enum(CHURN_CLASSES).optional(),
          minScore: z.coerce.number().min(0).max(1).optional(),
          ids: IdsParam,
        }),
      },
      responses: json(
        z
          .object({
            runId: z.string(),
            clvRunId: z.string().nullable(),
            offset: z.number(),
            limit: z.number(),
            members: items(RiskRowSchema),
            hasMore: z.boolean(),
          })
          .openapi('RiskList'),
        'A page of the early-warning list',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const ids = parseIdsParam(q.ids)
      if (q.offset + q.limit > ctx.maxRows)
        throw new ApiError('TOO_LARGE', `offset + limit is over ${ctx.maxRows}`)
      // One row more than the page tells whether another page follows.
      const r = await ctx.timed(() =>
        listRisk(ctx.driver, {
          top: q.offset + q.limit + 1,
          order: q.order,
          ...(q.churnClass === undefined ? {} : { churnClass: q.churnClass }),
          ...(q.minScore === undefined ? {} : { minScore: q.minScore }),
        }),
      )
      const page = r.rows.slice(q.offset, q.offset + q.limit).map((x) => ({
        memberId: Number(x.memberId),
        score: x.score,
        reasons: codes(x.reasons),
        signals: codes(x.signals),
        churnClass: x.churnClass,
        playbook: x.playbook,
        pAlive: finite(x.pAlive),
        clv: finite(x.clv),
        clvAtRisk: finite(x.clvAtRisk),
      }))
      const members = await ctx.timed(() =>
        withIdentities(ctx.driver, page, ids, allows(c.get('key').role, 'pii')),
      )
      return c.json(
        {
          runId: r.runId,
          clvRunId: r.clvRunId,
          offset: q.offset,
          limit: q.limit,
          members,
          hasMore: r.rows.length > q.offset + q.limit,
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/risk-mix',
      operationId: 'getRiskMix',
      summary: 'The latest risk scoring in aggregate',
      security,
      request: {
        query: z.object({
          threshold: z.coerce.number().min(0).max(1).default(0.5),
        }),
      },
      responses: json(
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
      path: '/risk-export',
      operationId: 'exportRisk',
      summary: 'One churn class as a file for a campaign tool',
      security,
      description:
        'Members of one churn class in the latest risk scoring, highest score first, with identities and consent flags as CSV (or JSON Lines) for a campaign tool. Every identity column (phone, email, WeChat unionid, app user id) is left empty for roles without access to personal data.',
      request: {
        query: z.object({
          churnClass: z.enum(CHURN_CLASSES),
          minScore: z.coerce.number().min(0).max(1).default(0),
          format: z.enum(['csv', 'jsonl']).default('csv'),
          ids: IdsParam.openapi({
            description:
              'Keep only these identity columns, in this order (comma-separated identity types; default every identity column)',
            example: 'customer_id,phone',
          }),
        }),
      },
      responses: file('The export file'),
    }),
    async (c) => {
      const q = c.req.valid('query')
      const columns = narrowIdentityColumns(
        RISK_EXPORT_COLUMNS,
        q.ids === undefined ? undefined : parseIdsParam(q.ids),
      )
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
      return c.body(formatRiskExport(out, q.format, columns), 200)
    },
  )
  return app
}
