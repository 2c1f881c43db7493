/**
 * Guards for placeholder and shared identifiers: values that many unrelated people carry (`null@null.com`, a
 * store's 400 hotline, a customer id of `0`) must not merge them into one member.
 *
 * A guarded identity is kept on the record but links nothing: a record that has other identities is resolved
 * through those, and the guarded one is written to `shared_identities` for the member it resolved to; a
 * record whose identities are all guarded is found through one of them (the first by type and value), which
 * can find a member but never join two. An identity is guarded when
 * - it is on the deny list: the built-in one ({@link BUILTIN_DENY_VALUES}, {@link BUILTIN_DENY_PATTERNS} and
 *   phone numbers of a service type, see `core/phone.ts`) and the user's values and patterns;
 * - it is shared by more than {@link IdentityGuardOptions.maxMembersPerIdentity} members: the members its
 *   records resolve to when it (and every other candidate) is set aside, plus the member already holding it;
 * - it was held back by an earlier load (it is in `shared_identities`).
 *
 * A further guard works during resolution itself: identity types a person has at most one of
 * ({@link IdentityGuardOptions.exclusiveTypes}) never end up twice in one member. A record that would join
 * two members holding different values of such a type (a family member's WeChat unionid beside a parent's
 * phone) joins neither through the shared identifier: the record stays with its own account, and the shared
 * identifier is written to `shared_identities` for both members ({@link recordSplit}), so later loads guard it.
 * @module
 */
import { InputError, QueryError } from '../../core/errors.js'
import { phoneReader } from '../../core/phone.js'
import { IDENTITY_TYPES, type IdentityType } from '../../core/schema.js'
import type { DuckDbDriver } from '../driver.js'
import { ident, join, sql, type Fragment } from '../../engine/sql/fragment.js'
import { normalizeIdentity } from '../identity.js'
import type { LinkEvidenceOptions } from './identity-evidence.js'
import { resolveIdentities } from './identity-resolution.js'
import { PHONE_MAP } from './phone-map.js'

/**
 * How placeholder and shared identifiers are kept from merging members. A plain object, so that flags, the
 * mapping file and a project configuration can all feed it.
 */
export interface IdentityGuardOptions extends LinkEvidenceOptions {
  /** Apply the built-in deny list (default true). */
  readonly builtinDenyList?: boolean
  /**
   * More identifiers never used to merge: `type:value` (e.g. `phone:4008123123`, `email:info@shop.cn`) or a
   * bare value for every identity type. Values are normalised as data is (`+86 400 812 3123` = `4008123123`).
   */
  readonly deny?: readonly string[]
  /**
   * Regular expressions (RE2 syntax, matched against the whole normalised value), optionally `type:`-prefixed
   * (e.g. `email:.*@example\.com`). Phones are matched in their stored form: E.164 digits without `+`.
   */
  readonly denyPatterns?: readonly string[]
  /**
   * An identifier shared by more than this many members is not used to merge them (default
   * {@link DEFAULT_MAX_MEMBERS_PER_IDENTITY}).
   */
  readonly maxMembersPerIdentity?: number
  /**
   * Identity types a person has at most one value of (default {@link DEFAULT_EXCLUSIVE_TYPES}): a link that
   * would give one member two values of such a type is refused. An empty list follows every link.
   */
  readonly exclusiveTypes?: readonly IdentityType[]
}

export const DEFAULT_MAX_MEMBERS_PER_IDENTITY = 5

/**
 * One per person by default: a WeChat unionid (one per WeChat user across the brand's official accounts and
 * mini programs) and an app account. Cards (replaced when lost), POS and customer ids (several systems, or
 * duplicate records in one) are often several per person, so they are not.
 */
export const DEFAULT_EXCLUSIVE_TYPES: readonly IdentityType[] = ['wechat_unionid', 'app_user_id']

/** The exclusive identity types of the options. */
export function exclusiveTypesOf(options: IdentityGuardOptions): readonly IdentityType[] {
  return options.exclusiveTypes ?? DEFAULT_EXCLUSIVE_TYPES
}

