/**
 * The early-warning list (members most at risk of churning, with reason codes, signals, churn class and
 * win-back playbook; paged) and the summary of the latest CLV run.
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import { getRun, RUN_ID_RE } from '../../analytics/clv-store.js'
import { CHURN_CLASSES } from '../../analytics/early-warning.js'
import { listRisk, RISK_ORDERS } from '../../analytics/risk.js'
import { apiError } from '../error-handler.js'
import type { RouteServices, ServiceApp } from './services.js'
import { scoped } from '../require-scope.js'

const RiskRowSchema = z
  .object({
    memberId: z.number(),
    score: z.number(),
    reasons: z.array(z.string()),
    signals: z.array(z.string()),
    churnClass: z.string(),
    playbook: z.string(),
    pAlive: z.number().nullable(),
    clv: z.number().nullable(),
    clvAtRisk: z.number().nullable(),
  })
  .openapi('RiskRow')

const finite = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : null
const codes = (s: unknown): string[] =>
  typeof s === 'string' ? s.split(',').filter((x) => x !== '') : []

export function registerRiskRoutes(app: ServiceApp, s: RouteServices): void {
  const { driver, security, json, timed } = s

  app.openapi(
    createRoute({
      ...scoped('members'),
      method: 'get',
      path: '/api/v1/risk',
      security,
      description: `Members of the latest risk scoring (\`memberlens risk score\`), highest risk first (or most CLV at risk), with the reasons raising each score. \`offset + limit\` may not exceed ${s.maxRows.toLocaleString('en')}.`,
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(1000).default(50),
          offset: z.coerce.number().int().min(0).default(0),
          order: z.enum(RISK_ORDERS).default('score'),
          churnClass: z.enum(CHURN_CLASSES).optional(),
          minScore: z.coerce.number().min(0).max(1).optional(),
        }),
      },
      responses: json(
        z
          .object({
            runId: z.string(),
            clvRunId: z.string().nullable(),
            offset: z.number(),
            limit: z.number(),
            members: z.array(RiskRowSchema),
            hasMore: z.boolean(),
          })
          .openapi('RiskList'),
        'A page of the early-warning list',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query')
      if (q.offset + q.limit > s.maxRows)
        return apiError(c, 'TOO_LARGE', `offset + limit is over ${s.maxRows}`) as never
      // One row more than the page tells whether another page follows.
      const r = await timed(() =>
        listRisk(driver, {
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
      return c.json(
        {
          runId: r.runId,
          clvRunId: r.clvRunId,
          offset: q.offset,
          limit: q.limit,
          members: page,
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
      path: '/api/v1/clv/report',
      security,
      description:
        'The latest CLV run (`memberlens clv fit`): options, fitted models, CLV distribution and value at risk. 404 when there is no run.',
      request: {
        query: z.object({
          runId: z.string().regex(RUN_ID_RE).optional(),
        }),
      },
      responses: json(
        z
          .object({
            runId: z.string(),
            createdAt: z.string(),
            report: z.record(z.string(), z.unknown()),
          })
          .openapi('ClvReport'),
        'The run’s stored report',
      ),
    }),
    async (c) => {
      const run = await timed(() => getRun(driver, 'clv', c.req.valid('query').runId))
      if (run.kind !== 'clv')
        return apiError(c, 'NOT_FOUND', `${run.runId} is a ${run.kind} run, not a CLV run`) as never
      const report = JSON.parse(
        JSON.stringify(run.report ?? {}, (_k, v: unknown) =>
          typeof v === 'number' && !Number.isFinite(v) ? null : v,
        ),
      ) as Record<string, unknown>
      return c.json({ runId: run.runId, createdAt: run.createdAt, report }, 200)
    },
  )
}
