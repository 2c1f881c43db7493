/**
 * Errors in the terms of the surface that shows them. The engine names the fields of a request neutrally
 * (`from`, `where`, `dimension`, `timezone`…); the CLI shows them as its flags (`--from`, `--by`, `--tz`)
 * and the API as its parameters (`from`, `by`, `tz`). {@link inTermsOf} renames the fields of an
 * {@link InputError}'s issues, and rebuilds its message when the message is the single issue's own words.
 * @module
 */
import { InputError, formatIssue, type InputIssue } from './errors.js'

/** How a surface names a request field: a fixed map, or a function of the whole issue. */
export type FieldNames =
  Readonly<Record<string, string>> | ((issue: InputIssue) => string | undefined)

/**
 * The error with its request fields renamed for a surface. Only issues without a file are renamed: an issue
 * with a file names a column of that file, which is the user's own term already. Other errors pass through.
 */
export function inTermsOf(error: unknown, names: FieldNames): unknown {
  if (!(error instanceof InputError)) return error
  const rename = (issue: InputIssue): InputIssue => {
    if (issue.field === undefined || issue.file !== undefined) return issue
    const to = typeof names === 'function' ? names(issue) : names[issue.field]
    return to === undefined || to === issue.field ? issue : { ...issue, field: to }
  }
  const issues = error.issues.map(rename)
  if (issues.every((x, i) => x === error.issues[i])) return error
  const single =
    error.issues.length === 1 && formatIssue(error.issues[0] as InputIssue) === error.message
  const message = single ? formatIssue(issues[0] as InputIssue) : error.message
  return new InputError(message, issues, error.totalIssues, error)
}
