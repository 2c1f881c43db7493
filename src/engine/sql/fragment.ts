/**
 * Immutable SQL fragments: the typed parts queries are built from.
 *
 * A fragment is text interleaved with parameters, identifiers and nested fragments. Values always become
 * parameters; identifiers are quoted by the dialect at compile time; raw text can only come from the `sql`
 * template's literal parts or from {@link unsafeRaw}, which callers use for closed enums checked on the spot.
 * `compile.ts` turns a fragment into text for a dialect; this file knows no dialect, so the dialects can build
 * fragments without an import cycle.
 * @module
 */
import type { SqlValue } from '../compiled-query.js'

export type SqlNode =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'param'; readonly value: SqlValue }
  | { readonly kind: 'identifier'; readonly names: readonly string[] }
  | { readonly kind: 'fragment'; readonly nodes: readonly SqlNode[] }

export interface Fragment {
  readonly kind: 'fragment'
  readonly nodes: readonly SqlNode[]
}

/** Anything that can be interpolated into `sql`: a fragment, an identifier, or a value (becomes a parameter). */
export type SqlPart = Fragment | IdentifierNode | SqlValue

interface IdentifierNode {
  readonly kind: 'identifier'
  readonly names: readonly string[]
}

const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]*$/

function isNode(v: unknown): v is Fragment | IdentifierNode {
  return typeof v === 'object' && v !== null && 'kind' in v
}

function toNode(part: SqlPart): SqlNode {
  if (isNode(part)) return part
  return Object.freeze({ kind: 'param', value: part })
}

/**
 * Tagged template: literal text is kept as written (raw), interpolated values become parameters, fragments
 * nest.
 * @example sql`SELECT count(*) FROM ${ident('orders')} WHERE net_amount > ${100}`
 */
export function sql(strings: TemplateStringsArray, ...parts: readonly SqlPart[]): Fragment {
  const nodes: SqlNode[] = []
  // Raw strings: a backslash in the template reaches SQL as written (regular expressions keep their `\s`).
  strings.raw.forEach((s, i) => {
    if (s !== '') nodes.push({ kind: 'text', text: s })
    if (i < parts.length) nodes.push(toNode(parts[i] as SqlPart))
  })
  return Object.freeze({ kind: 'fragment', nodes: Object.freeze(nodes) })
}

/**
 * A (possibly qualified) identifier, quoted by the dialect. Names must be plain SQL identifiers; anything else
 * is refused here, so identifiers built from user input are validated where they are made.
 */
export function ident(...names: string[]): IdentifierNode {
  for (const n of names) {
    if (!IDENTIFIER_RE.test(n)) throw new Error(`invalid SQL identifier ${JSON.stringify(n)}`)
  }
  return Object.freeze({ kind: 'identifier', names: Object.freeze([...names]) })
}

/** A quoted identifier for any column name a user's file may have (quoted, never interpreted). */
export function sourceColumn(name: string): IdentifierNode {
  if (name.length === 0 || name.length > 255 || name.includes('\u0000')) {
    throw new Error(`invalid column name ${JSON.stringify(name)}`)
  }
  return Object.freeze({ kind: 'identifier', names: Object.freeze([name]) })
}

/** Raw SQL text. Only for text chosen from a closed set in the calling function (keywords, enum members). */
export function unsafeRaw(text: string): Fragment {
  const node: SqlNode = { kind: 'text', text }
  return Object.freeze({ kind: 'fragment', nodes: Object.freeze([node]) })
}

/** Joins fragments with a separator (default `, `). */
export function join(parts: readonly SqlPart[], separator = ', '): Fragment {
  const nodes: SqlNode[] = []
  parts.forEach((p, i) => {
    if (i > 0) nodes.push({ kind: 'text', text: separator })
    nodes.push(toNode(p))
  })
  return Object.freeze({ kind: 'fragment', nodes: Object.freeze(nodes) })
}

export const empty: Fragment = Object.freeze({ kind: 'fragment', nodes: Object.freeze([]) })
