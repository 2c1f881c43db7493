/**
 * Compiling a fragment for one dialect: the dialect's placeholders in the text, the values collected in
 * order. Kept apart from `fragment.ts` so that fragments do not depend on the dialects that use them.
 * @module
 */
import type { CompiledQuery, SqlValue } from '../compiled-query.js'
import type { SqlDialect } from '../dialects/dialect.js'
import type { Fragment, SqlNode } from './fragment.js'
import { expandPositions, inlineCtes } from './inline-ctes.js'

/**
 * Turns a fragment into text with the dialect's placeholders, collecting parameters in order. For a dialect
 * without common table expressions, they are written out as subqueries.
 */
export function compile(dialect: SqlDialect, fragment: Fragment): CompiledQuery {
  const parameters: SqlValue[] = []
  let text = ''
  const walk = (node: SqlNode): void => {
    switch (node.kind) {
      case 'text':
        text += node.text
        return
      case 'param':
        parameters.push(node.value)
        text += dialect.placeholder(parameters.length, node.value)
        return
      case 'identifier':
        text += node.names.map((n) => dialect.quoteIdentifier(n)).join('.')
        return
      case 'fragment':
        for (const n of node.nodes) walk(n)
        return
      default: {
        const _exhaustive: never = node
        throw new Error(`unknown SQL node ${JSON.stringify(_exhaustive)}`)
      }
    }
  }
  walk(fragment)
  if (!dialect.supportsCtes) text = expandPositions(inlineCtes(text))
  return Object.freeze({ sql: text, parameters: Object.freeze(parameters) })
}
