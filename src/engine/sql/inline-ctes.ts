/**
 * Rewrites `WITH a AS (…), b AS (…) SELECT … FROM a JOIN b …` into the same query with each common table
 * expression written out as a subquery where it is read (`FROM (…) AS a`), for engines without CTEs
 * (ClickHouse before 20.x). Works on compiled text whose values are already literals: the scan skips string
 * literals, quoted identifiers and comments, and replaces only names that follow `FROM` or `JOIN`, so a column
 * `a.period` or a function `numbers(…)` is left alone. A CTE read twice is computed twice; nested `WITH`
 * clauses (inside parentheses) are rewritten first.
 * @module
 */

/** Words that may follow a table in FROM/JOIN and therefore are not its alias. */
const NOT_ALIAS = new Set(
  (
    'WHERE GROUP ORDER LEFT RIGHT INNER FULL CROSS JOIN ON USING UNION LIMIT HAVING ANY ALL SETTINGS FINAL ' +
    'SAMPLE ARRAY GLOBAL PREWHERE FORMAT WINDOW QUALIFY OUTER SEMI ANTI ASOF EXCEPT INTERSECT OFFSET'
  ).split(' '),
)

const WORD_RE = /[A-Za-z_][A-Za-z0-9_]*/y

/** Index just past the literal, quoted identifier or comment starting at `i`, or `i` when there is none. */
function skipOpaque(text: string, i: number): number {
  const c = text[i]
  if (c === "'" || c === '"' || c === '`') {
    let j = i + 1
    while (j < text.length) {
      if (text[j] === '\\') j += 2
      else if (text[j] === c) {
        if (text[j + 1] === c) j += 2
        else return j + 1
      } else j++
    }
    throw new Error(`unterminated ${c} in SQL at offset ${i}`)
  }
  if (c === '-' && text[i + 1] === '-') {
    const end = text.indexOf('\n', i)
    return end === -1 ? text.length : end
  }
  if (c === '/' && text[i + 1] === '*') {
    const end = text.indexOf('*/', i + 2)
    if (end === -1) throw new Error(`unterminated comment in SQL at offset ${i}`)
    return end + 2
  }
  return i
}

/** Index of the parenthesis closing the one at `open`. */
function closing(text: string, open: number): number {
  let depth = 0
  let i = open
  while (i < text.length) {
    const skipped = skipOpaque(text, i)
    if (skipped !== i) {
      i = skipped
      continue
    }
    if (text[i] === '(') depth++
    else if (text[i] === ')') {
      depth--
      if (depth === 0) return i
    }
    i++
  }
  throw new Error(`unbalanced parenthesis in SQL at offset ${open}`)
}

function wordAt(text: string, i: number): string | undefined {
  WORD_RE.lastIndex = i
  const m = WORD_RE.exec(text)
  if (m === null) return undefined
  const before = i > 0 ? (text[i - 1] as string) : ' '
  return /[A-Za-z0-9_.]/.test(before) ? undefined : m[0]
}

function skipSpace(text: string, i: number): number {
  let j = i
  for (;;) {
    while (j < text.length && /\s/.test(text[j] as string)) j++
    const k = skipOpaque(text, j)
    if (k === j || !(text[j] === '-' || text[j] === '/')) return j
    j = k
  }
}

/** Reads an identifier (bare or double-quoted) at `i`: its name and the index past it. */
function identifierAt(text: string, i: number): { name: string; end: number } | undefined {
  if (text[i] === '"') {
    const end = skipOpaque(text, i)
    return { name: text.slice(i + 1, end - 1).replace(/""/g, '"'), end }
  }
  const w = wordAt(text, i)
  return w === undefined ? undefined : { name: w, end: i + w.length }
}

/** Replaces the tables named in `bodies` that follow FROM or JOIN with their parenthesised bodies. */
function substitute(text: string, bodies: ReadonlyMap<string, string>): string {
  if (bodies.size === 0) return text
  let out = ''
  let i = 0
  while (i < text.length) {
    const skipped = skipOpaque(text, i)
    if (skipped !== i) {
      out += text.slice(i, skipped)
      i = skipped
      continue
    }
    const w = wordAt(text, i)
    if (w === undefined) {
      out += text[i]
      i++
      continue
    }
    out += w
    i += w.length
    const upper = w.toUpperCase()
    if (upper !== 'FROM' && upper !== 'JOIN') continue
    const start = skipSpace(text, i)
    const id = identifierAt(text, start)
    if (id === undefined) continue
    const body = bodies.get(id.name)
    const next = text[id.end]
    if (body === undefined || next === '.' || next === '(') continue
    const after = skipSpace(text, id.end)
    const following = wordAt(text, after) ?? (text[after] === '"' ? '"' : undefined)
    const hasAlias = following !== undefined && !NOT_ALIAS.has(following.toUpperCase())
    out += text.slice(i, start) + `(${body})` + (hasAlias ? '' : ` AS ${text.slice(start, id.end)}`)
    i = id.end
  }
  return out
}

/**
 * The text with the content of each top-level parenthesised group replaced by `rewrite(content)`; literals,
 * quoted names and comments are copied as they are.
 */
