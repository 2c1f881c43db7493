/**
 * Errors in the terms of the surface that shows them. The engine names the fields of a request neutrally
 * (`from`, `where`, `dimension`, `timezone`…); the CLI shows them as its flags (`--from`, `--by`, `--tz`)
 * and the API as its parameters (`from`, `by`, `tz`). {@link inTermsOf} renames the fields of an
 * {@link InputError}'s issues, and rebuilds its message when the message is the single issue's own words.
 * An error is put in a surface's terms once: a route with parameters of its own renames first, and the
 * surface's defaults then leave the error alone.
 * @module
 */
import { InputError, formatIssue, type InputIssue } from './errors.js'

/** How a surface names a request field: a fixed map, or a function of the whole issue. */
export type FieldNames =
  Readonly<Record<string, string>> | ((issue: InputIssue) => string | undefined)

/** Errors already in a surface's terms. */
const settled = new WeakSet<InputError>()

/**
 * The error with its request fields renamed for a surface. Only issues without a file are renamed: an issue
 * with a file names a column of that file, which is the user's own term already. Other errors pass through,
 * and so does an error already put in a surface's terms.
 */
export function inTermsOf(error: unknown, names: FieldNames): unknown {
  if (!(error instanceof InputError) || settled.has(error)) return error
  const renamed = rename(error, names)
  settled.add(renamed)
  return renamed
}

function rename(error: InputError, names: FieldNames): InputError {
  const one = (issue: InputIssue): InputIssue => {
    if (issue.field === undefined || issue.file !== undefined) return issue
    const to = typeof names === 'function' ? names(issue) : names[issue.field]
    return to === undefined || to === issue.field ? issue : { ...issue, field: to }
  }
  // Always a new error, so the one thrown stays as it was for any other surface that shows it.
  const issues = error.issues.map(one)
  const single =
    error.issues.length === 1 && formatIssue(error.issues[0] as InputIssue) === error.message
  const message = single ? formatIssue(issues[0] as InputIssue) : error.message
  return new InputError(message, issues, error.totalIssues, error)
}