/** Placeholder addresses that forms and exports fill in when a person gave none. */
export const BUILTIN_DENY_VALUES: readonly string[] = [
  'null@null.com',
  'test@test.com',
  'none@none.com',
  'noemail@noemail.com',
  'nomail@nomail.com',
  'no@email.com',
  'email@email.com',
  'na@na.com',
  'xxx@xxx.com',
  'abc@abc.com',
  '123@123.com',
].map((v) => `email:${v}`)

const NO_VALUE_WORDS = '(?i)(0+|-1|-+|null|none|nil|n/?a|unknown|undefined|test)'

/** System senders, and words that stand for "no value" in id fields. */
export const BUILTIN_DENY_PATTERNS: readonly string[] = [
  'email:(?i)(no-?reply|do-?not-?reply)@.*',
  ...IDENTITY_TYPES.filter((t) => t !== 'phone' && t !== 'email').map(
    (t) => `${t}:${NO_VALUE_WORDS}`,
  ),
]

/** An identifier this load kept from merging members, for the load report. */
export interface HeldBackIdentity {
  readonly identityType: IdentityType
  readonly identityValue: string
  /** Members whose records in this file carried it. */
  readonly members: number
  readonly reason: string
}

/** `type:value` → its type and text; a bare value (no known type before the first `:`) → undefined type. */
function splitTyped(entry: string): { type?: IdentityType; text: string } {
  const i = entry.indexOf(':')
  const head = i < 0 ? '' : entry.slice(0, i).trim().toLowerCase()
  return (IDENTITY_TYPES as readonly string[]).includes(head)
    ? { type: head as IdentityType, text: entry.slice(i + 1) }
    : { text: entry }
}

/**
 * Turns `_ml_ids` and `_ml_memref` (every identity and member reference of the file) into the tables that
 * resolution links by: `_ml_ids` and `_ml_memref` again, with guarded identities left out as described in the
 * module comment; the full lists move to `_ml_ids_all` and `_ml_memref_all`.
 * `_ml_guard(identity_type, identity_value, reason)` lists the guarded identities of the file. Returns false,
 * leaving the tables untouched, when nothing is guarded.
 */
export async function applyIdentityGuards(
  driver: DuckDbDriver,
  options: IdentityGuardOptions,
  defaultCountryCode: string,
): Promise<boolean> {
  const max = options.maxMembersPerIdentity ?? DEFAULT_MAX_MEMBERS_PER_IDENTITY
  await buildDenied(driver, options, defaultCountryCode)
  const candidates = Number.isFinite(max) ? await findCandidates(driver, max) : 0
  const guarded = await driver.first(sql`SELECT 1 AS x FROM _ml_guard LIMIT 1`)
  // Nothing to guard (the usual case): the tables stay as they are.
  if (candidates === 0 && guarded === undefined) return false
  await driver.execute(sql`DROP TABLE IF EXISTS _ml_ids_all`)
  await driver.execute(sql`DROP TABLE IF EXISTS _ml_memref_all`)
  await driver.execute(sql`ALTER TABLE _ml_ids RENAME TO _ml_ids_all`)
  await driver.execute(sql`ALTER TABLE _ml_memref RENAME TO _ml_memref_all`)
  if (candidates > 0) await guardShared(driver, max, exclusiveTypesOf(options))
  await buildLinkTables(driver, '_ml_guard', '_ml_ids', '_ml_memref')
  return true
}

