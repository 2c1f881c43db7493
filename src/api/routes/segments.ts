/**
 * `/api/v1/segments`: saved segments — list, read, create, replace, delete, and export of the members (CSV or
 * JSON Lines, with phone, email and consent flags for marketing tools); scope `segments` (operator and
 * admin). `/api/v1/segment-sizes`: every saved segment's size and value, and the size and value of a
 * definition before it is saved (the dashboard's segment builder); aggregates only, so viewers may read them.
 * `/api/v1/segment-lists/resolve`: an uploaded list of identities resolved to members through the identity
 * graph, for a segment of those members (scope `segments`).
 * @module
 */
import { utcTimestampText, wallTimeIn } from '../../core/time-zone.js'
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import {
  EXPORT_COLUMNS,
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
import { getSegmentSize } from '../../engine/segments/segment-summary.js'
import { compareSegments } from '../../analytics/profile/segment-compare.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { ApiError } from '../error-handler.js'
import { created, file, json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { IdsParam, day, month, parseIdsParam } from '../schemas.js'
import { narrowIdentityColumns } from '../../engine/segments/identity-columns.js'
import { parseIdentityList, resolveIdentityList } from '../../duckdb/members/member-list.js'

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

const SegmentSizesSchema = z
  .object({
    asOf: z.string(),
    revenueFrom: z.string(),
    revenueTo: z.string(),
    segments: items(
      z.object({
        name: z.string(),
        description: z.string().nullable(),
        members: z.number(),
        buyers: z.number(),
        revenue: z.number(),
        revenuePerMember: z.number().nullable(),
      }),
    ),
  })
  .openapi('SegmentSizes')

const SegmentPreviewSchema = z
  .object({
    asOf: z.string(),
    revenueFrom: z.string(),
    revenueTo: z.string(),
    members: z.number(),
    buyers: z.number(),
    revenue: z.number(),
    revenuePerMember: z.number().nullable(),
  })
  .openapi('SegmentPreview')

const SegmentComparisonSchema = z
  .object({
    segment: z.string(),
    against: z.string().openapi({
      description: '`base` (every member registered before asOf) or the other segment',
    }),
    asOf: z.string(),
    segmentSize: z.number(),
    baseSize: z.number().openapi({ description: 'members of the comparison group' }),
    overlap: z.number().openapi({ description: 'members in both' }),
    tagPeriod: z
      .string()
      .nullable()
      .openapi({ description: 'the month of the tags compared; null without tags' }),
    test: z.object({
      method: z.literal('two-proportion-z'),
      alpha: z.number(),
      versus: z.string().openapi({ description: 'what the segment is tested against' }),
    }),
    rows: items(
      z.object({
        attribute: z.string().openapi({
          description:
            'registration_channel, region, city, gender, age_band, lifecycle_stage, tier, or tag:<group>',
        }),
        value: z.string().nullable().openapi({ description: 'null: the attribute is missing' }),
        segmentMembers: z.number(),
        segmentShare: z.number().nullable(),
        baseMembers: z.number(),
        baseShare: z.number().nullable(),
        tgi: z
          .number()
          .nullable()
          .openapi({ description: 'segment share ÷ comparison share × 100' }),
        z: z.number().nullable(),
        pValue: z.number().nullable(),
        significant: z.boolean().nullable(),
      }),
    ),
  })
  .openapi('SegmentComparison')

const ResolvedListSchema = z
  .object({
    lines: z.number().openapi({ description: 'lines read (blank and # lines left out)' }),
    matched: z.number(),
    unmatched: z.number(),
    memberIds: z
      .array(z.number())
      .openapi({
        description: 'distinct members matched, ascending (a segment filter’s memberIds)',
      }),
    unmatchedLines: items(
      z.object({ line: z.number(), text: z.string(), reason: z.string() }),
    ).openapi({ description: 'the first 100 unmatched lines, with why' }),
  })
  .openapi('ResolvedIdentityList')
const yearBefore = (d: string) => `${Number(d.slice(0, 4)) - 1}${d.slice(4, 10)}`
/** A wall date in `zone` as the engine's UTC instant text. */
const zonedInstant = (day: string, zone: string) => utcTimestampText(wallTimeIn(day, zone))

export function segmentsRoutes(ctx: ApiContext): ApiRouter {
  const { driver } = ctx
  const app = new OpenAPIHono<ApiEnv>()

  app.openapi(
    createRoute({
      ...scoped('segments'),
      method: 'post',
      path: '/segment-lists/resolve',
      operationId: 'resolveIdentityList',
      summary: 'Resolve an uploaded list of identities to members',
      security,
      description:
        'Each line of the text is `kind:value` (phone, email, wechat_unionid, app_user_id, card_no, pos_customer_id, customer_id, member_id) or a bare value tried against every kind; a CSV with a header naming kinds is read column by column. Lines are resolved through the identity graph as `segments save --from-file` does; the member ids make a segment filter’s memberIds.',
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({
                  text: z.string().min(1).max(10_000_000),
                  file: z
                    .string()
                    .max(200)
                    .optional()
                    .openapi({ description: 'the file’s name, for messages' }),
                })
                .strict(),
            },
          },
        },
      },
      responses: json(ResolvedListSchema, 'Matched and unmatched lines'),
    }),
    async (c) => {
      const { text, file } = c.req.valid('json')
      const lines = parseIdentityList(text, file ?? 'uploaded list')
      const list = await ctx.timed(() => resolveIdentityList(driver, lines))
      const unmatchedLines = list.lines
        .filter((l) => l.memberId === null)
        .slice(0, 100)
        .map((l) => ({ line: l.line, text: l.text, reason: l.reason ?? '' }))
      return c.json(
        {
          lines: list.lines.length,
          matched: list.matched,
          unmatched: list.unmatched,
          memberIds: [...list.memberIds],
          unmatchedLines,
        },
        200,
      )
    },
  )
  const body = (description: string) => ({
    body: { required: true, description, content: { 'application/json': { schema: SegmentBody } } },
  })

  app.openapi(
    createRoute({
      ...scoped('segments'),
      method: 'get',
      path: '/segments',
      operationId: 'listSegments',
      summary: 'Saved segments',
      security,
      responses: json(z.object({ segments: items(SavedSegmentSchema) }), 'Saved segments by name'),
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
      path: '/segments/{name}',
      operationId: 'getSegment',
      summary: 'One saved segment',
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
      path: '/segments',
      operationId: 'createSegment',
      summary: 'Create a segment',
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
      responses: created(SavedSegmentSchema, 'Created'),
    }),
    async (c) => {
      const input = c.req.valid('json')
      const saved = await ctx.writeLock(async () => {
        if (await findSegment(driver, input.name)) return undefined
        await saveSegment(driver, segmentDefinitionSchema.parse(input), ctx.clock)
        return getSegment(driver, input.name)
      })
      if (!saved)
        throw new ApiError('CONFLICT', `a segment named ${JSON.stringify(input.name)} exists`)
      return c.json(flat(saved), 201)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('segments'),
      method: 'put',
      path: '/segments/{name}',
      operationId: 'putSegment',
      summary: 'Create or replace a segment',
      security,
      description: 'Creates or replaces a segment (its creation time is kept).',
      request: { params: NameParam, ...body('The filter and an optional description') },
      responses: json(SavedSegmentSchema, 'The segment as saved'),
    }),
    async (c) => {
      const { name } = c.req.valid('param')
      const input = c.req.valid('json')
      const saved = await ctx.writeLock(async () => {
        await saveSegment(driver, segmentDefinitionSchema.parse({ ...input, name }), ctx.clock)
        return getSegment(driver, name)
      })
      return c.json(flat(saved), 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('segments'),
      method: 'delete',
      path: '/segments/{name}',
      operationId: 'deleteSegment',
      summary: 'Delete a segment',
      security,
      request: { params: NameParam },
      responses: json(z.object({ deleted: z.string() }), 'The segment was deleted'),
    }),
    async (c) => {
      const { name } = c.req.valid('param')
      const existed = await ctx.writeLock(() => deleteSegment(driver, name))
      if (!existed) throw new ApiError('NOT_FOUND', `no segment named ${JSON.stringify(name)}`)
      return c.json({ deleted: name }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('segments'),
      method: 'get',
      path: '/segments/{name}/export',
      operationId: 'exportSegment',
      summary: 'A segment’s members as a file',
      security,
      description: `The segment's members with phone (E.164), email, WeChat, app, card, POS and customer identities and consent flags, ordered by member id: CSV (RFC 4180, with a header) or JSON Lines. At most ${ctx.maxRows.toLocaleString('en')} members (413 TOO_LARGE beyond).`,
      request: {
        params: NameParam,
        query: z.object({
          format: z.enum(EXPORT_FORMATS).default('csv'),
          ids: IdsParam.openapi({
            description:
              'Keep only these identity columns, in this order (comma-separated identity types; default every identity column)',
            example: 'customer_id,phone',
          }),
        }),
      },
      responses: file('The export file'),
    }),
    async (c) => {
      const { name } = c.req.valid('param')
      const { format, ids } = c.req.valid('query')
      const columns = narrowIdentityColumns(
        EXPORT_COLUMNS,
        ids === undefined ? undefined : parseIdsParam(ids),
      )
      const seg = await getSegment(driver, name)
      const asOf = await ctx.asOf(undefined)
      const rows = await ctx.timed(() => getSegmentExportRows(driver, seg.definition.filter, asOf))
      if (rows.length > ctx.maxRows)
        throw new ApiError(
          'TOO_LARGE',
          `${rows.length} members; the API exports at most ${ctx.maxRows} (use \`memberlens segments export\`)`,
        )
      c.header(
        'content-type',
        format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      )
      c.header('content-disposition', `attachment; filename="${name}.${format}"`)
      return c.body(formatExport(rows, format, columns), 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/segments/{name}/compare',
      operationId: 'compareSegment',
      summary: 'A segment against the base or another segment: shares and TGI',
      security,
      description:
        'For each value of registration channel, region, city, gender, age band, lifecycle stage, tier and each tag group: the share of the segment holding it, the share in the comparison group, TGI = share ÷ comparison share × 100, and a pooled two-proportion z-test (two-sided, 5%) of the segment against the comparison members outside it. Aggregates only.',
      request: {
        params: NameParam,
        query: z.object({
          against: z
            .string()
            .regex(SEGMENT_NAME_RE, 'a saved segment name')
            .optional()
            .openapi({ description: 'another saved segment (default: the whole base)' }),
          tagPeriod: month
            .optional()
            .openapi({ description: 'the month of the tags compared (default: the latest)' }),
          asOf: day.optional().openapi({ example: '2026-11-01' }),
        }),
      },
      responses: json(
        SegmentComparisonSchema,
        'The segment’s profile against the comparison group',
      ),
    }),
    async (c) => {
      const { name } = c.req.valid('param')
      const { against, tagPeriod, asOf } = c.req.valid('query')
      const at = await ctx.zonedAsOf(asOf)
      const segment = await getSegment(ctx.driver, name)
      const other = against === undefined ? undefined : await getSegment(ctx.driver, against)
      const result = await ctx.timed(() =>
        compareSegments(
          ctx.driver,
          segment.definition.filter,
          other === undefined
            ? undefined
            : { name: other.definition.name, filter: other.definition.filter },
          at.instant,
          tagPeriod === undefined ? {} : { tagPeriod },
        ),
      )
      return c.json({ ...result, segment: name, asOf: at.local }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/segment-sizes',
      operationId: 'listSegmentSizes',
      summary: 'Each saved segment’s size and value',
      security,
      request: { query: z.object({ asOf: day.optional().openapi({ example: '2026-11-01' }) }) },
      responses: json(
        SegmentSizesSchema,
        'Each saved segment’s members as of a date and their net revenue in the year before it',
      ),
    }),
    async (c) => {
      const at = await ctx.zonedAsOf(c.req.valid('query').asOf)
      const asOf = at.local
      const window = { from: zonedInstant(yearBefore(asOf), at.zone), to: at.instant }
      const saved = await listSegments(ctx.driver)
      const segments = await ctx.timed(async () => {
        const out = []
        for (const s of saved) {
          const size = await getSegmentSize(ctx.driver, s.definition.filter, at.instant, window)
          out.push({
            name: s.definition.name,
            description: s.definition.description ?? null,
            ...size,
            revenuePerMember: size.members > 0 ? size.revenue / size.members : null,
          })
        }
        return out
      })
      return c.json({ asOf, revenueFrom: yearBefore(asOf), revenueTo: asOf, segments }, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'post',
      path: '/segment-sizes/preview',
      operationId: 'previewSegment',
      summary: 'The size and value of an unsaved segment',
      security,
      description:
        'The size and value of a segment definition before it is saved (the dashboard’s segment builder): counts and money only, no member list.',
      request: {
        query: z.object({ asOf: day.optional().openapi({ example: '2026-11-01' }) }),
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({
                  filter: segmentFilterSchema.describe(
                    'All conditions must hold; a list inside one condition matches any of its values.',
                  ),
                })
                .strict(),
            },
          },
        },
      },
      responses: json(
        SegmentPreviewSchema,
        'Members of the definition as of a date and their net revenue in the year before it',
      ),
    }),
    async (c) => {
      const at = await ctx.zonedAsOf(c.req.valid('query').asOf)
      const asOf = at.local
      const window = { from: zonedInstant(yearBefore(asOf), at.zone), to: at.instant }
      const { filter } = c.req.valid('json')
      const size = await ctx.timed(() => getSegmentSize(ctx.driver, filter, at.instant, window))
      return c.json(
        {
          asOf,
          revenueFrom: yearBefore(asOf),
          revenueTo: asOf,
          ...size,
          revenuePerMember: size.members > 0 ? size.revenue / size.members : null,
        },
        200,
      )
    },
  )
  return app
}
