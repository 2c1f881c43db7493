/**
 * `/api/v1/settings`: how figures are to be shown (every role reads aggregates) — the currency of money figures, from the
 * `currency` setting (CNY by default), and the language the dashboard opens in, from the `lang` setting.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { json, security } from '../openapi.js'
import { scoped } from '../require-scope.js'

const SettingsSchema = z
  .object({
    currency: z.string().openapi({ example: 'CNY', description: 'ISO 4217 code of money figures' }),
    lang: z.enum(['en', 'zh']).openapi({
      example: 'zh',
      description:
        'the language the dashboard opens in until the viewer chooses one (the `lang` setting; en by default)',
    }),
  })
  .openapi('Settings')

export function settingsRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/settings',
      operationId: 'getSettings',
      summary: 'How figures are shown',
      security,
      responses: json(
        SettingsSchema,
        'How figures are to be shown: the currency of money figures (the `currency` setting; CNY by default) and the dashboard’s default language',
      ),
    }),
    (c) => c.json({ currency: ctx.currency, lang: ctx.lang }, 200),
  )
  return app
}
