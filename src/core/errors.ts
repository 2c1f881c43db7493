/**
 * The one place where memberlens errors are defined.
 *
 * Every error extends {@link MemberlensError} and carries a string-literal `code`. User errors (bad input,
 * an unsupported feature, a model that did not converge) are safe to show; anything else is a bug.
 * @module
 */

export type ErrorCode =
  | 'INPUT_INVALID'
  | 'NOT_FOUND'
  | 'UNSUPPORTED_FEATURE'
  | 'QUERY_FAILED'
  | 'LEDGER_CONFLICT'
  | 'INSUFFICIENT_POINTS'
  | 'REWARD_OUT_OF_STOCK'
  | 'LEDGER_IN_USE'
  | 'MODEL_FIT_FAILED'
  | 'CONFIG_INVALID'
  | 'DATABASE_BUSY'

export class MemberlensError extends Error {
  readonly code: ErrorCode
  /** True when the message is safe and useful to show to the person who caused it. */
  readonly userFacing: boolean

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; userFacing?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.userFacing = options?.userFacing ?? true
  }
}

/** One problem found in one input record. */
export interface InputIssue {
  /** File name (or a label such as `request body`). */
  readonly file?: string
  /** 1-based line in the file (header is line 1 for CSV) or record number for Parquet/JSON batches. */
  readonly line?: number
  readonly field?: string
  readonly value?: string | null
  readonly reason: string
  /** The values the field accepts, when they are few enough to list (e.g. metric ids). */
  readonly allowed?: readonly string[]
}

/** Bad input: the message names file, line, field and reason; `issues` holds the first ones found. */
export class InputError extends MemberlensError {
  readonly issues: readonly InputIssue[]
  /** How many issues there were in all (may exceed `issues.length`). */
  readonly totalIssues: number

  constructor(
    message: string,
    issues: readonly InputIssue[] = [],
    totalIssues = issues.length,
    cause?: unknown,
  ) {
    super('INPUT_INVALID', message, { cause })
    this.issues = issues
    this.totalIssues = totalIssues
  }

  static single(issue: InputIssue): InputError {
    return new InputError(formatIssue(issue), [issue], 1)
  }
}

export class ConfigError extends MemberlensError {
  constructor(message: string, cause?: unknown) {
    super('CONFIG_INVALID', message, { cause })
  }
}

export class NotFoundError extends MemberlensError {
  constructor(message: string) {
    super('NOT_FOUND', message)
  }
}

export class UnsupportedFeatureError extends MemberlensError {
  constructor(dialect: string, feature: string) {
    super('UNSUPPORTED_FEATURE', `${feature} is not supported by the ${dialect} engine`)
  }
}

/** A query failed inside the engine. Not user-facing: it usually means a bug. */
export class QueryError extends MemberlensError {
  readonly sql: string
  readonly parameters: readonly unknown[]

  constructor(sql: string, parameters: readonly unknown[], cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    super('QUERY_FAILED', `query failed: ${reason}`, { cause, userFacing: false })
    this.sql = sql
    this.parameters = parameters
  }
}

export class LedgerConflictError extends MemberlensError {
  constructor(message: string) {
    super('LEDGER_CONFLICT', message)
  }
}

export class InsufficientPointsError extends MemberlensError {
  constructor(message: string) {
    super('INSUFFICIENT_POINTS', message)
  }
}

/**
 * A catalogue reward has fewer units left than asked for. Not {@link LedgerConflictError}: that code means an
 * idempotency key was reused for another request, which a client must not retry; this one may succeed later
 * (after a restock, or with a smaller quantity).
 */
export class RewardOutOfStockError extends MemberlensError {
  readonly rewardId: string
  readonly left: number

  constructor(rewardId: string, left: number) {
    super('REWARD_OUT_OF_STOCK', `reward ${rewardId} is out of stock (${left} left)`)
    this.rewardId = rewardId
    this.left = left
  }
}

/** The embedded ledger directory is open in another process (one writer per directory). */
export class LedgerInUseError extends MemberlensError {
  constructor(message: string) {
    super('LEDGER_IN_USE', message)
  }
}

/** A model fit did not converge (or produced unusable parameters); never silently used. */
export class ModelFitError extends MemberlensError {
  readonly iterations: number

  constructor(message: string, iterations: number) {
    super('MODEL_FIT_FAILED', message)
    this.iterations = iterations
  }
}

/** `file:line: field "value": reason`, omitting the parts that are unknown. */
export function formatIssue(issue: InputIssue): string {
  const where = [issue.file, issue.line === undefined ? undefined : String(issue.line)]
    .filter((p) => p !== undefined)
    .join(':')
  const what =
    issue.field === undefined
      ? ''
      : issue.value === undefined
        ? `${issue.field}`
        : `${issue.field} ${JSON.stringify(issue.value)}`
  return [where, what, issue.reason].filter((p) => p !== '').join(': ')
}
