/**
 * Saved segments over HTTP: list, read, create, replace, delete, and export of the members (CSV or JSON
 * Lines, with phone, email and consent flags for marketing tools). Scope `segments` (operator and admin).
 * @module
 */
import { createRoute, z } from '@hono/zod-openapi'
import {
  EXPORT_FORMATS,
  formatExport,
  getSegmentExportRows,
} from '../../engine/segments/segment-export.js'
import {
  SEGMENT_NAME_RE,
  segmentDefinitionSchema,
  segmentFilterSchema,
} from '../../engine/segments/segment-schema.js'
import {
  deleteSegment,
  findSegment,
  getSegment,
  listSegments,
  saveSegment,
} from '../../engine/segments/segment-store.js'
import { apiError } from '../error-handler.js'
import { errorResponses, type RouteServices, type ServiceApp } from './services.js'
import { scoped } from '../require-scope.js'

const SavedSegmentSchema = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    filter: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Segment')

const NameParam = z.object({
  name: z
    .string()
    .regex(SEGMENT_NAME_RE, 'letters, digits, _ . - (up to 100)')
    .openapi({ example: 'lapsed-vips' }),
})

const SegmentBody = z
  .object({
    description: z.string().max(500).optional(),
    filter: segmentFilterSchema.describe(
      'All conditions must hold; a list inside one condition matches any of its values. Values are data, never SQL.',
    ),
  })
  .strict()

const flat = (s: {
  definition: { name: string; description?: string | undefined; filter: object }
  createdAt: string
  updatedAt: string
}) => ({
  name: s.definition.name,
  ...(s.definition.description === undefined ? {} : { description: s.definition.description }),
  filter: s.definition.filter as Record<string, unknown>,
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
})

export function registerSegmentRoutes(app: ServiceApp, s: RouteServices): void {
  const { driver, security, json } = s
  const body = (description: string) => ({
    body: { required: true, description, content: { 'application/json': { schema: SegmentBody } } },
  })

  app.openapi(
    createRoute({
      ...scoped('segments'),
      method: 'get',
      path: '/api/v1/segments',
      security,
      responses: json(
        z.object({ segments: z.array(SavedSegmentSchema) }),
        'Saved segments by name',
      ),
    }),
    async (c) => {
      const list = await listSegments(driver)
      return c.json({ segments: list.map(flat) }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('segments'),
      method: 'get',
      path: '/api/v1/segments/{name}',
      security,
      request: { params: NameParam },
      responses: json(SavedSegmentSchema, 'One saved segment'),
    }),
    async (c) => {
      return c.json(flat(await getSegment(driver, c.req.valid('param').name)), 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('segments'),
      method: 'post',
      path: '/api/v1/segments',
      security,
      description: 'Creates a segment; 409 CONFLICT when the name is taken (use PUT to replace).',
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: SegmentBody.extend({ name: NameParam.shape.name }).strict(),
            },
          },
        },
      },
      responses: {
        ...errorResponses(json(SavedSegmentSchema, '')),
        201: {
          description: 'Created',
          content: { 'application/json': { schema: SavedSegmentSchema } },
        },
      },
    }),
    async (c) => {
      const input = c.req.valid('json')
      const saved = await s.writeLock(async () => {
        if (await findSegment(driver, input.name)) return undefined
        await saveSegment(driver, segmentDefinitionSchema.parse(input), s.clock)
        return getSegment(driver, input.name)
      })
      if (!saved)
        return apiError(
          c,
          'CONFLICT',
          `a segment named ${JSON.stringify(input.name)} exists`,
        ) as never
      return c.json(flat(saved), 201)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('segments'),
      method: 'put',
      path: '/api/v1/segments/{name}',
      security,
      description: 'Creates or replaces a segment (its creation time is kept).',
      request: { params: NameParam, ...body('The filter and an optional description') },
      responses: json(SavedSegmentSchema, 'The segment as saved'),
    }),
    async (c) => {
      const { name } = c.req.valid('param')
      const input = c.req.valid('json')
      const saved = await s.writeLock(async () => {
        await saveSegment(driver, segmentDefinitionSchema.parse({ ...input, name }), s.clock)
        return getSegment(driver, name)
      })
      return c.json(flat(saved), 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('segments'),
      method: 'delete',
      path: '/api/v1/segments/{name}',
      security,
      request: { params: NameParam },
      responses: json(z.object({ deleted: z.string() }), 'The segment was deleted'),
    }),
    async (c) => {
      const { name } = c.req.valid('param')
      const existed = await s.writeLock(() => deleteSegment(driver, name))
      if (!existed)
        return apiError(c, 'NOT_FOUND', `no segment named ${JSON.stringify(name)}`) as never
      return c.json({ deleted: name }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('segments'),
      method: 'get',
      path: '/api/v1/segments/{name}/export',
      security,
      description: `The segment's members with phone (E.164), email, WeChat, app, card, POS and customer identities and consent flags, ordered by member id: CSV (RFC 4180, with a header) or JSON Lines. At most ${s.maxRows.toLocaleString('en')} members (413 TOO_LARGE beyond).`,
      request: {
        params: NameParam,
        query: z.object({ format: z.enum(EXPORT_FORMATS).default('csv') }),
      },
      responses: {
        ...errorResponses(json(z.object({}), '')),
        200: {
          description: 'The export file',
          content: {
            'text/csv': { schema: z.string() },
            'application/x-ndjson': { schema: z.string() },
          },
        },
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param')
      const { format } = c.req.valid('query')
      const seg = await getSegment(driver, name)
      const asOf = await s.asOf(undefined)
      const rows = await s.timed(() => getSegmentExportRows(driver, seg.definition.filter, asOf))
      if (rows.length > s.maxRows)
        return apiError(
          c,
          'TOO_LARGE',
          `${rows.length} members; the API exports at most ${s.maxRows} (use \`memberlens segments export\`)`,
        ) as never
      c.header(
        'content-type',
        format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      )
      c.header('content-disposition', `attachment; filename="${name}.${format}"`)
      return c.body(formatExport(rows, format), 200) as never
    },
  )
}