/** `_ml_guard` from the deny lists and the earlier loads' held-back identities. */
async function buildDenied(
  driver: DuckDbDriver,
  options: IdentityGuardOptions,
  defaultCountryCode: string,
): Promise<void> {
  const builtin = options.builtinDenyList ?? true
  const values = [...(builtin ? BUILTIN_DENY_VALUES : []), ...(options.deny ?? [])]
  const patterns = [...(builtin ? BUILTIN_DENY_PATTERNS : []), ...(options.denyPatterns ?? [])]
  await driver.execute(
    sql`CREATE OR REPLACE TEMP TABLE _ml_deny (identity_type VARCHAR, identity_value VARCHAR)`,
  )
  // The rules run on the file's distinct identities, not on its rows.
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_idvals AS
    SELECT DISTINCT identity_type, identity_value FROM _ml_ids`)
  const read = phoneReader(defaultCountryCode)
  const rows: Fragment[] = []
  for (const entry of values) {
    const { type, text } = splitTyped(entry)
    for (const t of type === undefined ? IDENTITY_TYPES : [type]) {
      if (t === 'phone') {
        const p = read(text)
        if (p.ok) rows.push(sql`(${t}, ${p.value})`)
        else if (type === 'phone') {
          throw InputError.single({ field: 'deny', value: entry, reason: p.reason })
        }
      } else {
        rows.push(sql`(${t}, ${normalizeIdentity(t, sql`${text}::VARCHAR`)})`)
      }
    }
  }
  if (rows.length > 0) await driver.execute(sql`INSERT INTO _ml_deny VALUES ${join(rows)}`)
  const patternArms: Fragment[] = []
  for (const entry of patterns) {
    const { type, text } = splitTyped(entry)
    await checkPattern(driver, entry, text)
    const match = sql`regexp_full_match(i.identity_value, ${text})`
    patternArms.push(
      sql`SELECT i.identity_type, i.identity_value, ${`deny pattern ${entry}`} AS reason FROM _ml_idvals i
        WHERE ${type === undefined ? sql`` : sql`i.identity_type = ${type} AND `}${match}`,
    )
  }
  const phones =
    builtin && (await hasTable(driver, PHONE_MAP))
      ? [
          sql`SELECT i.identity_type, i.identity_value, 'deny list: ' || p.not_personal
          FROM _ml_idvals i JOIN ${ident(PHONE_MAP)} p ON i.identity_type = 'phone' AND p.phone = i.identity_value
          WHERE p.not_personal IS NOT NULL`,
        ]
      : []
  const parts: Fragment[] = [
    sql`SELECT i.identity_type, i.identity_value, 'deny list' AS reason
      FROM _ml_idvals i JOIN _ml_deny d USING (identity_type, identity_value)`,
    ...patternArms,
    ...phones,
    sql`SELECT i.identity_type, i.identity_value, first(s.reason ORDER BY s.load_id, s.member_id)
      FROM _ml_idvals i JOIN shared_identities s USING (identity_type, identity_value) GROUP BY ALL`,
  ]
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_guard AS
    SELECT identity_type, identity_value, first(reason ORDER BY reason) AS reason
    FROM (${join(parts, ' UNION ALL ')}) GROUP BY identity_type, identity_value`)
}

async function checkPattern(driver: DuckDbDriver, entry: string, pattern: string): Promise<void> {
  try {
    await driver.execute(sql`SELECT regexp_full_match('', ${pattern})`)
  } catch (error) {
    const detail =
      error instanceof QueryError && error.cause instanceof Error ? error.cause.message : ''
    throw InputError.single({
      field: 'deny-pattern',
      value: entry,
      reason: `not a regular expression (RE2 syntax)${detail === '' ? '' : `: ${detail}`}`,
    })
  }
}

async function hasTable(driver: DuckDbDriver, name: string): Promise<boolean> {
  const r = await driver.first(
    sql`SELECT 1 AS x FROM duckdb_tables() WHERE database_name = 'temp' AND table_name = ${name}`,
  )
  return r !== undefined
}

/**
 * `_ml_cand`: identities that occur beside more than `max` distinct other links (counting the member already
 * holding one): only these can be shared by more than `max` members. Returns how many there are.
 */
