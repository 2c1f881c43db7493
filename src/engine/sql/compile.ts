/**
 * Compiling a fragment for one dialect: the dialect's placeholders in the text, the values collected in
 * order. Kept apart from `fragment.ts` so that fragments do not depend on the dialects that use them.
 * @module
 */
import type { CompiledQuery, SqlValue } from '../compiled-query.js'
import type { SqlDialect } from '../dialects/dialect.js'
import type { Fragment, SqlNode } from './fragment.js'

/** Turns a fragment into text with the dialect's placeholders, collecting parameters in order. */
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
  return Object.freeze({ sql: text, parameters: Object.freeze(parameters) })
}
