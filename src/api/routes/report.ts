/**
 * `/api/v1/report`: scheduled reports — list the schedules (every role), create, delete and send now, and read
 * the delivery log, with scope `alerts` (operator, admin). Schedules name the environment variables that hold
 * their secrets; no secret is ever in an answer.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import {
  deliveryLogEntrySchema,
  reportScheduleInputSchema,
  reportScheduleSchema,
  type ScheduleService,
} from '../../alerts/report-schedule.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { ApiError } from '../error-handler.js'
import { created, items, json, security } from '../openapi.js'
import { scoped } from '../require-scope.js'

const ScheduleSchema = reportScheduleSchema
const LogEntrySchema = deliveryLogEntrySchema
const RunSchema = z
  .object({
    scheduleId: z.string(),
    period: z.string().nullable(),
    deliveries: items(
      z.object({
        target: z.string(),
        delivered: z.boolean(),
        attempts: z.number(),
        error: z.string().nullable(),
      }),
    ),
  })
  .openapi('ReportRun')
const id = z.object({ id: z.string().regex(/^[0-9a-f]{8}$/) })

export function reportRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  const open = (): ScheduleService => {
    if (!ctx.schedules)
      throw new ApiError('UNAVAILABLE', 'report schedules are not configured on this server')
    return ctx.schedules
  }

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/report/schedules',
      operationId: 'listReportSchedules',
      summary: 'Report schedules',
      security,
      description: 'The scheduled reports: cron, time zone, language, sections and targets.',
      responses: json(z.object({ schedules: items(ScheduleSchema) }), 'Schedules'),
    }),
    (c) => c.json({ schedules: open().store.schedules() }, 200),
  )

  app.openapi(
    createRoute({
      ...scoped('alerts'),
      method: 'post',
      path: '/report/schedules',
      operationId: 'createReportSchedule',
      summary: 'Add a report schedule',
      security,
      description:
        'Adds a schedule (a schedule of the same name is replaced). Targets: `wecom` (`url`, `keyEnv`), `dingtalk` (`url`, `tokenEnv`, optional `secretEnv` for signing), `webhook` (`url`, optional `tokenEnv`), `email` (`host`, `port`, `security`, `userEnv`, `passwordEnv`, `from`, `to`); `…Env` fields name environment variables of the server that hold the secrets.',
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: reportScheduleInputSchema,
              example: {
                name: '周报',
                cron: '0 9 * * 1',
                timezone: 'Asia/Shanghai',
                lang: 'zh',
                targets: [
                  {
                    kind: 'wecom',
                    url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send',
                    keyEnv: 'WECOM_KEY',
                  },
                ],
              },
            },
          },
        },
      },
      responses: created(ScheduleSchema, 'The schedule'),
    }),
    async (c) => c.json(await open().store.addSchedule(c.req.valid('json')), 201),
  )

  app.openapi(
    createRoute({
      ...scoped('alerts'),
      method: 'delete',
      path: '/report/schedules/{id}',
      operationId: 'deleteReportSchedule',
      summary: 'Delete a report schedule',
      security,
      request: { params: id },
      responses: json(ScheduleSchema, 'The deleted schedule'),
    }),
    async (c) => c.json(await open().store.removeSchedule(c.req.valid('param').id), 200),
  )

  app.openapi(
    createRoute({
      ...scoped('alerts'),
      method: 'post',
      path: '/report/schedules/{id}/run',
      operationId: 'runReportSchedule',
      summary: 'Send a scheduled report now',
      security,
      description:
        'Builds the schedule’s report now and sends it to each target (retried with back-off); every outcome is also written to the delivery log.',
      request: { params: id },
      responses: json(RunSchema, 'What was delivered'),
    }),
    async (c) => {
      const s = open()
      s.store.getSchedule(c.req.valid('param').id)
      return c.json(await s.runNow(c.req.valid('param').id), 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('alerts'),
      method: 'get',
      path: '/report/schedules/log',
      operationId: 'listReportDeliveries',
      summary: 'Report delivery log',
      security,
      description:
        'Each target of each run, newest run first: when, where (no secrets), how many tries, delivered or the last error.',
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          scheduleId: z
            .string()
            .regex(/^[0-9a-f]{8}$/)
            .optional(),
        }),
      },
      responses: json(z.object({ log: items(LogEntrySchema) }), 'Delivery log'),
    }),
    (c) => {
      const q = c.req.valid('query')
      return c.json(
        {
          log: open().store.log({
            limit: q.limit,
            ...(q.scheduleId === undefined ? {} : { scheduleId: q.scheduleId }),
          }),
        },
        200,
      )
    },
  )
  return app
}