async function findCandidates(driver: DuckDbDriver, max: number): Promise<number> {
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_cand AS
    WITH links AS (
      SELECT _line, identity_type || ':' || identity_value AS k FROM _ml_ids WHERE _nids > 1
      UNION ALL SELECT _line, 'member:' || member_id FROM _ml_memref WHERE _nids > 1
    ), busy AS (
      -- A cheap bound first: the other links on an identity's lines, plus one for a holder.
      SELECT identity_type, identity_value FROM _ml_ids WHERE _nids > 1
      GROUP BY identity_type, identity_value HAVING sum(_nids - 1) + 1 > ${max}
    ), free AS (
      SELECT DISTINCT i.identity_type, i.identity_value, i._line
      FROM _ml_ids i SEMI JOIN busy b ON b.identity_type = i.identity_type AND b.identity_value = i.identity_value
      LEFT JOIN _ml_guard g ON g.identity_type = i.identity_type AND g.identity_value = i.identity_value
      WHERE i._nids > 1 AND g.identity_value IS NULL
    )
    SELECT f.identity_type, f.identity_value
    FROM free f JOIN links l ON l._line = f._line AND l.k <> f.identity_type || ':' || f.identity_value
    GROUP BY f.identity_type, f.identity_value
    HAVING count(DISTINCT l.k) + (SELECT count(*) FROM identities e
      WHERE e.identity_type = f.identity_type AND e.identity_value = f.identity_value) > ${max}`)
  const n = await driver.first<{ n: bigint }>(sql`SELECT count(*) AS n FROM _ml_cand`)
  return Number(n?.n ?? 0)
}

/**
 * Adds to `_ml_guard` the candidates shared by more than `max` members, counted by resolving the file once
 * with every candidate set aside.
 */
async function guardShared(
  driver: DuckDbDriver,
  max: number,
  exclusive: readonly IdentityType[],
): Promise<void> {
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_guard_p1 AS
    SELECT identity_type, identity_value, reason FROM _ml_guard
    UNION ALL SELECT identity_type, identity_value, NULL FROM _ml_cand`)
  await buildLinkTables(driver, '_ml_guard_p1', '_ml_ids_p1', '_ml_memref_p1')
  await resolveIdentities(driver, {
    idsTable: '_ml_ids_p1',
    memberRefsTable: '_ml_memref_p1',
    exclusiveTypes: exclusive,
  })
  // The members each candidate's records resolve to without it, and the member already holding it.
  await driver.execute(sql`INSERT INTO _ml_guard
    SELECT identity_type, identity_value,
      'shared by ' || count(DISTINCT member_id) || ' members (more than ' || ${max} || ')'
    FROM (
      SELECT c.identity_type, c.identity_value, r.member_id
      FROM _ml_cand c JOIN _ml_ids_all i USING (identity_type, identity_value) JOIN _ml_resolved r USING (_line)
      UNION ALL
      SELECT c.identity_type, c.identity_value, coalesce(m.into_member_id, e.member_id)
      FROM _ml_cand c JOIN identities e USING (identity_type, identity_value)
      LEFT JOIN _ml_merges m ON m.from_member_id = e.member_id
    )
    GROUP BY identity_type, identity_value HAVING count(DISTINCT member_id) > ${max}`)
}

/**
 * The link tables: every unguarded identity and member reference; a record whose links are all guarded keeps
 * its first guarded identity (by type and value), so that it still finds a member. `_nids` counts what is left.
 */
async function buildLinkTables(
  driver: DuckDbDriver,
  guard: string,
  idsOut: string,
  refsOut: string,
): Promise<void> {
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE ${ident(idsOut)} AS
    WITH g AS (
      SELECT i._line, i.identity_type, i.identity_value, i._ts, i._ch, x.identity_value IS NOT NULL AS guarded
      FROM _ml_ids_all i
      LEFT JOIN ${ident(guard)} x ON x.identity_type = i.identity_type AND x.identity_value = i.identity_value
    ), open_lines AS (
      SELECT _line FROM g WHERE NOT guarded UNION SELECT _line FROM _ml_memref_all
    ), kept AS (
      SELECT _line, identity_type, identity_value, _ts, _ch FROM g WHERE NOT guarded
      UNION ALL
      SELECT _line, identity_type, identity_value, _ts, _ch FROM (
        SELECT *, row_number() OVER (PARTITION BY _line ORDER BY identity_type, identity_value) AS rn
        FROM g WHERE guarded AND _line NOT IN (SELECT _line FROM open_lines)
      ) WHERE rn = 1
    ), refs AS (SELECT _line, count(*) AS n FROM _ml_memref_all GROUP BY _line)
    SELECT k._line, k.identity_type, k.identity_value,
      (count(*) OVER (PARTITION BY k._line) + coalesce(r.n, 0))::INTEGER AS _nids, k._ts, k._ch
    FROM kept k LEFT JOIN refs r USING (_line)`)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE ${ident(refsOut)} AS
    SELECT m._line, m.member_id, (coalesce(i.n, 0) + count(*) OVER (PARTITION BY m._line))::INTEGER AS _nids
    FROM _ml_memref_all m
    LEFT JOIN (SELECT _line, count(*) AS n FROM ${ident(idsOut)} GROUP BY _line) i USING (_line)`)
}

