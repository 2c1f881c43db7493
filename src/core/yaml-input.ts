/**
 * A YAML file read against a zod schema, with every problem placed: the file, the line of the offending key
 * or value (the nearest one that exists in the file), the field path and the reason.
 * @module
 */
import { LineCounter, isNode, parseDocument } from 'yaml'
import type { z } from 'zod'
import { InputError, type InputIssue } from './errors.js'

/** Parses YAML `text` (named `file` in errors) and checks it with `schema`; throws an {@link InputError}. */
export function parseYamlWith<S extends z.ZodType>(
  schema: S,
  text: string,
  file: string,
): z.infer<S> {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true })
  const bad = doc.errors[0]
  if (bad) {
    throw InputError.single({
      file,
      ...(bad.linePos ? { line: bad.linePos[0].line } : {}),
      reason: `not valid YAML (${bad.message.split('\n')[0] ?? ''})`,
    })
  }
  const parsed = schema.safeParse(doc.toJS() ?? {})
  if (parsed.success) return parsed.data
  const issues: InputIssue[] = parsed.error.issues.map((i) => {
    const path = i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))
    let line: number | undefined
    for (let n = path.length; n >= 0 && line === undefined; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true)
      if (isNode(node) && node.range) line = lines.linePos(node.range[0]).line
    }
    return {
      file,
      ...(line === undefined ? {} : { line }),
      field: path.length === 0 ? '(file)' : path.join('.'),
      reason: i.message,
    }
  })
  const first = issues[0] as InputIssue
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''
  const where = [first.file, first.line].filter((p) => p !== undefined).join(':')
  throw new InputError(`${where}: ${first.field}: ${first.reason}${more}`, issues)
}
