/**
 * `/api/v1/alerts`: alerts over HTTP — the alert list (what fired, newest first, with a link to the chart)
 * for every role, and the rules — list for every role; create, delete and evaluate now with scope `alerts`
 * (operator, admin).
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { alertRuleInputSchema, alertRuleSchema } from '../../alerts/alert-rule.js'
import type { AlertService } from '../../alerts/alert-service.js'
import { alertEventSchema } from '../../alerts/alert-store.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { ApiError } from '../error-handler.js'
import { created, json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'

const RuleSchema = alertRuleSchema
const EventSchema = alertEventSchema

export function alertsRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  /** The alert service, or the answer saying it is not configured. */
  const open = (): AlertService => {
    if (!ctx.alerts) throw new ApiError('UNAVAILABLE', 'alerts are not configured on this server')
    return ctx.alerts
  }

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/alerts',
      operationId: 'listAlerts',
      summary: 'Alerts that fired',
      security,
      description: 'Alerts that fired, newest first (the dashboard’s alert list).',
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          ruleId: z
            .string()
            .regex(/^[0-9a-f]{8}$/)
            .optional(),
        }),
      },
      responses: json(z.object({ alerts: items(EventSchema) }), 'Alerts'),
    }),
    (c) => {
      const a = open()
      const q = c.req.valid('query')
      return c.json(
        {
          alerts: a.store.events({
            limit: q.limit,
            ...(q.ruleId === undefined ? {} : { ruleId: q.ruleId }),
          }),
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/alerts/rules',
      operationId: 'listAlertRules',
      summary: 'Alert rules',
      security,
      responses: json(z.object({ rules: items(RuleSchema) }), 'Alert rules'),
    }),
    (c) => {
      const a = open()
      return c.json({ rules: a.store.rules() }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('alerts'),
      method: 'post',
      path: '/alerts/rules',
      operationId: 'createAlertRule',
      summary: 'Add an alert rule',
      security,
      description:
        'Adds a rule: `threshold` (`op`, `value`), `change` (`against`: previous or last_year, `direction`, `percent`) or `off_track` (a metric-tree node’s status turning off track).',
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: alertRuleInputSchema,
              example: {
                name: 'Revenue down 10% on last year',
                metric: 'net_revenue',
                condition: {
                  kind: 'change',
                  against: 'last_year',
                  direction: 'down',
                  percent: 10,
                },
              },
            },
          },
        },
      },
      responses: created(RuleSchema, 'The rule'),
    }),
    async (c) => {
      const a = open()
      const rule = await a.store.addRule(c.req.valid('json'))
      return c.json(rule, 201)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('alerts'),
      method: 'delete',
      path: '/alerts/rules/{id}',
      operationId: 'deleteAlertRule',
      summary: 'Delete an alert rule',
      security,
      request: { params: z.object({ id: z.string().regex(/^[0-9a-f]{8}$/) }) },
      responses: json(RuleSchema, 'The deleted rule'),
    }),
    async (c) => {
      const a = open()
      return c.json(await a.store.removeRule(c.req.valid('param').id), 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/alerts/rules/{id}/backtest',
      operationId: 'backtestAlertRule',
      summary: 'Backtest an anomaly rule',
      security,
      description:
        'Replays an anomaly rule over the history (or `from`–`to`) and counts, per quarter, how often it would have fired; `tree=true` replays it on every node of the metric tree.',
      request: {
        params: z.object({ id: z.string().regex(/^[0-9a-f]{8}$/) }),
        query: z.object({
          from: z
            .string()
            .regex(/^\d{4}-\d{2}-\d{2}$/)
            .optional(),
          to: z
            .string()
            .regex(/^\d{4}-\d{2}-\d{2}$/)
            .optional(),
          tree: z.enum(['true', 'false']).default('false'),
        }),
      },
      responses: json(
        z.object({
          ruleId: z.string(),
          grain: z.string(),
          from: z.string(),
          to: z.string(),
          nodes: items(
            z.object({
              metric: z.string(),
              fired: z.number(),
              evaluated: z.number(),
              quarters: items(
                z.object({
                  quarter: z.string(),
                  evaluated: z.number(),
                  fired: z.number(),
                  periods: items(z.string()),
                }),
              ),
            }),
          ),
        }),
        'How often the rule would have fired',
      ),
    }),
    async (c) => {
      const a = open()
      const rule = a.store.getRule(c.req.valid('param').id)
      if (rule.condition.kind !== 'anomaly')
        throw new ApiError(
          'INPUT_INVALID',
          `rule ${rule.id} is a ${rule.condition.kind} rule; only anomaly rules can be backtested`,
        )
      const q = c.req.valid('query')
      const result = await ctx.timed(() =>
        a.backtest(rule, {
          ...(q.from === undefined ? {} : { from: q.from }),
          ...(q.to === undefined ? {} : { to: q.to }),
          ...(q.tree === 'true' ? { metrics: a.treeMetrics() } : {}),
        }),
      )
      return c.json(result, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('alerts'),
      method: 'post',
      path: '/alerts/evaluate',
      operationId: 'evaluateAlerts',
      summary: 'Evaluate every rule now',
      security,
      description:
        'Evaluates every enabled rule now (the server also does after each ingest and on its schedule); returns the alerts that fired and what each rule saw.',
      responses: json(
        z.object({
          fired: items(EventSchema),
          rules: items(
            z.object({
              ruleId: z.string(),
              fired: z.boolean(),
              error: z.string().nullable(),
              observation: z.record(z.string(), z.unknown()).nullable(),
            }),
          ),
        }),
        'The evaluation',
      ),
    }),
    async (c) => {
      const a = open()
      const fired = await a.evaluate('manual')
      return c.json(
        {
          fired,
          rules: a.lastOutcomes().map((o) => ({
            ...o,
            observation: o.observation as Record<string, unknown> | null,
          })),
        },
        200,
      )
    },
  )
  return app
}
