/**
 * Output conventions of the CLI: human text on stdout by default, one JSON document with `--json`; errors as
 * one line on stderr (or a JSON object under `--json`) with an exit code by kind.
 * @module
 */
import pc from 'picocolors'
import stringWidth from 'string-width'
import { inTermsOf } from '../core/error-terms.js'
import { InputError, MemberlensError, formatIssue, type InputIssue } from '../core/errors.js'
import { DatabaseBusyError } from '../store/db-lock.js'
import { currentConfig, MissingDatabaseError } from './config.js'
import { holderText, translator, type Lang } from './lang.js'

export const EXIT = { ok: 0, failure: 1, badInput: 2, notFound: 3 } as const

export interface OutputOptions {
  readonly json?: boolean
  readonly verbose?: boolean
  /** The language of the error line (not of `--json`, whose messages stay in English). */
  readonly lang?: Lang
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
  month: '--month',
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
  const t = translator(options.lang)
  const head = (word: 'error' | 'internal error') =>
    `${pc.red(t(word))}${options.lang === 'zh' ? '：' : ': '}`
  const known = knownErrorLine(error, options.lang ?? 'en')
  if (known !== undefined) {
    process.stderr.write(`${head('error')}${known}\n`)
  } else if (error instanceof InputError) {
    process.stderr.write(`${head('error')}${error.message}\n`)
    const single =
      error.issues.length === 1 && error.issues[0] && formatIssue(error.issues[0]) === error.message
    if (!single) for (const issue of error.issues) process.stderr.write(`  ${formatIssue(issue)}\n`)
    const allowed = error.issues.length === 1 && error.issues[0] && allowedLine(error.issues[0])
    if (allowed) process.stderr.write(`  ${t('accepted: {values}', { values: allowed })}\n`)
    if (error.totalIssues > error.issues.length) {
      process.stderr.write(
        `  ${t('… and {n} more ({total} in all)', { n: error.totalIssues - error.issues.length, total: error.totalIssues })}\n`,
      )
    }
  } else if (error instanceof MemberlensError && error.userFacing) {
    process.stderr.write(`${head('error')}${error.message}\n`)
  } else {
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`${head('internal error')}${message}\n`)
    if (!options.verbose) process.stderr.write(`  ${t('(run again with --verbose for details)')}\n`)
  }
  if (options.verbose && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`)
  return code
}

/** What a date, month or period flag expects, by the reason the checks give, with an example value. */
const DATE_REASONS: Readonly<
  Record<string, { what: 'month' | 'date' | 'period'; example: string }>
> = {
  'expected YYYY-MM': { what: 'month', example: '2026-10' },
  'expected YYYY-MM-DD': { what: 'date', example: '2026-10-31' },
  'expected a date YYYY-MM-DD': { what: 'date', example: '2026-10-31' },
  'a date YYYY-MM-DD': { what: 'date', example: '2026-10-31' },
  'expected a date YYYY-MM-DD (or YYYY-MM, YYYY)': { what: 'period', example: '2026-10' },
}

/**
 * The one line (with its hint) of the errors a person meets first: no database at the path, a database another
 * process holds, a date or month that is not one. Undefined for other errors.
 */
export function knownErrorLine(error: unknown, lang: Lang): string | undefined {
  const t = translator(lang)
  if (error instanceof MissingDatabaseError) {
    const from = error.source === undefined ? '' : t(' (from {source})', { source: error.source })
    return t(
      'no database at {path}{from}: build one with `memberlens demo --db {path}` or load data with `memberlens ingest <table> <files> --db {path}`',
      { path: error.path, from },
    )
  }
  if (error instanceof DatabaseBusyError) {
    if (lang === 'en') return error.message
    return t(
      '{path} is in use by {holder}: one process at a time can open a DuckDB database. Wait for that command to finish, or stop it, and run again (MEMBERLENS_LOCK_WAIT sets how many seconds to wait).',
      { path: error.path, holder: holderText(error.holder, lang) },
    )
  }
  if (error instanceof InputError && error.issues.length === 1) {
    const issue = error.issues[0] as InputIssue
    const kind = DATE_REASONS[issue.reason]
    if (kind === undefined || issue.field === undefined) return undefined
    const field = issue.field
    const example = field.startsWith('--') ? `${field} ${kind.example}` : kind.example
    const value = issue.value === undefined || issue.value === null ? '' : ` "${issue.value}"`
    const vars = { field, value, example }
    switch (kind.what) {
      case 'month':
        return t(
          '{field}{value} is not a month: write YYYY-MM with a month 01–12, e.g. {example}',
          vars,
        )
      case 'date':
        return t(
          '{field}{value} is not a date: write YYYY-MM-DD, a day the month has, e.g. {example}',
          vars,
        )
      case 'period':
        return t(
          '{field}{value} is not a period: write YYYY-MM-DD, YYYY-MM or YYYY, e.g. {example}',
          vars,
        )
      default: {
        const _exhaustive: never = kind.what
        return _exhaustive
      }
    }
  }
  return undefined
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

/** What a missing figure prints: never 0, never blank where a value belongs. */
export const MISSING = '—'

/** A statistic with fixed decimals and no grouping (model parameters, AUC, weights); — when missing. */
export function decimal(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? MISSING : v.toFixed(digits)
}

/** Formats a number for people: thousands separators, fixed decimals. */
export function fmt(n: number | null | undefined, decimals = 0): string {
  if (n === null || n === undefined || Number.isNaN(n)) return MISSING
  return n.toLocaleString('en-US', {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  })
}

export function pct(n: number | null | undefined, decimals = 1): string {
  if (n === null || n === undefined || Number.isNaN(n)) return MISSING
  return `${(n * 100).toFixed(decimals)}%`
}

/**
 * What a figure measures: a catalog unit (members, orders, points, count, currency, per_member, ratio, score,
 * per_1000, seconds), `change` (a relative change, shown with its sign) or `days`.
 */
export type FigureUnit =
  | 'members'
  | 'orders'
  | 'points'
  | 'count'
  | 'currency'
  | 'per_member'
  | 'ratio'
  | 'score'
  | 'per_1000'
  | 'seconds'
  | 'change'
  | 'days'

/** Figures at or above this size (in absolute value) are shortened: ¥143万 in Chinese, ¥1.43M in English. */
export const COMPACT_FROM = 100_000

/** Money at or above this size (in absolute value) is shown without cents. */
const WHOLE_MONEY_FROM = 100

const formats = new Map<string, Intl.NumberFormat>()
function numberFormat(lang: Lang, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${lang}|${JSON.stringify(options)}`
  let f = formats.get(key)
  if (f === undefined) {
    f = new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en-US', options)
    formats.set(key, f)
  }
  return f
}

