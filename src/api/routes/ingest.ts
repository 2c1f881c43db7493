/**
 * `/api/v1/ingest`: ingest over HTTP (scope `ingest`: admin): a JSON batch of records, or an uploaded file
 * (CSV, JSON Lines or Parquet, as the raw body or the `file` field of a multipart form). Either is written to
 * a private temporary file and loaded by `ingestFile`, the same code as `memberlens ingest`: the same
 * validation (every bad row named by line and field, 400 with nothing written) and the same atomicity (one
 * transaction; a repeated load of the same rows changes nothing). Loads run one at a time; after each, the
 * alert rules are evaluated.
 * @module
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { inTermsOf } from '../../core/error-terms.js'
import { InputError, MemberlensError } from '../../core/errors.js'
import { INGEST_TABLES, type IngestTable } from '../../core/schema.js'
import {
  ingestFile,
  UNKNOWN_IDENTITY_RULES,
  type IngestOptions,
} from '../../duckdb/ingest/ingest.js'
import { SOURCE_FORMATS, type SourceFormat } from '../../duckdb/ingest/source.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { ApiError } from '../error-handler.js'
import { json, security } from '../openapi.js'
import { scoped } from '../require-scope.js'

/** Most records in one JSON batch. */
export const MAX_BATCH_RECORDS = 50_000

const ReportSchema = z
  .object({
    table: z.string(),
    dryRun: z.boolean(),
    rowsRead: z.number(),
    rowsInserted: z.number(),
    rowsUpdated: z.number(),
    rowsUnchanged: z.number(),
    membersCreated: z.number(),
    membersMerged: z.number(),
    identitiesAdded: z.number(),
    identitiesHeldBack: z
      .number()
      .openapi({ description: 'identifiers kept but not used to merge (deny list or shared)' }),
    alertsFired: z.number(),
  })
  .openapi('IngestReport')

/** The load options both endpoints take (in the JSON body, or in the query string of an upload). */
const LOAD_OPTION_FIELDS = {
  timezone: z.string().max(64).optional().openapi({ example: 'Asia/Shanghai' }),
  dateFormat: z.string().max(64).optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
  countryCode: z
    .string()
    .regex(/^\d{1,4}$/)
    .optional(),
  unknownIdentity: z.enum(UNKNOWN_IDENTITY_RULES).default('create'),
}

const Options = z.object({ ...LOAD_OPTION_FIELDS, dryRun: z.boolean().default(false) }).strict()

const TableParam = z.object({ table: z.enum(INGEST_TABLES).openapi({ example: 'orders' }) })

type Parsed = z.infer<typeof Options> & {
  format?: SourceFormat
  delimiter?: string
}

