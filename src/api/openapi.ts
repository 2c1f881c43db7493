/**
 * The pieces every route definition shares: the security requirement, the error body and the error
 * responses, and the helpers building a route's responses (`json`, `created`, `file`).
 * @module
 */
import { z } from '@hono/zod-openapi'

/** The `info` of the OpenAPI document. */
export const API_INFO = {
  title: 'memberlens API',
  version: '0.1.0',
  description:
    'Member metrics, the metric tree, members and drivers; segments, loyalty operations, the risk list, the CLV report, ingest, alerts, keys and the audit log. Every /api route needs `Authorization: Bearer <key>`; keys are created with `memberlens keys create`. Every write is recorded in the audit log; loyalty writes need an `Idempotency-Key` header.',
}

/** The OpenAPI security requirement of every /api route (a bearer key). */
export const security = [{ ApiKey: [] as string[] }]

/** One problem of a refused request or input record (core/errors.ts `InputIssue`). */
export const IssueSchema = z
  .object({
    file: z
      .string()
      .optional()
      .openapi({ description: 'file name, or a label such as `request body`' }),
    line: z
      .number()
      .optional()
      .openapi({ description: '1-based line (CSV header is line 1) or record' }),
    field: z.string().optional(),
    value: z.string().nullable().optional(),
    reason: z.string(),
    allowed: z
      .array(z.string())
      .readonly()
      .optional()
      .openapi({ description: 'the values the field accepts, when few enough to list' }),
  })
  .openapi('Issue')

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z
        .object({
          issues: z.array(IssueSchema).readonly(),
          totalIssues: z.number().optional(),
        })
        .optional()
        .openapi({
          description:
            'for refused input: the first problems found, and how many there were in all (`totalIssues`)',
        }),
    }),
  })
  .openapi('Error')

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
})

/** The error responses every route may give. */
export const errors = {
  400: error('Bad request'),
  401: error('Missing or invalid API key'),
  403: error('The key’s role may not do this'),
  429: error('Rate limited'),
  504: error('Query timed out'),
} as const

/** A 200 JSON response with the given schema, plus the shared error responses. */
export const json = <S extends z.ZodType>(schema: S, description: string) => ({
  200: { description, content: { 'application/json': { schema } } },
  ...errors,
})

/** A 201 JSON response (something was created), plus the shared error responses. */
export const created = <S extends z.ZodType>(schema: S, description: string) => ({
  201: { description, content: { 'application/json': { schema } } },
  ...errors,
})

/** A 200 file download as CSV or JSON Lines, plus the shared error responses. */
export const file = (description: string) => ({
  200: {
    description,
    content: {
      'text/csv': { schema: z.string().openapi({ description: 'RFC 4180, with a header row' }) },
      'application/x-ndjson': { schema: z.string().openapi({ description: 'one object a line' }) },
    },
  },
  ...errors,
})

/** A name in English and Chinese. */
export const Text = z.object({ en: z.string(), zh: z.string() }).openapi('Text')

/**
 * A response array. Read-only in its type only (the document is unchanged), so a handler can answer with
 * the library's read-only arrays as they are.
 */
export const items = <T extends z.ZodType>(item: T) => z.array(item).readonly()
