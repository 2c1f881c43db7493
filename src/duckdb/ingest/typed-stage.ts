/**
 * From the text staging table to the typed one, and the checks on it.
 *
 * Every source value is parsed exactly once, in one projection, into `_ml_typed`: parsed canonical fields
 * (no defaults yet), flags saying which text was present (`_has_<field>`), normalised identities (`_id_<type>`)
 * and the member reference. The checks then run as cheap predicates on that table in a single scan; only when
 * something fails does a second query fetch the first problems with their text from the staging table.
 * @module
 */
import { InputError, type InputIssue } from '../../core/errors.js'
import {
  IDENTITY_TYPES,
  sourceFields,
  type IdentityType,
  type TableDef,
} from '../../core/schema.js'
import type { DuckDbDriver } from '../driver.js'
import {
  ident,
  join,
  sourceColumn,
  sql,
  unsafeRaw,
  type Fragment,
} from '../../engine/sql/fragment.js'
import {
  IDENTITY_REASON,
  identityValid,
  normalizeIdentity,
  type SqlIdentityType,
} from '../identity.js'
import { blankToNull, parseField, typeReason, type ParseContext } from './fields.js'
import { PHONE_MAP, buildPhoneMap } from './phone-map.js'
import type { StagedSource } from './source.js'

export const TYPED = '_ml_typed'

/** Which source column feeds which canonical field. */
export interface ColumnPlan {
  /** canonical field → source column */
  readonly fields: ReadonlyMap<string, string>
  /** identity type → source column */
  readonly identities: ReadonlyArray<readonly [IdentityType, string]>
  readonly identityPair?: readonly [string, string]
  readonly memberRef?: string
  /** True when order_items has no line_no column: it is derived from the line order within each order. */
  readonly deriveLineNo: boolean
}

export interface PlanOptions {
  readonly columns?: Readonly<Record<string, string>>
  readonly ignore?: readonly string[]
}

/** Matches the file's columns to canonical fields; throws naming every column that does not fit. */
export function planColumns(
  table: TableDef,
  staged: StagedSource,
  file: string,
  options: PlanOptions,
): ColumnPlan {
  const allowed = new Set(sourceFields(table))
  const mapping = options.columns ?? {}
  const issues: InputIssue[] = []
  for (const [canonical, source] of Object.entries(mapping)) {
    if (!allowed.has(canonical)) {
      issues.push({
        file,
        field: canonical,
        reason: `not a field of ${table.name} (fields: ${[...allowed].join(', ')})`,
      })
    } else if (!staged.columns.includes(source)) {
      issues.push({
        file,
        line: 1,
        field: canonical,
        value: source,
        reason: 'mapped column is not in the file',
      })
    }
  }
  const bySource = new Map<string, string>()
  for (const [canonical, source] of Object.entries(mapping)) bySource.set(source, canonical)
  const ignore = new Set(options.ignore ?? [])
  const fields = new Map<string, string>()
  for (const col of staged.columns) {
    if (ignore.has(col)) continue
    const lower = col.trim().toLowerCase()
    const canonical =
      bySource.get(col) ?? (allowed.has(col) ? col : allowed.has(lower) ? lower : undefined)
    if (canonical === undefined) {
      issues.push({
        file,
        line: 1,
        field: col,
        reason: `unknown column for ${table.name}: map it (--map field=${col}) or leave it out (--ignore ${col})`,
      })
    } else if (fields.has(canonical)) {
      issues.push({
        file,
        line: 1,
        field: col,
        reason: `column maps to ${canonical}, which another column already feeds`,
      })
    } else {
      fields.set(canonical, col)
    }
  }
  for (const f of table.fields) {
    if (!f.required || f.derived || f.default !== undefined || fields.has(f.name)) continue
    if (f.name === 'line_no' && table.name === 'order_items') continue
    issues.push({
      file,
      line: 1,
      field: f.name,
      reason: `required column is missing (columns in the file: ${staged.columns.join(', ')})`,
    })
  }
  const identities = IDENTITY_TYPES.filter((t) => fields.has(t)).map(
    (t) => [t, fields.get(t) as string] as const,
  )
  const pairType = fields.get('identity_type')
  const pairValue = fields.get('identity_value')
  if ((pairType === undefined) !== (pairValue === undefined)) {
    issues.push({
      file,
      line: 1,
      field: pairType === undefined ? 'identity_type' : 'identity_value',
      reason: 'identity_type and identity_value come together',
    })
  }
  const memberRef = fields.get('member_id')
  const needsIdentity = table.memberLink === 'owner' || table.memberLink === 'reference'
  if (
    needsIdentity &&
    identities.length === 0 &&
    pairType === undefined &&
    memberRef === undefined
  ) {
    issues.push({
      file,
      line: 1,
      reason: `no identity column: ${table.name} needs member_id or one of ${IDENTITY_TYPES.join(', ')} (or identity_type + identity_value)`,
    })
  }
  if (issues.length > 0)
    throw new InputError(`${file}: the columns do not fit ${table.name}`, issues)
  return {
    fields,
    identities,
    ...(pairType !== undefined && pairValue !== undefined
      ? { identityPair: [pairType, pairValue] as const }
      : {}),
    ...(memberRef === undefined ? {} : { memberRef }),
    deriveLineNo: table.name === 'order_items' && !fields.has('line_no'),
  }
}

