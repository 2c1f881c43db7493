/**
 * `/api/v1/keys`: API key management over HTTP (admin only): list keys (never their secrets), create one (the
 * secret is in this one answer and nowhere else), revoke one. The same operations as `memberlens keys …`;
 * every create and revoke is in the audit log.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { ROLES } from '../keys.js'
import { json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'

const KeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi('ApiKey')

export function keysRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('keys'),
      method: 'get',
      path: '/keys',
      operationId: 'listKeys',
      summary: 'API keys',
      security,
      responses: json(z.object({ keys: items(KeySchema) }), 'Keys, without secrets'),
    }),
    (c) => {
      const keys = ctx.keys.list().map(({ hash: _hash, ...k }) => k)
      return c.json({ keys }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('keys'),
      method: 'post',
      path: '/keys',
      operationId: 'createKey',
      summary: 'Create an API key',
      security,
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.object({ name: z.string().min(1).max(100), role: z.enum(ROLES) }).strict(),
            },
          },
        },
      },
      responses: json(
        KeySchema.extend({ secret: z.string() }),
        'The new key with its secret, shown this once',
      ),
    }),
    async (c) => {
      const b = c.req.valid('json')
      const { key, secret } = await ctx.keys.create(b.name, b.role)
      const { hash: _hash, ...shown } = key
      return c.json({ ...shown, secret }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('keys'),
      method: 'post',
      path: '/keys/{id}/revoke',
      operationId: 'revokeKey',
      summary: 'Revoke an API key',
      security,
      request: { params: z.object({ id: z.string().regex(/^[0-9a-f]{12}$/) }) },
      responses: json(KeySchema, 'The revoked key'),
    }),
    async (c) => {
      const { hash: _hash, ...k } = await ctx.keys.revoke(c.req.valid('param').id)
      return c.json(k, 200)
    },
  )
  return app
}
