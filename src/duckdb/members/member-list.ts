/**
 * A file of identities (an uploaded list: phones, WeChat unionids, customer ids, member ids…) resolved to
 * members through the identity graph, line by line, as `memberlens members show` resolves one query.
 *
 * The file is text with one record per line (no line breaks inside a field). Either every line is one
 * identity, `kind:value` (`phone:13800138000`, `customer_id:17123`, `member_id:42`) or a bare value tried as a
 * member id and then against every identity type; or the first line is a header naming a column per kind
 * (`phone,wechat_unionid`), and a line matches when its identities name one member. Other columns a caller
 * asks for (`extraColumns`) are read and returned with the line. Blank lines and lines starting with `#` are
 * skipped. A line whose identities name no member, or two different members, is unmatched, with the reason.
 * @module
 */
import { InputError } from '../../core/errors.js'
import { phoneReader } from '../../core/phone.js'
import { IDENTITY_TYPES, type IdentityType } from '../../core/schema.js'
import type { Driver } from '../../engine/drivers/driver.js'
import { join, sql, type Fragment } from '../../engine/sql/fragment.js'
import { valuesRelation } from '../../engine/sql/values.js'
import { identityValid, normalizeIdentity, type IdentityContext } from '../identity.js'

/** The kinds a list may name: the identity types and `member_id`. */
export const LIST_KINDS = [...IDENTITY_TYPES, 'member_id'] as const
export type ListKind = (typeof LIST_KINDS)[number]
const isKind = (k: string): k is ListKind => (LIST_KINDS as readonly string[]).includes(k)

/** One identity of a line: a kind, or none (a bare value tried against every kind). */
export interface ListIdentity {
  readonly kind: ListKind | undefined
  readonly value: string
}

/** One record of the file. */
export interface ListLine {
  /** 1-based line number in the file. */
  readonly line: number
  /** The line as written (for listing unmatched lines). */
  readonly text: string
  readonly identities: readonly ListIdentity[]
  /** The values of the extra columns, by column name. */
  readonly extra: Readonly<Record<string, string>>
}

const cells = (line: string) =>
  line.split(',').map((c) => {
    const t = c.trim()
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t
  })

function readIdentity(text: string): ListIdentity {
  const typed = /^([a-z_]+):(.+)$/.exec(text)
  if (typed && isKind(typed[1] as string))
    return { kind: typed[1] as ListKind, value: (typed[2] as string).trim() }
  return { kind: undefined, value: text }
}

/**
 * Reads the lines of an identity list. With `extraColumns`, a header is required and must name them and at
 * least one kind (or a `member` column holding `kind:value` or bare values).
 */
export function parseIdentityList(
  text: string,
  file: string,
  extraColumns: readonly string[] = [],
): ListLine[] {
  const raw = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  const records = raw
    .map((t, i) => ({ line: i + 1, text: t }))
    .filter((r) => r.text.trim() !== '' && !r.text.trim().startsWith('#'))
  const first = records[0]
  if (first === undefined) throw InputError.single({ file, reason: 'the file has no identities' })
  const head = cells(first.text).map((c) => c.toLowerCase())
  const isHeader =
    head.every((c) => isKind(c) || c === 'member' || extraColumns.includes(c)) &&
    head.some((c) => isKind(c) || c === 'member')
  if (!isHeader) {
    if (extraColumns.length > 0)
      throw InputError.single({
        file,
        line: first.line,
        field: '(header)',
        value: first.text,
        reason: `the first line must name the columns: ${extraColumns.join(', ')} and member (kind:value) or one column per kind (${LIST_KINDS.join(', ')})`,
      })
    return records.map((r) => ({
      line: r.line,
      text: r.text,
      identities: [readIdentity(cells(r.text)[0] ?? '')],
      extra: {},
    }))
  }
  for (const c of extraColumns)
    if (!head.includes(c))
      throw InputError.single({
        file,
        line: first.line,
        field: c,
        reason: `no ${c} column in the header`,
      })
  return records.slice(1).map((r) => {
    const row = cells(r.text)
    const identities: ListIdentity[] = []
    const extra: Record<string, string> = {}
    head.forEach((col, i) => {
      const v = row[i] ?? ''
      if (extraColumns.includes(col)) extra[col] = v
      else if (v === '') return
      else if (col === 'member') identities.push(readIdentity(v))
      else identities.push({ kind: col as ListKind, value: v })
    })
    return { line: r.line, text: r.text, identities, extra }
  })
}

