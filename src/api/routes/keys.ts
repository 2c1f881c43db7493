/**
 * API key management over HTTP (admin only): list keys (never their secrets), create one (the secret is in
 * this one answer and nowhere else), revoke one. The same operations as `memberlens keys …`; every create
 * and revoke is in the audit log.
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import { ROLES } from '../keys.js'
import { scoped } from '../require-scope.js'
import type { RouteServices, ServiceApp } from './services.js'

const KeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi('ApiKey')

export function registerKeyRoutes(app: ServiceApp, s: RouteServices): void {
  app.openapi(
    createRoute({
      ...scoped('keys'),
      method: 'get',
      path: '/api/v1/keys',
      security: s.security,
      responses: s.json(z.object({ keys: z.array(KeySchema) }), 'Keys, without secrets'),
    }),
    (c) => {
      const keys = s.keys.list().map(({ hash: _hash, ...k }) => k)
      return c.json({ keys }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('keys'),
      method: 'post',
      path: '/api/v1/keys',
      security: s.security,
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
      responses: s.json(
        KeySchema.extend({ secret: z.string() }),
        'The new key with its secret, shown this once',
      ),
    }),
    async (c) => {
      const b = c.req.valid('json')
      const { key, secret } = await s.keys.create(b.name, b.role)
      const { hash: _hash, ...shown } = key
      return c.json({ ...shown, secret }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('keys'),
      method: 'post',
      path: '/api/v1/keys/{id}/revoke',
      security: s.security,
      request: { params: z.object({ id: z.string().regex(/^[0-9a-f]{12}$/) }) },
      responses: s.json(KeySchema, 'The revoked key'),
    }),
    async (c) => {
      const { hash: _hash, ...k } = await s.keys.revoke(c.req.valid('param').id)
      return c.json(k, 200)
    },
  )
}