/** The currency of money figures: the `currency` setting (flag, MEMBERLENS_CURRENCY or the project file), else CNY. */
export function moneyCurrency(): string {
  const v = currentConfig()?.settings.currency.value
  return typeof v === 'string' && /^[A-Z]{3}$/.test(v) ? v : 'CNY'
}

const UNIT_WORDS: Partial<Record<FigureUnit, Record<Lang, string>>> = {
  seconds: { en: ' s', zh: ' 秒' },
  days: { en: ' days', zh: ' 天' },
}

/**
 * A figure as a manager reads it, the same rules as the dashboard's: money with the currency's symbol, without
 * cents from ¥100 up; counts as whole numbers; rates as percentages; figures from 100,000 up shortened with
 * 万/亿 in Chinese and K/M in English. e.g. in zh with CNY: 1,432,000 → ¥143万, 2,345.6 → ¥2,346, 12.5 →
 * ¥12.50; ratio 0.1234 → 12.3%; change 0.05 → +5.0%. null, undefined and non-finite values are {@link MISSING}.
 */
export function figure(
  v: number | null | undefined,
  unit: FigureUnit,
  lang: Lang = 'en',
  currency: string = moneyCurrency(),
): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return MISSING
  const big = Math.abs(v) >= COMPACT_FROM
  const compact: Intl.NumberFormatOptions = { notation: 'compact', maximumSignificantDigits: 3 }
  switch (unit) {
    case 'ratio':
      return numberFormat(lang, {
        style: 'percent',
        minimumFractionDigits: 1,
        maximumFractionDigits: 1,
      }).format(v)
    case 'change':
      return numberFormat(lang, {
        style: 'percent',
        signDisplay: 'exceptZero',
        minimumFractionDigits: 1,
        maximumFractionDigits: 1,
      }).format(v)
    case 'currency': {
      const money: Intl.NumberFormatOptions = {
        style: 'currency',
        currency,
        currencyDisplay: 'narrowSymbol',
      }
      if (big) return numberFormat(lang, { ...money, ...compact }).format(v)
      const cents = Math.abs(v) < WHOLE_MONEY_FROM
      return numberFormat(lang, {
        ...money,
        ...(cents
          ? { minimumFractionDigits: 2, maximumFractionDigits: 2 }
          : { maximumFractionDigits: 0 }),
      }).format(v)
    }
    case 'score':
    case 'per_1000':
      return numberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v)
    case 'per_member':
      return numberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(v)
    default: {
      const words = UNIT_WORDS[unit]?.[lang] ?? ''
      if (big) return numberFormat(lang, compact).format(v) + words
      // Counts are whole; a mean of a count (page views per session) keeps up to two decimals.
      const whole = unit !== 'count' || Number.isInteger(v)
      return numberFormat(lang, { maximumFractionDigits: whole ? 0 : 2 }).format(v) + words
    }
  }
}

/** Money in the configured currency, for people (see {@link figure}). */
export function money(v: number | null | undefined, lang: Lang = 'en'): string {
  return figure(v, 'currency', lang)
}

/** A count as a whole number, shortened from 100,000 up (see {@link figure}). */
export function count(v: number | null | undefined, lang: Lang = 'en'): string {
  return figure(v, 'members', lang)
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
        /^[-–—+¥$€£\d.,%\s万亿KMB]+$/.test(c)
          ? padStart(c, widths[i] ?? 0)
          : padEnd(c, widths[i] ?? 0),
      )
      .join('  ')
  return [pc.bold(line(header)), ...rows.map(line)].join('\n')
}

/** A CSV document (RFC 4180: CRLF line ends; fields with a comma, quote or line break quoted) from a header and rows. */
export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly unknown[]>): string {
  const cell = (v: unknown): string => {
    const s = v === null || v === undefined ? '' : String(v)
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
  }
  return `${[header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`
}