/** A line resolved: its member, or why it has none. */
export interface ResolvedLine extends ListLine {
  readonly memberId: number | null
  readonly reason: string | null
}

/** The lines of a list resolved to members. */
export interface ResolvedList {
  readonly lines: readonly ResolvedLine[]
  readonly matched: number
  readonly unmatched: number
  /** Distinct members matched, ascending. */
  readonly memberIds: readonly number[]
}

const SQL_TYPES = IDENTITY_TYPES.filter((t): t is Exclude<IdentityType, 'phone'> => t !== 'phone')

/** Resolves every line through `identities` (and `members` for member ids), 500 candidates per query. */
export async function resolveIdentityList(
  driver: Driver,
  lines: readonly ListLine[],
  ctx: IdentityContext = { defaultCountryCode: '86' },
): Promise<ResolvedList> {
  const readPhone = phoneReader(ctx.defaultCountryCode)
  // Candidates: (key = line index, kind, value); bare values become one candidate per kind.
  const candidates: Array<{ key: number; kind: ListKind; value: string; bare: boolean }> = []
  lines.forEach((l, key) => {
    for (const id of l.identities) {
      const kinds = id.kind === undefined ? LIST_KINDS : [id.kind]
      for (const kind of kinds) {
        let value = id.value
        if (kind === 'phone') {
          const p = readPhone(value)
          if (!p.ok) continue
          value = p.value
        }
        if (kind === 'member_id' && !/^\d{1,18}$/.test(value)) continue
        candidates.push({ key, kind, value, bare: id.kind === undefined })
      }
    }
  })
  const found = new Map<number, { byId: Set<number>; byIdentity: Set<number> }>()
  for (let i = 0; i < candidates.length; i += 500) {
    const chunk = candidates.slice(i, i + 500)
    const rel = valuesRelation(
      'x',
      ['k', 't', 'v'],
      chunk.map((c) => [c.key, c.kind, c.value]),
    )
    const arms: Fragment[] = [
      sql`SELECT x.k, x.t, m.member_id FROM ${rel} JOIN members m ON x.t = 'member_id'
        AND m.member_id = TRY_CAST(x.v AS BIGINT)`,
      sql`SELECT x.k, x.t, i.member_id FROM ${rel} JOIN identities i ON x.t = 'phone'
        AND i.identity_type = 'phone' AND i.identity_value = x.v`,
      ...SQL_TYPES.map((t) => {
        const norm = normalizeIdentity(t, sql`x.v`)
        return sql`SELECT x.k, x.t, i.member_id FROM ${rel} JOIN identities i ON x.t = ${t}
          AND i.identity_type = ${t} AND ${identityValid(t, norm)} AND i.identity_value = ${norm}`
      }),
    ]
    const rows = await driver.all<{ k: number; t: string; memberId: bigint }>(
      sql`SELECT DISTINCT k, t, member_id FROM (${join(arms, ' UNION ALL ')}) r`,
    )
    for (const r of rows) {
      const f = found.get(Number(r.k)) ?? { byId: new Set<number>(), byIdentity: new Set<number>() }
      ;(r.t === 'member_id' ? f.byId : f.byIdentity).add(Number(r.memberId))
      found.set(Number(r.k), f)
    }
  }
  const resolved = lines.map((l, key): ResolvedLine => {
    const f = found.get(key)
    const bareOnly = l.identities.length > 0 && l.identities.every((id) => id.kind === undefined)
    // A bare number that is a member id means that member, as in `members show`.
    const ids =
      f === undefined
        ? new Set<number>()
        : bareOnly && f.byId.size > 0
          ? f.byId
          : new Set([...f.byId, ...f.byIdentity])
    if (l.identities.length === 0)
      return { ...l, memberId: null, reason: 'no identity on the line' }
    if (ids.size === 0) return { ...l, memberId: null, reason: 'no member has this identity' }
    if (ids.size > 1)
      return {
        ...l,
        memberId: null,
        reason: `names ${ids.size} different members (${[...ids].sort((a, b) => a - b).join(', ')})`,
      }
    return { ...l, memberId: [...ids][0] as number, reason: null }
  })
  const matched = resolved.filter((r) => r.memberId !== null)
  return {
    lines: resolved,
    matched: matched.length,
    unmatched: resolved.length - matched.length,
    memberIds: [...new Set(matched.map((r) => r.memberId as number))].sort((a, b) => a - b),
  }
}