const s = (name: string): Fragment => sql`s.${sourceColumn(name)}`
const t = (name: string): Fragment => sql`t.${ident(name)}`
const IDENTITY_LIST = unsafeRaw(IDENTITY_TYPES.map((x) => `'${x}'`).join(', '))

/** Builds `_ml_typed` from `_ml_stage`, parsing every value once. */
export async function buildTyped(
  driver: DuckDbDriver,
  table: TableDef,
  plan: ColumnPlan,
  ctx: ParseContext,
): Promise<void> {
  const selects: Fragment[] = [sql`s._line`]
  for (const f of table.fields) {
    const source = plan.fields.get(f.name)
    if (f.derived || source === undefined) continue
    selects.push(sql`${parseField(f, s(source), ctx)} AS ${ident(f.name)}`)
    if (f.type.kind !== 'string')
      selects.push(sql`${blankToNull(s(source))} IS NOT NULL AS ${ident(`_has_${f.name}`)}`)
    if (f.type.kind === 'money') {
      // The cast rounds a 5th decimal away; flag it instead of losing money silently.
      selects.push(
        sql`length(rtrim(split_part(${blankToNull(s(source))}, '.', 2), '0')) > 4 AS ${ident(`_xdec_${f.name}`)}`,
      )
    }
  }
  // Phones: each distinct text is read once by the numbering-plan library, then joined (ph = the phone
  // column, pp = the value of an identity_type/identity_value pair whose type is phone).
  const phoneSources: Fragment[] = []
  const joins: Fragment[] = []
  const pairType = plan.identityPair
    ? sql`lower(${blankToNull(s(plan.identityPair[0]))})`
    : sql`NULL`
  for (const [type, source] of plan.identities) {
    if (type === 'phone') {
      phoneSources.push(s(source))
      joins.push(sql` LEFT JOIN ${ident(PHONE_MAP)} ph ON ph.raw = ${blankToNull(s(source))}`)
      selects.push(sql`ph.phone AS _id_phone`, sql`ph.reason AS _bad_phone`)
    } else {
      selects.push(sql`${normalizeIdentity(type, s(source))} AS ${ident(`_id_${type}`)}`)
    }
  }
  if (plan.identityPair) {
    const [, pv] = plan.identityPair
    phoneSources.push(sql`CASE WHEN ${pairType} = 'phone' THEN ${s(pv)} END`)
    joins.push(
      sql` LEFT JOIN ${ident(PHONE_MAP)} pp ON ${pairType} = 'phone' AND pp.raw = ${blankToNull(s(pv))}`,
    )
    const arms = IDENTITY_TYPES.map((it) =>
      it === 'phone'
        ? sql`WHEN ${pairType} = 'phone' THEN pp.phone`
        : sql`WHEN ${pairType} = ${it} THEN ${normalizeIdentity(it, s(pv))}`,
    )
    selects.push(sql`${pairType} AS _pair_type`, sql`(CASE ${join(arms, ' ')} END) AS _pair_value`)
    selects.push(sql`${blankToNull(s(pv))} IS NOT NULL AS _has_pair`, sql`pp.reason AS _pair_bad`)
  }
  if (phoneSources.length > 0) await buildPhoneMap(driver, phoneSources, ctx.defaultCountryCode)
  // How many identities (and member references) each record carries: records with one link nothing.
  const idCounts: Fragment[] = plan.identities.map(
    ([, source]) => sql`(${blankToNull(s(source))} IS NOT NULL)::INTEGER`,
  )
  if (plan.identityPair)
    idCounts.push(sql`(${blankToNull(s(plan.identityPair[1]))} IS NOT NULL)::INTEGER`)
  if (plan.memberRef !== undefined)
    idCounts.push(sql`(${blankToNull(s(plan.memberRef))} IS NOT NULL)::INTEGER`)
  selects.push(idCounts.length === 0 ? sql`0 AS _nids` : sql`(${join(idCounts, ' + ')}) AS _nids`)
  if (plan.memberRef !== undefined) {
    selects.push(sql`TRY_CAST(${blankToNull(s(plan.memberRef))} AS BIGINT) AS _member_ref`)
    selects.push(sql`${blankToNull(s(plan.memberRef))} IS NOT NULL AS _has_member_ref`)
  } else {
    selects.push(sql`NULL::BIGINT AS _member_ref`)
  }
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE ${ident(TYPED)} AS
    SELECT ${join(selects)} FROM _ml_stage s${join(joins, '')}`)
  if (plan.deriveLineNo) {
    await driver.execute(sql`CREATE OR REPLACE TEMP TABLE ${ident(TYPED)} AS
      SELECT *, row_number() OVER (PARTITION BY order_id ORDER BY _line)::INTEGER AS line_no FROM ${ident(TYPED)}`)
  }
}

/** One rule on the typed table: `failing` is true on rows that break it; `source` names the text shown. */
interface Check {
  readonly field: string
  readonly source?: string
  readonly failing: Fragment
  /** The reason shown: fixed text, or an expression over the typed row `t` when it depends on the value. */
  readonly reason: string | Fragment
}

function buildChecks(table: TableDef, plan: ColumnPlan, ctx: ParseContext): Check[] {
  const checks: Check[] = []
  for (const f of table.fields) {
    const source = plan.fields.get(f.name)
    if (f.derived || source === undefined) continue
    const add = (failing: Fragment, reason: string) =>
      checks.push({ field: f.name, source, failing, reason })
    const has = f.type.kind === 'string' ? sql`${t(f.name)} IS NOT NULL` : t(`_has_${f.name}`)
    if (f.required && f.default === undefined) add(sql`NOT (${has})`, 'required value is missing')
    if (f.type.kind !== 'string') add(sql`${has} AND ${t(f.name)} IS NULL`, typeReason(f, ctx))
    if (f.type.kind === 'money') add(t(`_xdec_${f.name}`), 'has more than 4 decimals')
    if (f.nonNegative) add(sql`${t(f.name)} < 0`, 'must not be negative')
    if (f.range) {
      const [lo, hi] = f.range
      add(sql`${t(f.name)} < ${lo} OR ${t(f.name)} > ${hi}`, `must be between ${lo} and ${hi}`)
    }
  }
  for (const [type, source] of plan.identities) {
    if (type === 'phone') {
      checks.push({
        field: type,
        source,
        failing: sql`t._bad_phone IS NOT NULL`,
        reason: sql`t._bad_phone`,
      })
      continue
    }
    const id = t(`_id_${type}`)
    checks.push({
      field: type,
      source,
      failing: sql`${id} IS NOT NULL AND NOT ${identityValid(type, id)}`,
      reason: IDENTITY_REASON[type],
    })
  }
  if (plan.identityPair) {
    const [pt, pv] = plan.identityPair
    checks.push({
      field: 'identity_type',
      source: pt,
      failing: sql`t._has_pair AND (t._pair_type IS NULL OR t._pair_type NOT IN (${IDENTITY_LIST}))`,
      reason: `unknown identity type (one of ${IDENTITY_TYPES.join(', ')})`,
    })
    const arms = IDENTITY_TYPES.filter((it): it is SqlIdentityType => it !== 'phone').map(
      (it) => sql`WHEN t._pair_type = ${it} THEN ${identityValid(it, sql`t._pair_value`)}`,
    )
    checks.push({
      field: 'identity_value',
      source: pv,
      failing: sql`t._pair_bad IS NOT NULL OR (t._pair_value IS NOT NULL AND NOT coalesce(CASE ${join(arms, ' ')} END, true))`,
      reason: sql`coalesce(t._pair_bad, 'not a valid value for its identity type')`,
    })
  }
  if (plan.memberRef !== undefined) {
    const source = plan.memberRef
    checks.push({
      field: 'member_id',
      source,
      failing: sql`t._has_member_ref AND t._member_ref IS NULL`,
      reason: 'not a member id (an integer)',
    })
    checks.push({
      field: 'member_id',
      source,
      failing: sql`t._member_ref IS NOT NULL AND NOT EXISTS (SELECT 1 FROM members m WHERE m.member_id = t._member_ref)`,
      reason: 'unknown member_id',
    })
  }
  // A phone that is not a number is reported as such, not as a missing identity.
  const idColumns: Fragment[] = plan.identities.map(([type]) =>
    type === 'phone' ? sql`coalesce(t._id_phone, t._bad_phone)` : t(`_id_${type}`),
  )
  if (plan.identityPair) idColumns.push(sql`coalesce(t._pair_value, t._pair_bad)`)
  if (plan.memberRef !== undefined) idColumns.push(sql`t._member_ref::VARCHAR`)
  const needsIdentity = table.memberLink === 'owner' || table.memberLink === 'reference'
  const hasOrder = plan.fields.has('order_id')
  if (needsIdentity || table.name === 'returns') {
    // Returns that name their order take its member; the others need an identity.
    const guard = table.name === 'returns' && hasOrder ? sql`t.order_id IS NULL AND ` : sql``
    const present = idColumns.length === 0 ? sql`NULL` : sql`coalesce(${join(idColumns)})`
    checks.push({
      field: 'identity',
      failing: sql`${guard}${present} IS NULL`,
      reason:
        table.name === 'returns'
          ? `no order_id and no identity: a return names its order or one of ${IDENTITY_TYPES.join(', ')}`
          : `no identity: one of member_id, ${IDENTITY_TYPES.join(', ')} is required`,
    })
  }
  if (table.memberLink === 'via-order' && hasOrder) {
    checks.push({
      field: 'order_id',
      source: plan.fields.get('order_id') as string,
      failing: sql`t.order_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = t.order_id)`,
      reason: 'unknown order_id (load the orders first)',
    })
  }
  if (table.name === 'coupons') checks.push(...couponChecks(plan))
  return checks
}

/**
 * A coupon's dates are in order (issued ≤ redeemed, issued ≤ expires) and a redemption names an order that
 * is loaded; an order without a redemption time is refused rather than guessed.
 */
function couponChecks(plan: ColumnPlan): Check[] {
  const checks: Check[] = []
  const has = (f: string): boolean => plan.fields.has(f)
  const src = (f: string): string => plan.fields.get(f) as string
  if (has('order_id')) {
    checks.push({
      field: 'order_id',
      source: src('order_id'),
      failing: sql`t.order_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = t.order_id)`,
      reason: 'unknown order_id (load the orders first)',
    })
    checks.push({
      field: 'redeemed_at',
      ...(has('redeemed_at') ? { source: src('redeemed_at') } : {}),
      failing: has('redeemed_at')
        ? sql`t.order_id IS NOT NULL AND t.redeemed_at IS NULL`
        : sql`t.order_id IS NOT NULL`,
      reason: 'a coupon used on an order (order_id) needs the time it was redeemed',
    })
  }
  if (has('redeemed_at'))
    checks.push({
      field: 'redeemed_at',
      source: src('redeemed_at'),
      failing: sql`t.redeemed_at < t.issued_at`,
      reason: 'redeemed before it was issued (issued_at)',
    })
  if (has('expires_at'))
    checks.push({
      field: 'expires_at',
      source: src('expires_at'),
      failing: sql`t.expires_at < t.issued_at`,
      reason: 'expires before it was issued (issued_at)',
    })
  return checks
}

/** Runs every check in one scan of `_ml_typed`; throws an {@link InputError} listing the first problems. */
export async function validateTyped(
  driver: DuckDbDriver,
  table: TableDef,
  plan: ColumnPlan,
  ctx: ParseContext,
  file: string,
  maxIssues: number,
): Promise<void> {
  const checks = buildChecks(table, plan, ctx)
  const keyCols = table.key.filter(
    (k) => k !== 'member_id' && (plan.fields.has(k) || (k === 'line_no' && plan.deriveLineNo)),
  )
  const keyCheck = keyCols.length === table.key.length && keyCols.length > 0
  const keys = keyCols.map((k) => t(k))
  const keyed = keyCheck
    ? sql`(SELECT _line, concat_ws(', ', ${join(keys)}) AS value, min(_line) OVER (PARTITION BY ${join(keys)}) AS first_line
      FROM ${ident(TYPED)} t WHERE ${join(
        keys.map((k) => sql`${k} IS NOT NULL`),
        ' AND ',
      )})`
    : undefined
  const counts = checks.map(
    (c, i) => sql`count(*) FILTER (WHERE ${c.failing}) AS ${ident(`c${i}`)}`,
  )
  // Duplicates are counted with a hash aggregate (cheap); the window that names first lines runs only on failure.
  const dupCount0 = keyCheck
    ? sql`(SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM ${ident(TYPED)} t
        WHERE ${join(
          keys.map((k) => sql`${k} IS NOT NULL`),
          ' AND ',
        )} GROUP BY ${join(keys)} HAVING count(*) > 1))`
    : sql`0`
  const row = await driver.first<
    Record<string, bigint>
  >(sql`SELECT ${join([...counts, sql`0 AS _none`])},
    ${dupCount0} AS dup
    FROM ${ident(TYPED)} t`)
  const failing = checks.filter((_, i) => Number(row?.[`c${i}`] ?? 0) > 0)
  const dupCount = Number(row?.['dup'] ?? 0)
  const total = checks.reduce((sum, _, i) => sum + Number(row?.[`c${i}`] ?? 0), 0) + dupCount
  if (total === 0) return
  const parts: Fragment[] = failing.map(
    (
      c,
    ) => sql`SELECT t._line, ${c.field} AS field, ${c.source === undefined ? sql`NULL` : sql`s.${sourceColumn(c.source)}`}::VARCHAR AS value, ${c.reason}::VARCHAR AS reason
      FROM ${ident(TYPED)} t JOIN _ml_stage s ON s._line = t._line WHERE ${c.failing}`,
  )
  if (keyed && dupCount > 0) {
    const keyName = keyCols.join(', ')
    parts.push(sql`SELECT _line, ${keyName} AS field, value, 'duplicate key ' || ${keyName} || ' (first on line ' || first_line || ')' AS reason
      FROM ${keyed} WHERE _line <> first_line`)
  }
  const rows = await driver.all<{
    line: bigint
    field: string
    value: string | null
    reason: string
  }>(
    sql`SELECT _line AS line, field, value, reason FROM (${join(parts, ' UNION ALL ')}) ORDER BY _line, field LIMIT ${maxIssues}`,
  )
  const issues: InputIssue[] = rows.map((r) => ({
    file,
    line: Number(r.line),
    field: r.field,
    value: r.value,
    reason: r.reason,
  }))
  throw new InputError(
    `${file}: ${total} problem(s) in ${table.name} data; nothing was loaded`,
    issues,
    total,
  )
}

/**
 * `_ml_ids(_line, identity_type, identity_value, _nids, _ts, _ch)` and `_ml_memref(_line, member_id, _nids)` from
 * `_ml_typed`. `_ts` and `_ch` are the record's time and channel (for identities and members it creates);
 * they are expressions over the typed table aliased `t`.
 */
export async function buildIdentityTables(
  driver: DuckDbDriver,
  table: TableDef,
  plan: ColumnPlan,
  time: Fragment,
  channel: Fragment,
): Promise<void> {
  const extra = sql`t._nids, ${time} AS _ts, ${channel} AS _ch`
  const parts: Fragment[] = plan.identities.map(([type]) => {
    const id = sql`t.${ident(`_id_${type}`)}`
    return sql`SELECT t._line, ${type} AS identity_type, ${id} AS identity_value, ${extra} FROM ${ident(TYPED)} t WHERE ${id} IS NOT NULL`
  })
  if (plan.identityPair) {
    parts.push(
      sql`SELECT t._line, t._pair_type AS identity_type, t._pair_value AS identity_value, ${extra} FROM ${ident(TYPED)} t WHERE t._pair_value IS NOT NULL`,
    )
  }
  // Returns that name their order take the order's member; only the others resolve by identity.
  const unlinked =
    table.name === 'returns' && plan.fields.has('order_id')
      ? sql` WHERE _line IN (SELECT _line FROM ${ident(TYPED)} WHERE order_id IS NULL)`
      : sql``
  await driver.execute(
    parts.length === 0
      ? sql`CREATE OR REPLACE TEMP TABLE _ml_ids
          (_line BIGINT, identity_type VARCHAR, identity_value VARCHAR, _nids INTEGER, _ts TIMESTAMP, _ch VARCHAR)`
      : sql`CREATE OR REPLACE TEMP TABLE _ml_ids AS SELECT * FROM (${join(parts, ' UNION ALL ')})${unlinked}`,
  )
  await driver.execute(
    sql`CREATE OR REPLACE TEMP TABLE _ml_memref AS SELECT _line, _member_ref AS member_id, _nids FROM ${ident(TYPED)} WHERE _member_ref IS NOT NULL`,
  )
}