/**
 * Writes the identities this load held back to `shared_identities`, one row per identity and member (rows
 * already there stay as they are), and returns them for the report. Runs after merges, on `_ml_resolved`.
 */
export async function recordHeldBack(
  driver: DuckDbDriver,
  file: string,
  maxListed: number,
): Promise<{ count: number; listed: HeldBackIdentity[] }> {
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_held AS
    SELECT a.identity_type, a.identity_value, r.member_id, g.reason, min(a._line) AS line
    FROM _ml_ids_all a
    JOIN _ml_guard g USING (identity_type, identity_value)
    JOIN _ml_resolved r USING (_line)
    WHERE NOT EXISTS (SELECT 1 FROM _ml_ids k WHERE k._line = a._line
      AND k.identity_type = a.identity_type AND k.identity_value = a.identity_value)
    GROUP BY ALL`)
  await driver.execute(sql`INSERT INTO shared_identities
    SELECT h.identity_type, h.identity_value, h.member_id, h.reason,
      (SELECT coalesce(max(load_id), 0) + 1 FROM loads), ${file}, h.line
    FROM _ml_held h
    WHERE NOT EXISTS (SELECT 1 FROM shared_identities s WHERE s.identity_type = h.identity_type
      AND s.identity_value = h.identity_value AND s.member_id = h.member_id)`)
  const count = await driver.first<{ n: bigint }>(
    sql`SELECT count(DISTINCT (identity_type, identity_value)) AS n FROM _ml_held`,
  )
  // Members counted over every record carrying the identity, including one found through it.
  const rows = await driver.all<{
    identityType: IdentityType
    identityValue: string
    members: bigint
    reason: string
  }>(sql`SELECT h.identity_type, h.identity_value, count(DISTINCT r.member_id) AS members, first(h.reason) AS reason
    FROM (SELECT DISTINCT identity_type, identity_value, reason FROM _ml_held) h
    JOIN _ml_ids_all a USING (identity_type, identity_value) JOIN _ml_resolved r USING (_line)
    GROUP BY h.identity_type, h.identity_value
    ORDER BY members DESC, h.identity_type, h.identity_value LIMIT ${maxListed}`)
  return {
    count: Number(count?.n ?? 0),
    listed: rows.map((r) => ({ ...r, members: Number(r.members) })),
  }
}

/**
 * Writes the identifiers of records whose links were refused (`_ml_split`, see {@link IdentityGuardOptions.exclusiveTypes})
 * to `shared_identities`, one row for the member the record resolved to and one for the member holding the
 * identifier, and returns them for the report. Runs after merges, on `_ml_split`, whose member ids are final.
 */
export async function recordSplit(
  driver: DuckDbDriver,
  file: string,
  maxListed: number,
): Promise<{ count: number; listed: HeldBackIdentity[] }> {
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_splitheld AS
    SELECT identity_type, identity_value, member_id,
      reason, min(_line) AS line
    FROM (SELECT identity_type, identity_value, member_id, reason, _line FROM _ml_split
          UNION ALL SELECT identity_type, identity_value, owner_id, reason, _line FROM _ml_split)
    GROUP BY ALL`)
  await driver.execute(sql`INSERT INTO shared_identities
    SELECT h.identity_type, h.identity_value, h.member_id, first(h.reason ORDER BY h.line),
      (SELECT coalesce(max(load_id), 0) + 1 FROM loads), ${file}, min(h.line)
    FROM _ml_splitheld h
    WHERE NOT EXISTS (SELECT 1 FROM shared_identities s WHERE s.identity_type = h.identity_type
      AND s.identity_value = h.identity_value AND s.member_id = h.member_id)
    GROUP BY h.identity_type, h.identity_value, h.member_id`)
  const rows = await driver.all<{
    identityType: IdentityType
    identityValue: string
    members: bigint
    reason: string
  }>(sql`SELECT identity_type, identity_value, count(DISTINCT member_id) AS members,
      first(reason ORDER BY line) AS reason
    FROM _ml_splitheld GROUP BY identity_type, identity_value
    ORDER BY members DESC, identity_type, identity_value`)
  return {
    count: rows.length,
    listed: rows.slice(0, maxListed).map((r) => ({ ...r, members: Number(r.members) })),
  }
}
