/**
 * Source identities as columns of a per-member export, so that a file keyed by the internal `member_id`
 * can be joined back to the system the members came from (`--ids phone,customer_id`).
 *
 * The identity of one type carried for a member is the one seen first (ties by value) and phones are
 * written in E.164 with `+` — the rule of `segments export` and `risk export` ({@link pickIdentity}), so
 * every export names a member the same way.
 * @module
 */
import { IDENTITY_TYPES, type IdentityType } from '../../core/schema.js'
import { InputError } from '../../core/errors.js'
import type { Driver } from '../drivers/driver.js'
import { ident, join, sql, type Fragment } from '../sql/fragment.js'
import { pickIdentity } from './segment-export.js'

/** At most this many member ids are sent as a list; a longer list reads the identities of every member. */
const ID_LIST_LIMIT = 5000

/**
 * Parses an `--ids` value: identity types separated by commas (`phone,customer_id`), each once, in the
 * order given. Throws InputError naming the flag, the bad value and the accepted types.
 */
export function parseIdentityList(value: string, flag = '--ids'): IdentityType[] {
  const out: IdentityType[] = []
  for (const part of value.split(',')) {
    const type = part.trim()
    if (!(IDENTITY_TYPES as readonly string[]).includes(type)) {
      throw InputError.single({
        field: flag,
        value: type === '' ? value : type,
        reason: `not an identity type; one or more of ${IDENTITY_TYPES.join(', ')}, separated by commas`,
      })
    }
    if (out.includes(type as IdentityType)) {
      throw InputError.single({ field: flag, value: type, reason: 'listed twice' })
    }
    out.push(type as IdentityType)
  }
  return out
}

/** The identities of the requested types of one member (null where the member has none of a type). */
export type IdentityColumns = Readonly<Partial<Record<IdentityType, string | null>>>

/**
 * Each listed member's first-seen identity of every requested type, keyed by member id (as a number).
 * Members with no identity of any requested type are absent from the map; read them as all null.
 */
export async function memberIdentityColumns(
  driver: Driver,
  memberIds: readonly (number | bigint)[],
  types: readonly IdentityType[],
): Promise<Map<number, IdentityColumns>> {
  const out = new Map<number, IdentityColumns>()
  if (types.length === 0 || memberIds.length === 0) return out
  const wanted = new Set(memberIds.map(Number))
  const filter: Fragment =
    memberIds.length <= ID_LIST_LIMIT
      ? sql`AND member_id IN (${join(memberIds.map((id) => sql`${BigInt(id)}`))})`
      : sql``
  const picks = join(types.map((t, k) => sql`${pickIdentity(sql`i`, t)} AS ${ident(`c${k}`)}`))
  const rows = await driver.all<Record<string, unknown>>(
    sql`WITH i AS (
        SELECT member_id, identity_type, identity_value,
          row_number() OVER (PARTITION BY member_id, identity_type
            ORDER BY first_seen_at NULLS LAST, identity_value) AS rn
        FROM identities
        WHERE identity_type IN (${join(types.map((t) => sql`${t}`))}) ${filter}
      )
      SELECT i.member_id AS member_id, ${picks} FROM i GROUP BY i.member_id`,
  )
  for (const r of rows) {
    const id = Number(r['memberId'])
    if (!wanted.has(id)) continue
    const cols: Partial<Record<IdentityType, string | null>> = {}
    types.forEach((t, k) => {
      const v = r[`c${k}`]
      cols[t] = v === null || v === undefined ? null : String(v)
    })
    out.set(id, cols)
  }
  return out
}

/** The values of `types` for one member from {@link memberIdentityColumns}, null where absent. */
export function identityValues(
  identities: ReadonlyMap<number, IdentityColumns>,
  memberId: number | bigint,
  types: readonly IdentityType[],
): Array<string | null> {
  const cols = identities.get(Number(memberId))
  return types.map((t) => cols?.[t] ?? null)
}

/**
 * The columns of an export that already carries every identity type, with its identity columns narrowed
 * to `ids` (in that order, where the first identity column stood); every column when `ids` is undefined.
 */
export function narrowIdentityColumns<C extends string>(
  columns: readonly C[],
  ids: readonly IdentityType[] | undefined,
): C[] {
  if (ids === undefined) return [...columns]
  const isIdentity = (c: string) => (IDENTITY_TYPES as readonly string[]).includes(c)
  const first = columns.findIndex(isIdentity)
  const rest = columns.filter((c) => !isIdentity(c))
  if (first < 0) return rest
  const kept = ids.filter((t) => (columns as readonly string[]).includes(t)) as unknown as C[]
  return [...rest.slice(0, first), ...kept, ...rest.slice(first)]
}