function mapGroups(text: string, rewrite: (inner: string) => string): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    const skipped = skipOpaque(text, i)
    if (skipped !== i) {
      out += text.slice(i, skipped)
      i = skipped
      continue
    }
    if (text[i] !== '(') {
      out += text[i]
      i++
      continue
    }
    const end = closing(text, i)
    out += `(${rewrite(text.slice(i + 1, end))})`
    i = end + 1
  }
  return out
}

/** Rewrites every parenthesised group that starts with WITH, at any depth. */
function rewriteNested(text: string): string {
  return mapGroups(text, (inner) =>
    /^\s*WITH\b/i.test(inner) ? inlineCtes(inner) : rewriteNested(inner),
  )
}

/** The query with its common table expressions (and those of its subqueries) written out as subqueries. */
export function inlineCtes(text: string): string {
  const open = /^\s*WITH\s+/i.exec(text)
  if (open === null) return rewriteNested(text)
  const bodies = new Map<string, string>()
  let i = open[0].length
  for (;;) {
    const id = identifierAt(text, i)
    if (id === undefined) throw new Error(`expected a CTE name in SQL at offset ${i}`)
    const as = skipSpace(text, id.end)
    if (wordAt(text, as)?.toUpperCase() !== 'AS') {
      throw new Error(`expected AS after CTE ${id.name} in SQL at offset ${as}`)
    }
    const paren = skipSpace(text, as + 2)
    if (text[paren] !== '(') throw new Error(`expected ( after CTE ${id.name} AS`)
    const end = closing(text, paren)
    const body = substitute(inlineCtes(text.slice(paren + 1, end)), bodies)
    bodies.set(id.name, body)
    const next = skipSpace(text, end + 1)
    if (text[next] === ',') {
      i = skipSpace(text, next + 1)
      continue
    }
    return substitute(rewriteNested(text.slice(next)), bodies)
  }
}

/** Splits at the commas outside parentheses, literals and quoted names. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let start = 0
  let i = 0
  while (i < text.length) {
    const skipped = skipOpaque(text, i)
    if (skipped !== i) {
      i = skipped
      continue
    }
    const c = text[i]
    if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i))
      start = i + 1
    }
    i++
  }
  parts.push(text.slice(start))
  return parts
}

/** The words outside parentheses, literals and quoted names, with their offsets. */
function topLevelWords(text: string): { word: string; at: number }[] {
  const words: { word: string; at: number }[] = []
  let depth = 0
  let i = 0
  while (i < text.length) {
    const skipped = skipOpaque(text, i)
    if (skipped !== i) {
      i = skipped
      continue
    }
    const c = text[i] as string
    if (c === '(') depth++
    else if (c === ')') depth--
    else if (depth === 0) {
      const w = wordAt(text, i)
      if (w !== undefined) {
        words.push({ word: w.toUpperCase(), at: i })
        i += w.length
        continue
      }
    }
    i++
  }
  return words
}

const ALIAS_RE = /\s+AS\s+("(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_]*)\s*$/i
const POSITION_RE = /^(\s*)(\d+)(\s+(?:ASC|DESC)\b)?(\s*)$/i
const CLAUSE_END = new Set([
  'HAVING',
  'ORDER',
  'LIMIT',
  'SETTINGS',
  'UNION',
  'FORMAT',
  'WINDOW',
  'QUALIFY',
])

/** One query level: `GROUP BY 1, 2` and `ORDER BY 1` name the select list's expressions instead. */
function expandPositionsAtLevel(text: string): string {
  const words = topLevelWords(text)
  const edits: { from: number; to: number; text: string }[] = []
  let select: { from: number; to: number } | undefined
  words.forEach((w, k) => {
    if (w.word === 'SELECT') {
      const end = words.slice(k + 1).find((x) => x.word === 'FROM')
      select = { from: w.at + w.word.length, to: end?.at ?? text.length }
      return
    }
    if ((w.word !== 'GROUP' && w.word !== 'ORDER') || words[k + 1]?.word !== 'BY' || !select) return
    const listFrom = (words[k + 1] as { at: number }).at + 2
    const stop = words.slice(k + 2).find((x) => CLAUSE_END.has(x.word) || x.word === 'SELECT')
    const listTo = stop?.at ?? text.length
    const items = splitTopLevel(text.slice(listFrom, listTo))
    if (!items.some((item) => POSITION_RE.test(item))) return
    const columns = splitTopLevel(text.slice(select.from, select.to)).map((c) =>
      c
        .replace(/^\s*DISTINCT\s+/i, '')
        .replace(ALIAS_RE, '')
        .trim(),
    )
    const rewritten = items.map((item) => {
      const m = POSITION_RE.exec(item)
      if (m === null) return item
      const column = columns[Number(m[2]) - 1]
      if (column === undefined) throw new Error(`position ${m[2]} is beyond the select list`)
      return `${m[1]}${column}${m[3] ?? ''}${m[4]}`
    })
    edits.push({ from: listFrom, to: listTo, text: rewritten.join(',') })
  })
  let out = text
  for (const e of edits.reverse()) out = out.slice(0, e.from) + e.text + out.slice(e.to)
  return out
}

/**
 * `GROUP BY 1, 2` and `ORDER BY 1` written with the select list's expressions, at every query level, for
 * engines that read a number there as a constant (ClickHouse before 20.x).
 */
export function expandPositions(text: string): string {
  return expandPositionsAtLevel(mapGroups(text, expandPositions))
}
