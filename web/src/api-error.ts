/**
 * The server's error answers as the dashboard shows them: the server's own message, followed by each
 * problem it lists (field and reason, the accepted values when there are few) that the message does not
 * already say. No DOM here, so it can be tested on its own.
 */

/** One problem of a refused request, as the API lists it under `error.details.issues`. */
export interface ApiIssue {
  readonly file?: string
  readonly line?: number
  readonly field?: string
  readonly value?: unknown
  readonly reason: string
  readonly allowed?: readonly string[]
}

/** A non-2xx answer of the API: its message in words, with the code and the problems it listed. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
    readonly issues: readonly ApiIssue[],
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** Most accepted values shown after a problem. */
const MAX_ALLOWED = 8

function describeIssue(i: ApiIssue): string {
  const where = [i.file, i.line === undefined ? undefined : String(i.line)]
    .filter((x) => x !== undefined)
    .join(':')
  const what =
    i.field === undefined
      ? ''
      : i.value === undefined || i.value === null
        ? i.field
        : `${i.field} ${JSON.stringify(i.value)}`
  return [where, what, i.reason].filter((x) => x !== '').join(': ')
}

function allowedText(i: ApiIssue): string | undefined {
  const a = i.allowed
  if (a === undefined || a.length === 0) return undefined
  const shown = a.slice(0, MAX_ALLOWED).join(', ')
  return a.length > MAX_ALLOWED ? `${shown}, …` : shown
}

function asIssues(v: unknown): ApiIssue[] {
  if (!Array.isArray(v)) return []
  return v.filter(
    (x): x is ApiIssue =>
      typeof x === 'object' && x !== null && typeof (x as ApiIssue).reason === 'string',
  )
}

/**
 * The error for an answer's status and parsed body (`{ error: { code, message, details } }`, or anything
 * else when the server sent no JSON). `accepted` is the word put before the accepted values.
 */
export function apiErrorOf(
  status: number,
  statusText: string,
  body: unknown,
  accepted = 'accepted',
): ApiError {
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)
    ?.error
  const base =
    typeof e?.message === 'string' && e.message !== ''
      ? e.message
      : `${status} ${statusText}`.trim()
  const issues = asIssues((e?.details as { issues?: unknown } | undefined)?.issues)
  const parts = [base]
  for (const i of issues) {
    const said = describeIssue(i)
    if (!base.includes(said) && !base.includes(i.reason)) parts.push(said)
    const allowed = allowedText(i)
    if (allowed !== undefined) parts.push(`${i.field ?? ''} ${accepted}: ${allowed}`.trim())
  }
  return new ApiError(
    parts.join('; '),
    status,
    typeof e?.code === 'string' ? e.code : undefined,
    issues,
  )
}