export function ingestRoutes(ctx: ApiContext): ApiRouter {
  const { driver } = ctx
  const app = new OpenAPIHono<ApiEnv>()

  /**
   * Writes the bytes to a private temporary file, loads it and removes it; evaluates alerts after. Errors
   * name the upload as the client knows it (`shownAs`), never the server's temporary path.
   */
  const load = async (
    table: IngestTable,
    name: string,
    shownAs: string,
    content: string | Uint8Array,
    o: Parsed,
  ): Promise<z.infer<typeof ReportSchema>> => {
    const dir = await mkdtemp(join(tmpdir(), 'memberlens-upload-'))
    try {
      const file = join(dir, name)
      await writeFile(file, content, { mode: 0o600 })
      const options: IngestOptions = {
        table,
        clock: ctx.clock,
        unknownIdentity: o.unknownIdentity,
        dryRun: o.dryRun,
        ...(o.timezone === undefined ? {} : { timezone: o.timezone }),
        ...(o.dateFormat === undefined ? {} : { dateFormat: o.dateFormat }),
        ...(o.currency === undefined ? {} : { currency: o.currency }),
        ...(o.countryCode === undefined ? {} : { defaultCountryCode: o.countryCode }),
        ...(o.format === undefined ? {} : { format: o.format }),
        ...(o.delimiter === undefined ? {} : { delimiter: o.delimiter }),
      }
      const r = await ctx
        .writeLock(() => ingestFile(driver, file, options))
        .catch((e: unknown) => {
          // The load options keep their own names here (`timezone`, not the metric routes' `tz`).
          throw inTermsOf(withoutPath(e, [file, dir], shownAs), {})
        })
      // The load has committed: an alert failure is the operator's to see, not a failed load.
      const fired =
        o.dryRun || !ctx.alerts
          ? []
          : await ctx.alerts.evaluate('ingest').catch((e: unknown) => {
              ctx.log(e)
              return []
            })
      const { file: _file, ...report } = r
      return { ...report, alertsFired: fired.length }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  app.openapi(
    createRoute({
      ...scoped('ingest'),
      method: 'post',
      path: '/ingest/{table}',
      operationId: 'ingestRecords',
      summary: 'Load a JSON batch of records into a table',
      security,
      description: `Loads a JSON batch (at most ${MAX_BATCH_RECORDS.toLocaleString('en')} records; field names as in the CSV files, see docs/ingest.md) into one table, all or nothing.`,
      request: {
        params: TableParam,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({
                  records: z
                    .array(
                      z.record(
                        z.string().max(100),
                        z.union([z.string(), z.number(), z.boolean(), z.null()]),
                      ),
                    )
                    .min(1)
                    .max(MAX_BATCH_RECORDS),
                  options: Options.optional(),
                })
                .strict()
                .openapi('IngestBatch', {
                  example: {
                    records: [
                      {
                        order_id: 'O1001',
                        phone: '13800138000',
                        ordered_at: '2026-11-01 10:00:00',
                        channel: 'app',
                        net_amount: 99.5,
                      },
                    ],
                  },
                }),
            },
          },
        },
      },
      responses: json(ReportSchema, 'What the load did'),
    }),
    async (c) => {
      const { table } = c.req.valid('param')
      const b = c.req.valid('json')
      const lines = b.records.map((r) => JSON.stringify(r)).join('\n')
      // Line n of the batch file is record n of the request.
      const report = await load(table, 'batch.jsonl', 'records', `${lines}\n`, {
        ...Options.parse(b.options ?? {}),
        format: 'jsonl',
      })
      return c.json(report, 200)
    },
  )

  app.openapi(
    createRoute({
      ...scoped('ingest'),
      method: 'post',
      path: '/ingest/{table}/file',
      operationId: 'ingestFile',
      summary: 'Load an uploaded file into a table',
      security,
      description:
        'Loads an uploaded file into one table, all or nothing: the raw body (`Content-Type: text/csv`, `application/x-ndjson` or `application/vnd.apache.parquet`) or the `file` field of a `multipart/form-data` form. Options travel in the query string.',
      request: {
        params: TableParam,
        query: z.object({
          format: z.enum(SOURCE_FORMATS).optional(),
          delimiter: z.string().length(1).optional(),
          ...LOAD_OPTION_FIELDS,
          dryRun: z.enum(['true', 'false']).default('false'),
        }),
      },
      responses: json(ReportSchema, 'What the load did'),
    }),
    async (c) => {
      const { table } = c.req.valid('param')
      const q = c.req.valid('query')
      const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
      let content: Uint8Array
      let name = 'request body'
      if (type === 'multipart/form-data') {
        const form = await c.req.parseBody()
        const file = form['file']
        if (!(file instanceof File))
          throw new ApiError('INPUT_INVALID', 'the form has no `file` field holding a file')
        content = new Uint8Array(await file.arrayBuffer())
        name = file.name
      } else {
        content = new Uint8Array(await c.req.arrayBuffer())
      }
      if (content.length === 0) throw new ApiError('INPUT_INVALID', 'the upload is empty')
      const format =
        q.format ??
        (type.includes('csv')
          ? 'csv'
          : type.includes('ndjson') || type.includes('jsonl')
            ? 'jsonl'
            : type.includes('parquet')
              ? 'parquet'
              : undefined)
      // The file's own name never reaches the file system: only its extension, from a closed list.
      const ext = format ?? /\.(csv|jsonl|parquet)$/i.exec(name)?.[1]?.toLowerCase() ?? 'csv'
      const report = await load(table, `upload.${ext}`, shownName(name), content, {
        unknownIdentity: q.unknownIdentity,
        dryRun: q.dryRun === 'true',
        ...(format === undefined ? {} : { format }),
        ...(q.delimiter === undefined ? {} : { delimiter: q.delimiter }),
        ...(q.timezone === undefined ? {} : { timezone: q.timezone }),
        ...(q.dateFormat === undefined ? {} : { dateFormat: q.dateFormat }),
        ...(q.currency === undefined ? {} : { currency: q.currency }),
        ...(q.countryCode === undefined ? {} : { countryCode: q.countryCode }),
      })
      return c.json(report, 200)
    },
  )
  return app
}

/** The uploaded file's own name for messages: its last path segment, printable, at most 200 characters. */
function shownName(name: string): string {
  const base = name.split(/[\\/]/).at(-1) ?? ''
  const clean = [...base]
    .filter((ch) => ch >= ' ' && ch !== '\u007f')
    .join('')
    .slice(0, 200)
  return clean === '' ? 'request body' : clean
}

/**
 * The error with every server path in its message and issues replaced by the name the client knows; the
 * paths are tried longest first, so the file's full path wins over its directory.
 */
function withoutPath(error: unknown, paths: readonly string[], shownAs: string): unknown {
  if (!(error instanceof MemberlensError)) return error
  const order = [...paths].sort((a, b) => b.length - a.length)
  const clean = (text: string) => order.reduce((t, p) => t.replaceAll(p, shownAs), text)
  if (error instanceof InputError)
    return new InputError(
      clean(error.message),
      error.issues.map((i) => ({
        ...i,
        ...(i.file === undefined ? {} : { file: clean(i.file) }),
        reason: clean(i.reason),
        ...(typeof i.value === 'string' ? { value: clean(i.value) } : {}),
      })),
      error.totalIssues,
      error,
    )
  if (!error.userFacing) return error
  return new MemberlensError(error.code, clean(error.message), { cause: error })
}
