/**
 * `/api/v1/glossary`: the glossary — every user-facing term and catalog metric with its definition in English
 * and Chinese, the same entries `memberlens explain` prints and the dashboard's ⓘ marks show.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { NotFoundError } from '../../core/errors.js'
import { findTerm, glossary, nearestTerms } from '../../engine/metrics/glossary.js'
import type { ApiEnv, ApiRouter } from '../context.js'
import { Text, json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'

const TermSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['concept', 'metric']),
    name: Text,
    definition: Text,
    formula: z.string().optional(),
    related: items(z.string()).optional(),
    shownIn: items(z.string()).optional(),
  })
  .openapi('GlossaryTerm')

export function glossaryRoutes(): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      method: 'get',
      path: '/glossary',
      operationId: 'listGlossary',
      summary: 'Every term and metric with its definition',
      security,
      ...scoped('aggregates'),
      responses: json(
        z.object({ terms: items(TermSchema) }),
        'The glossary: concepts first, then the catalog metrics',
      ),
    }),
    (c) => {
      return c.json({ terms: [...glossary()] }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/glossary/{term}',
      operationId: 'getGlossaryTerm',
      summary: 'One term of the glossary',
      security,
      ...scoped('aggregates'),
      request: { params: z.object({ term: z.string().max(100) }) },
      responses: json(TermSchema, 'The term; 404 names the nearest terms'),
    }),
    (c) => {
      const id = c.req.valid('param').term
      const term = findTerm(id)
      if (term === undefined)
        throw new NotFoundError(
          `no term ${id} in the glossary; nearest: ${nearestTerms(id).join(', ')}`,
        )
      return c.json(term, 200)
    },
  )
  return app
}
