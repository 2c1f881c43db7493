/**
 * Output conventions of the CLI: human text on stdout by default, one JSON document with `--json`; errors as
 * one line on stderr (or a JSON object under `--json`) with an exit code by kind.
 * @module
 */
import pc from 'picocolors'
import stringWidth from 'string-width'
import { inTermsOf } from '../core/error-terms.js'
import { InputError, MemberlensError, formatIssue, type InputIssue } from '../core/errors.js'

export const EXIT = { ok: 0, failure: 1, badInput: 2, notFound: 3 } as const

export interface OutputOptions {
  readonly json?: boolean
  readonly verbose?: boolean
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`)
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  return value
}

/**
 * The flags that carry the request fields the engine names neutrally (the API names them by its own
 * parameters: src/api/error-handler.ts).
 */
export const CLI_FIELD_NAMES: Readonly<Record<string, string>> = {
  from: '--from',
  to: '--to',
  where: '--where',
  grain: '--grain',
  dimension: '--by',
  timezone: '--tz',
  period: '--period',
}

/** The accepted values of an issue, at most 12 of them, as one line. */
function allowedLine(issue: InputIssue): string | undefined {
  const a = issue.allowed
  if (a === undefined || a.length === 0) return undefined
  const shown = a.slice(0, 12).join(', ')
  return a.length > 12 ? `${shown}, … (${a.length} in all)` : shown
}

/** Prints an error and returns the exit code for it. */
export function reportError(thrown: unknown, options: OutputOptions): number {
  const error = inTermsOf(thrown, CLI_FIELD_NAMES)
  const code = exitCodeFor(error)
  if (options.json) {
    const body =
      error instanceof MemberlensError && error.userFacing
        ? {
            error: {
              code: error.code,
              message: error.message,
              ...(error instanceof InputError
                ? { issues: error.issues, totalIssues: error.totalIssues }
                : {}),
            },
          }
        : {
            error: {
              code: 'INTERNAL',
              message: error instanceof Error ? error.message : String(error),
            },
          }
    process.stderr.write(`${JSON.stringify(body, jsonReplacer)}\n`)
    return code
  }
  if (error instanceof InputError) {
    process.stderr.write(`${pc.red('error')}: ${error.message}\n`)
    const single =
      error.issues.length === 1 && error.issues[0] && formatIssue(error.issues[0]) === error.message
    if (!single) for (const issue of error.issues) process.stderr.write(`  ${formatIssue(issue)}\n`)
    const allowed = error.issues.length === 1 && error.issues[0] && allowedLine(error.issues[0])
    if (allowed) process.stderr.write(`  accepted: ${allowed}\n`)
    if (error.totalIssues > error.issues.length) {
      process.stderr.write(
        `  … and ${error.totalIssues - error.issues.length} more (${error.totalIssues} in all)\n`,
      )
    }
  } else if (error instanceof MemberlensError && error.userFacing) {
    process.stderr.write(`${pc.red('error')}: ${error.message}\n`)
  } else {
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`${pc.red('internal error')}: ${message}\n`)
    if (!options.verbose) process.stderr.write('  (run again with --verbose for details)\n')
  }
  if (options.verbose && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`)
  return code
}

export function exitCodeFor(error: unknown): number {
  if (!(error instanceof MemberlensError) || !error.userFacing) return EXIT.failure
  switch (error.code) {
    case 'NOT_FOUND':
      return EXIT.notFound
    case 'INPUT_INVALID':
    case 'CONFIG_INVALID':
    case 'UNSUPPORTED_FEATURE':
    case 'INSUFFICIENT_POINTS':
    case 'LEDGER_CONFLICT':
    case 'REWARD_OUT_OF_STOCK':
    case 'MODEL_FIT_FAILED':
      return EXIT.badInput
    case 'QUERY_FAILED':
    case 'DATABASE_BUSY':
    case 'LEDGER_IN_USE':
      return EXIT.failure
    default: {
      const _exhaustive: never = error.code
      return _exhaustive
    }
  }
}

/** Formats a number for people: thousands separators, fixed decimals. */
export function fmt(n: number | null | undefined, decimals = 0): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '–'
  return n.toLocaleString('en-US', {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  })
}

export function pct(n: number | null | undefined, decimals = 1): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '–'
  return `${(n * 100).toFixed(decimals)}%`
}

/** Pads to a display width: Chinese and other wide characters take two terminal columns. */
function padEnd(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - stringWidth(s)))
}
function padStart(s: string, width: number): string {
  return ' '.repeat(Math.max(0, width - stringWidth(s))) + s
}

/** A two-column table of label → value, aligned. */
export function keyValues(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([k]) => stringWidth(k)))
  return rows.map(([k, v]) => `  ${padEnd(k, width)}  ${v}`).join('\n')
}

/** A table with a header row; numbers right-aligned. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) =>
    Math.max(stringWidth(h), ...rows.map((r) => stringWidth(r[i] ?? ''))),
  )
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) =>
        /^[-–+\d.,%\s]+$/.test(c) ? padStart(c, widths[i] ?? 0) : padEnd(c, widths[i] ?? 0),
      )
      .join('  ')
  return [pc.bold(line(header)), ...rows.map(line)].join('\n')
}

/** Comma-separated values with a header; fields with commas or quotes are quoted (RFC 4180). */
export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly unknown[]>): string {
  const cell = (v: unknown): string => {
    const s = v === null || v === undefined ? '' : String(v)
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
  }
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n'
}
