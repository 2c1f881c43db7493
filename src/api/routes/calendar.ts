/**
 * `/api/v1/calendar`: the retail calendar of a year — the built-in events (lunar festivals and 清明 computed for
 * the year, the shopping festivals with their pre-sale windows, 年货节) and the brand's own events the
 * application was started with. The same list `memberlens calendar --json` prints.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import {
  EVENT_KINDS,
  FIRST_YEAR,
  LAST_YEAR,
  calendarFor,
  type CalendarEvent,
} from '../../calendar/index.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { Text, items, json, security } from '../openapi.js'
import { scoped } from '../require-scope.js'

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/)

const EventSchema: z.ZodType<CalendarEvent> = z
  .object({
    id: z.string(),
    name: Text,
    kind: z.enum(EVENT_KINDS as [CalendarEvent['kind'], ...CalendarEvent['kind'][]]),
    date: Day.nullable().openapi({ description: 'the day itself; null for a window only' }),
    start: Day.openapi({ description: 'first day of the window, pre-sale included' }),
    end: Day.openapi({ description: 'last day of the window' }),
  })
  .openapi('CalendarEvent')

const CalendarSchema = z
  .object({ year: z.number().int(), events: items(EventSchema) })
  .openapi('RetailCalendar')

export function calendarRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/calendar',
      operationId: 'getRetailCalendar',
      summary: 'The retail calendar of a year',
      security,
      request: {
        query: z.object({
          year: z.coerce
            .number()
            .int()
            .min(FIRST_YEAR)
            .max(LAST_YEAR)
            .openapi({ description: `Gregorian year (${FIRST_YEAR}–${LAST_YEAR})`, example: 2026 }),
        }),
      },
      responses: json(CalendarSchema, "The year's events by start day"),
    }),
    (c) => {
      const { year } = c.req.valid('query')
      return c.json({ year, events: calendarFor(year, ctx.calendarEvents) }, 200)
    },
  )
  return app
}
