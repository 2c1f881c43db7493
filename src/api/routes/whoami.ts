/**
 * `/api/v1/whoami`: the key in use (any role).
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import type { ApiEnv, ApiRouter } from '../context.js'
import { ROLES } from '../keys.js'
import { json, security } from '../openapi.js'

const WhoamiSchema = z
  .object({ id: z.string(), name: z.string(), role: z.enum(ROLES) })
  .openapi('Whoami')

export function whoamiRoutes(): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      method: 'get',
      path: '/whoami',
      operationId: 'whoami',
      summary: 'The key in use',
      security,
      responses: json(WhoamiSchema, 'The key’s id, name and role'),
    }),
    (c) => {
      const k = c.get('key')
      return c.json({ id: k.id, name: k.name, role: k.role }, 200)
    },
  )
  return app
}
