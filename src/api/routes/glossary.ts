/**
 * The glossary: every user-facing term and catalog metric with its definition in English and Chinese, the
 * same entries `memberlens explain` prints and the dashboard's ⓘ marks show.
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import { NotFoundError } from '../../core/errors.js'
import { findTerm, glossary, nearestTerms } from '../../engine/metrics/glossary.js'
import { scoped } from '../require-scope.js'
import type { ApiApp, RouteContext } from './context.js'

const Text = z.object({ en: z.string(), zh: z.string() })
const TermSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['concept', 'metric']),
    name: Text,
    definition: Text,
    formula: z.string().optional(),
    related: z.array(z.string()).optional(),
    shownIn: z.array(z.string()).optional(),
  })
  .openapi('GlossaryTerm')

export function registerGlossaryRoutes(app: ApiApp, ctx: RouteContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/glossary',
      operationId: 'listGlossary',
      summary: 'Every term and metric with its definition',
      security: ctx.security,
      ...scoped('aggregates'),
      responses: ctx.json(
        z.object({ terms: z.array(TermSchema) }),
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
      path: '/api/v1/glossary/{term}',
      operationId: 'getGlossaryTerm',
      summary: 'One term of the glossary',
      security: ctx.security,
      ...scoped('aggregates'),
      request: { params: z.object({ term: z.string().max(100) }) },
      responses: ctx.json(TermSchema, 'The term; 404 names the nearest terms'),
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
}
