/**
 * `memberlens ingest`: validate a source file against the canonical schema, resolve identities and upsert it,
 * atomically (the file lands whole or not at all) and idempotently (loading it again changes nothing).
 *
 * Steps, all inside the engine: stage the file as text → map columns → check every field (one scan when the
 * file is clean, a detailed report of the first errors when not) → parse into a typed table → resolve identities
 * → in one transaction: apply merges, add identities and members, update changed rows, insert new ones, log the
 * load.
 * @module
 */
import { basename } from 'node:path'
import type { Clock } from '../core/clock.js'
import { InputError, type InputIssue } from '../core/errors.js'
import {
  IDENTITY_TYPES,
  TABLES,
  sourceFields,
  type FieldDef,
  type IdentityType,
  type IngestTable,
  type TableDef,
} from '../core/schema.js'
import type { DuckDbDriver } from '../engine/drivers/duckdb-driver.js'
import { ident, join, sourceColumn, sql, unsafeRaw, type Fragment } from '../engine/sql/fragment.js'
import {
  IDENTITY_REASON,
  blankToNull,
  fieldChecks,
  identityValid,
  normalizeIdentity,
  parseField,
  type Check,
  type ParseContext,
} from './fields.js'
import { resolveIdentities } from './identity-resolution.js'
import { rollback } from './rollback.js'
import { dropStagingTables, stageFile, type SourceOptions, type StagedSource } from './source.js'

export const UNKNOWN_IDENTITY_RULES = ['create', 'reject'] as const
/** What happens to a record whose identities match no member: create one, or reject the file. */
export type UnknownIdentityRule = (typeof UNKNOWN_IDENTITY_RULES)[number]

export interface IngestOptions extends SourceOptions {
  readonly table: IngestTable
  /** Canonical field or identity type → source column name. Unmapped canonical names match themselves. */
  readonly columns?: Readonly<Record<string, string>>
  /** Source columns to leave out (otherwise an unknown column is an error). */
  readonly ignore?: readonly string[]
  readonly timezone?: string
  readonly dateFormat?: string
  /** Currency for orders whose file has no currency column. */
  readonly currency?: string
  readonly defaultCountryCode?: string
  readonly unknownIdentity?: UnknownIdentityRule
  /** Validate and resolve, then roll everything back. */
  readonly dryRun?: boolean
  /** Rows of the source left out by a documented rule before staging (recorded in the load log). */
  readonly skippedRows?: number
  /** How many issues to list in an error (all are counted). */
  readonly maxIssues?: number
  readonly clock: Clock
  readonly onPhase?: (phase: IngestPhase, detail?: { rows?: number }) => void
}

export type IngestPhase = 'reading' | 'validating' | 'resolving' | 'writing' | 'done'

export interface IngestReport {
  readonly file: string
  readonly table: IngestTable
  readonly dryRun: boolean
  readonly rowsRead: number
  readonly rowsInserted: number
  readonly rowsUpdated: number
  readonly rowsUnchanged: number
  readonly membersCreated: number
  readonly membersMerged: number
  readonly identitiesAdded: number
}

const TYPED = '_ml_typed'

/** Loads one file into one canonical table. Throws {@link InputError} and writes nothing when the file is bad. */
export async function ingestFile(
  driver: DuckDbDriver,
  file: string,
  options: IngestOptions,
): Promise<IngestReport> {
  const ctx = parseContext(options)
  await checkTimezone(driver, ctx.timezone)
  options.onPhase?.('reading')
  try {
    const staged = await stageFile(driver, file, options, options.maxIssues ?? 20)
    return await ingestStaged(driver, staged, file, options)
  } finally {
    await dropStagingTables(driver)
  }
}

function parseContext(options: IngestOptions): ParseContext {
  return {
    timezone: options.timezone ?? 'UTC',
    ...(options.dateFormat === undefined ? {} : { dateFormat: options.dateFormat }),
    defaultCountryCode: options.defaultCountryCode ?? '86',
  }
}

/**
 * Loads the staging table `_ml_stage` (text columns and `_line`) into one canonical table. `file` names the
 * source in messages. Runs in the caller's transaction when there is one, so several tables can land together.
 */
export async function ingestStaged(
  driver: DuckDbDriver,
  staged: StagedSource,
  file: string,
  options: IngestOptions,
): Promise<IngestReport> {
  const table = TABLES[options.table]
  const maxIssues = options.maxIssues ?? 20
  const ctx = parseContext(options)
  await checkTimezone(driver, ctx.timezone)
  options.onPhase?.('validating', { rows: staged.rows })
  const plan = planColumns(table, staged, file, options)
  await validate(driver, table, plan, ctx, file, maxIssues)
  await buildTyped(driver, table, plan, ctx, options)

  const run = async (): Promise<IngestReport> => {
    options.onPhase?.('resolving', { rows: staged.rows })
    const linked =
      table.memberLink !== 'none' &&
      (plan.identities.length > 0 || plan.identityPair !== undefined || plan.memberRef !== undefined)
    let created = 0
    let merged = 0
    let identitiesAdded = 0
    if (linked) {
      const r = await resolveIdentities(driver, {
        idsTable: '_ml_ids',
        memberRefsTable: '_ml_memref',
      })
      if (
        options.unknownIdentity === 'reject' &&
        table.memberLink !== 'owner' &&
        r.newMembers > 0
      ) {
        await rejectUnknown(driver, file, maxIssues)
      }
      options.onPhase?.('writing', { rows: staged.rows })
      merged = await applyMerges(driver, file)
      identitiesAdded = await addIdentities(driver, table)
      if (table.memberLink !== 'owner') created = await createMembers(driver, table)
      else created = r.newMembers
    } else {
      options.onPhase?.('writing', { rows: staged.rows })
    }
    const { inserted, updated } =
      table.memberLink === 'owner'
        ? await upsertMembers(driver)
        : await upsertRows(driver, table, file, maxIssues)
    const report: IngestReport = {
      file,
      table: options.table,
      dryRun: options.dryRun ?? false,
      rowsRead: staged.rows,
      rowsInserted: inserted,
      rowsUpdated: updated,
      rowsUnchanged: staged.rows - inserted - updated,
      membersCreated: created,
      membersMerged: merged,
      identitiesAdded,
    }
    await driver.execute(sql`INSERT INTO loads
      SELECT coalesce(max(load_id), 0) + 1, ${options.table}, ${basename(file)}, ${staged.rows},
        ${inserted + updated}, ${options.skippedRows ?? 0}, ${created}, ${merged}, ${options.clock.now().toISOString()}::TIMESTAMPTZ
      FROM loads`)
    return report
  }

  const report = options.dryRun ? await rollback(driver, run) : await driver.transaction(run)
  options.onPhase?.('done', { rows: staged.rows })
  return report
}

async function checkTimezone(driver: DuckDbDriver, tz: string): Promise<void> {
  const r = await driver.first(sql`SELECT 1 AS ok FROM pg_timezone_names() WHERE name = ${tz}`)
  if (!r)
    throw InputError.single({
      field: 'timezone',
      value: tz,
      reason: 'unknown time zone (use an IANA name such as Asia/Shanghai)',
    })
}

/** Which source column feeds which canonical field. */
interface ColumnPlan {
  /** canonical field → source column */
  readonly fields: ReadonlyMap<string, string>
  /** identity type → source column */
  readonly identities: ReadonlyArray<readonly [IdentityType, string]>
  readonly identityPair?: readonly [string, string]
  readonly memberRef?: string
  /** True when order_items has no line_no column: it is derived from the line order within each order. */
  readonly deriveLineNo: boolean
}

function planColumns(
  table: TableDef,
  staged: StagedSource,
  file: string,
  options: IngestOptions,
): ColumnPlan {
  const allowed = new Set(sourceFields(table))
  const mapping = options.columns ?? {}
  const issues: InputIssue[] = []
  for (const canonical of Object.keys(mapping)) {
    if (!allowed.has(canonical)) {
      issues.push({
        file,
        field: canonical,
        reason: `not a field of ${table.name} (fields: ${[...allowed].join(', ')})`,
      })
    } else if (!staged.columns.includes(mapping[canonical] as string)) {
      issues.push({
        file,
        line: 1,
        field: canonical,
        value: mapping[canonical] as string,
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
    const canonical =
      bySource.get(col) ??
      (allowed.has(col)
        ? col
        : allowed.has(col.trim().toLowerCase())
          ? col.trim().toLowerCase()
          : undefined)
    if (canonical === undefined) {
      issues.push({
        file,
        line: 1,
        field: col,
        reason: `unknown column for ${table.name}: map it (--map field=${col}) or leave it out (--ignore ${col})`,
      })
      continue
    }
    if (fields.has(canonical)) {
      issues.push({
        file,
        line: 1,
        field: col,
        reason: `column maps to ${canonical}, which another column already feeds`,
      })
      continue
    }
    fields.set(canonical, col)
  }
  for (const f of table.fields) {
    if (f.required && !f.derived && f.default === undefined && !fields.has(f.name)) {
      if (f.name === 'line_no' && table.name === 'order_items') continue
      issues.push({
        file,
        line: 1,
        field: f.name,
        reason: `required column is missing (columns in the file: ${staged.columns.join(', ')})`,
      })
    }
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

/** A staging column, qualified so that correlated subqueries cannot capture its name. */
function col(name: string): Fragment {
  return sql`_ml_stage.${sourceColumn(name)}`
}

/** All checks for the planned columns, each a condition on the staging table. */
function buildChecks(table: TableDef, plan: ColumnPlan, ctx: ParseContext): Check[] {
  const checks: Check[] = []
  for (const f of table.fields) {
    const source = plan.fields.get(f.name)
    if (source === undefined || f.derived) continue
    checks.push(...fieldChecks(f, col(source), ctx))
  }
  for (const [type, source] of plan.identities) {
    const c = col(source)
    const norm = normalizeIdentity(type, c, ctx)
    checks.push({
      field: type,
      column: c,
      failing: sql`${blankToNull(c)} IS NOT NULL AND NOT ${identityValid(type, norm, c)}`,
      reason: IDENTITY_REASON[type],
    })
  }
  if (plan.identityPair) {
    const [t, v] = plan.identityPair
    const tc = col(t)
    checks.push({
      field: 'identity_type',
      column: tc,
      failing: sql`${blankToNull(col(v))} IS NOT NULL AND NOT (lower(${blankToNull(tc)}) IN (${unsafeRaw(IDENTITY_TYPES.map((x) => `'${x}'`).join(', '))}))`,
      reason: `unknown identity type (one of ${IDENTITY_TYPES.join(', ')})`,
    })
    checks.push({
      field: 'identity_value',
      column: col(v),
      failing: sql`${blankToNull(tc)} IS NOT NULL AND ${pairValue(plan, ctx)} IS NULL AND ${blankToNull(col(v))} IS NOT NULL`,
      reason: 'not a valid value for its identity type',
    })
  }
  if (plan.memberRef !== undefined) {
    const c = col(plan.memberRef)
    checks.push({
      field: 'member_id',
      column: c,
      failing: sql`${blankToNull(c)} IS NOT NULL AND TRY_CAST(${blankToNull(c)} AS BIGINT) IS NULL`,
      reason: 'not a member id (an integer)',
    })
    checks.push({
      field: 'member_id',
      column: c,
      failing: sql`TRY_CAST(${blankToNull(c)} AS BIGINT) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM members m WHERE m.member_id = TRY_CAST(${blankToNull(c)} AS BIGINT))`,
      reason: 'unknown member_id',
    })
  }
  const needsIdentity = table.memberLink === 'owner' || table.memberLink === 'reference'
  const orderSource = plan.fields.get('order_id')
  if (
    needsIdentity ||
    (table.name === 'returns' && plan.identities.length + (plan.identityPair ? 1 : 0) > 0)
  ) {
    const present = identityPresence(plan, ctx)
    const guard =
      table.name === 'returns' && orderSource !== undefined
        ? sql`${blankToNull(col(orderSource))} IS NULL AND `
        : sql``
    checks.push({
      field: 'identity',
      column: sql`NULL`,
      failing: sql`${guard}NOT (${present})`,
      reason: `no identity: one of member_id, ${IDENTITY_TYPES.join(', ')} is required`,
    })
  }
  if (table.memberLink === 'via-order' && orderSource !== undefined) {
    const c = col(orderSource)
    checks.push({
      field: 'order_id',
      column: c,
      failing: sql`${blankToNull(c)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = ${blankToNull(c)})`,
      reason: 'unknown order_id (load the orders first)',
    })
  }
  return checks
}

function identityPresence(plan: ColumnPlan, ctx: ParseContext): Fragment {
  const parts: Fragment[] = plan.identities.map(
    ([type, source]) => sql`${normalizeIdentity(type, col(source), ctx)} IS NOT NULL`,
  )
  if (plan.identityPair) parts.push(sql`${pairValue(plan, ctx)} IS NOT NULL`)
  if (plan.memberRef !== undefined)
    parts.push(sql`TRY_CAST(${blankToNull(col(plan.memberRef))} AS BIGINT) IS NOT NULL`)
  return parts.length === 0 ? sql`false` : join(parts, ' OR ')
}

/** Normalised value of the identity_type/identity_value pair; NULL when blank or invalid. */
function pairValue(plan: ColumnPlan, ctx: ParseContext): Fragment {
  const [t, v] = plan.identityPair as readonly [string, string]
  const type = sql`lower(${blankToNull(col(t))})`
  const arms = IDENTITY_TYPES.map((it) => {
    const norm = normalizeIdentity(it, col(v), ctx)
    return sql`WHEN ${type} = ${it} THEN (CASE WHEN ${identityValid(it, norm, col(v))} THEN ${norm} END)`
  })
  return sql`(CASE ${join(arms, ' ')} END)`
}

async function validate(
  driver: DuckDbDriver,
  table: TableDef,
  plan: ColumnPlan,
  ctx: ParseContext,
  file: string,
  maxIssues: number,
): Promise<void> {
  const checks = buildChecks(table, plan, ctx)
  const stage = ident('_ml_stage')
  const keyCols = table.key.filter((k) => k !== 'member_id' && plan.fields.has(k))
  const keyCheck = keyCols.length === table.key.length && keyCols.length > 0
  // One scan counts every failing check; the detail query runs only when something failed.
  const counts = checks.map(
    (c, i) => sql`count(*) FILTER (WHERE ${c.failing}) AS ${ident(`c${i}`)}`,
  )
  const dupKeys = keyCols.map((k) => blankToNull(col(plan.fields.get(k) as string)))
  const dupSql = keyCheck
    ? sql`(SELECT count(*) FROM (SELECT _line, min(_line) OVER (PARTITION BY ${join(dupKeys)}) AS f FROM ${stage} WHERE ${join(
        dupKeys.map((d) => sql`${d} IS NOT NULL`),
        ' AND ',
      )}) WHERE _line <> f)`
    : sql`0`
  const row = await driver.first<Record<string, bigint>>(
    sql`SELECT ${checks.length > 0 ? sql`${join(counts)}, ` : sql``}${dupSql} AS dup FROM ${stage}`,
  )
  const failing = checks.filter((_, i) => Number(row?.[`c${i}`] ?? 0) > 0)
  const dupCount = Number(row?.['dup'] ?? 0)
  const total =
    failing.reduce((s, c) => s + Number(row?.[`c${checks.indexOf(c)}`] ?? 0), 0) + dupCount
  if (total === 0) return
  const parts: Fragment[] = failing.map(
    (c) =>
      sql`SELECT _line, ${c.field} AS field, ${c.column}::VARCHAR AS value, ${c.reason} AS reason FROM ${stage} WHERE ${c.failing}`,
  )
  if (dupCount > 0) {
    const keyName = keyCols.join(', ')
    parts.push(sql`SELECT _line, ${keyName} AS field, value,
      'duplicate key ' || ${keyName} || ' (first on line ' || first_line || ')' AS reason
      FROM (SELECT _line, concat_ws(', ', ${join(dupKeys)}) AS value,
              min(_line) OVER (PARTITION BY ${join(dupKeys)}) AS first_line
            FROM ${stage} WHERE ${join(
              dupKeys.map((d) => sql`${d} IS NOT NULL`),
              ' AND ',
            )})
      WHERE _line <> first_line`)
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

/** Builds `_ml_typed` (canonical typed columns), `_ml_ids` and `_ml_memref` from the staging table. */
async function buildTyped(
  driver: DuckDbDriver,
  table: TableDef,
  plan: ColumnPlan,
  ctx: ParseContext,
  options: IngestOptions,
): Promise<void> {
  const selects: Fragment[] = [sql`_line`]
  for (const f of table.fields) {
    if (f.derived) continue
    selects.push(sql`${typedValue(f, plan, ctx, options)} AS ${ident(f.name)}`)
  }
  plan.identities.forEach(([type, source]) => {
    selects.push(sql`${normalizeIdentity(type, col(source), ctx)} AS ${ident(`_id_${type}`)}`)
  })
  if (plan.identityPair) {
    selects.push(sql`lower(${blankToNull(col(plan.identityPair[0]))}) AS _pair_type`)
    selects.push(sql`${pairValue(plan, ctx)} AS _pair_value`)
  }
  selects.push(
    plan.memberRef === undefined
      ? sql`NULL::BIGINT AS _member_ref`
      : sql`TRY_CAST(${blankToNull(col(plan.memberRef))} AS BIGINT) AS _member_ref`,
  )
  await driver.execute(
    sql`CREATE OR REPLACE TEMP TABLE ${ident(TYPED)} AS SELECT ${join(selects)} FROM _ml_stage`,
  )
  if (plan.deriveLineNo) {
    await driver.execute(sql`CREATE OR REPLACE TEMP TABLE ${ident(TYPED)} AS
      SELECT * REPLACE (row_number() OVER (PARTITION BY order_id ORDER BY _line)::INTEGER AS line_no) FROM ${ident(TYPED)}`)
  }
  const idParts: Fragment[] = plan.identities.map(
    ([type]) =>
      sql`SELECT _line, ${type} AS identity_type, ${ident(`_id_${type}`)} AS identity_value FROM ${ident(TYPED)} WHERE ${ident(`_id_${type}`)} IS NOT NULL`,
  )
  if (plan.identityPair) {
    idParts.push(
      sql`SELECT _line, _pair_type AS identity_type, _pair_value AS identity_value FROM ${ident(TYPED)} WHERE _pair_value IS NOT NULL`,
    )
  }
  // Returns that name their order take the order's member; only the others resolve by identity.
  const onlyUnlinked =
    table.name === 'returns'
      ? sql` WHERE _line IN (SELECT _line FROM ${ident(TYPED)} WHERE order_id IS NULL)`
      : sql``
  await driver.execute(
    idParts.length === 0
      ? sql`CREATE OR REPLACE TEMP TABLE _ml_ids (_line BIGINT, identity_type VARCHAR, identity_value VARCHAR)`
      : sql`CREATE OR REPLACE TEMP TABLE _ml_ids AS SELECT * FROM (${join(idParts, ' UNION ALL ')})${onlyUnlinked}`,
  )
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_memref AS
    SELECT _line, _member_ref AS member_id FROM ${ident(TYPED)} WHERE _member_ref IS NOT NULL`)
}

function typedValue(
  f: FieldDef,
  plan: ColumnPlan,
  ctx: ParseContext,
  options: IngestOptions,
): Fragment {
  const source = plan.fields.get(f.name)
  const fallback: string | undefined = f.name === 'currency' ? options.currency : f.default
  const castType = unsafeRaw(typeName(f))
  if (source === undefined) {
    return fallback === undefined ? sql`NULL::${castType}` : sql`${fallback}::${castType}`
  }
  const parsed = parseField(f, col(source), ctx)
  return fallback === undefined ? parsed : sql`coalesce(${parsed}, ${fallback}::${castType})`
}

function typeName(f: FieldDef): string {
  switch (f.type.kind) {
    case 'string':
    case 'enum':
      return 'VARCHAR'
    case 'integer':
      return 'INTEGER'
    case 'bigint':
      return 'BIGINT'
    case 'number':
      return 'DOUBLE'
    case 'money':
      return 'DECIMAL(18,4)'
    case 'timestamp':
      return 'TIMESTAMP'
    case 'date':
      return 'DATE'
    case 'boolean':
      return 'BOOLEAN'
    case 'json':
      return 'JSON'
    default: {
      const _exhaustive: never = f.type
      throw new Error(`unhandled type ${JSON.stringify(_exhaustive)}`)
    }
  }
}

async function rejectUnknown(
  driver: DuckDbDriver,
  file: string,
  maxIssues: number,
): Promise<never> {
  const rows = await driver.all<{ line: bigint; identityType: string; identityValue: string }>(sql`
    SELECT r._line AS line, i.identity_type, i.identity_value
    FROM _ml_resolved r JOIN _ml_ids i USING (_line) WHERE r.is_new ORDER BY r._line LIMIT ${maxIssues}`)
  const total = await driver.first<{ n: bigint }>(
    sql`SELECT count(*) AS n FROM _ml_resolved WHERE is_new`,
  )
  const issues = rows.map((r) => ({
    file,
    line: Number(r.line),
    field: r.identityType,
    value: r.identityValue,
    reason: 'identity matches no member (rule: --unknown-identity reject)',
  }))
  throw new InputError(
    `${file}: ${Number(total?.n)} record(s) for unknown members; nothing was loaded`,
    issues,
    Number(total?.n),
  )
}

/** Tables that hold a member_id, rewritten when members merge. */
const MEMBER_TABLES = [
  'identities',
  'orders',
  'returns',
  'events',
  'feedback',
  'touches',
  'experiments',
  'subscriptions',
] as const

async function applyMerges(driver: DuckDbDriver, file: string): Promise<number> {
  const n = Number(
    (await driver.first<{ n: bigint }>(sql`SELECT count(*) AS n FROM _ml_merges`))?.n ?? 0,
  )
  if (n === 0) return 0
  for (const t of MEMBER_TABLES) {
    await driver.execute(sql`UPDATE ${ident(t)} SET member_id = m.into_member_id
      FROM _ml_merges m WHERE ${ident(t)}.member_id = m.from_member_id`)
  }
  // Tables keyed by member: after a merge the surviving member keeps the earliest row of each key.
  for (const t of ['touches', 'experiments', 'subscriptions'] as const) {
    const def = TABLES[t]
    const time = ident(def.timeField as string)
    await driver.execute(sql`DELETE FROM ${ident(t)} WHERE rowid IN (
      SELECT rid FROM (SELECT rowid AS rid, row_number() OVER (PARTITION BY ${join(def.key.map((k) => ident(k)))} ORDER BY ${time}, rowid) AS rn
        FROM ${ident(t)} WHERE member_id IN (SELECT into_member_id FROM _ml_merges)) WHERE rn > 1)`)
  }
  // The survivor keeps its own attributes and fills gaps from the merged members (older first).
  const attrs = TABLES.members.fields.filter(
    (f) => f.name !== 'member_id' && f.name !== 'registered_at',
  )
  const sets = attrs.map(
    (f) => sql`${ident(f.name)} = coalesce(members.${ident(f.name)}, x.${ident(f.name)})`,
  )
  const aggs = attrs.map(
    (f) =>
      sql`first(o.${ident(f.name)} ORDER BY o.member_id) FILTER (WHERE o.${ident(f.name)} IS NOT NULL) AS ${ident(f.name)}`,
  )
  await driver.execute(sql`UPDATE members SET registered_at = least(members.registered_at, x.registered_at), ${join(sets)}
    FROM (SELECT m.into_member_id, min(o.registered_at) AS registered_at, ${join(aggs)}
          FROM _ml_merges m JOIN members o ON o.member_id = m.from_member_id GROUP BY m.into_member_id) x
    WHERE members.member_id = x.into_member_id`)
  await driver.execute(
    sql`DELETE FROM members WHERE member_id IN (SELECT from_member_id FROM _ml_merges)`,
  )
  await driver.execute(sql`INSERT INTO member_merges
    SELECT (SELECT coalesce(max(merge_id), 0) FROM member_merges) + row_number() OVER (ORDER BY m.line, m.from_member_id),
      (SELECT coalesce(max(load_id), 0) + 1 FROM loads), m.from_member_id, m.into_member_id,
      i.identity_type, i.identity_value, ${basename(file)}, m.line
    FROM _ml_merges m
    LEFT JOIN (SELECT _line, first(identity_type ORDER BY identity_type, identity_value) AS identity_type,
                 first(identity_value ORDER BY identity_type, identity_value) AS identity_value
               FROM _ml_ids GROUP BY _line) i
      ON i._line = m.line`)
  return n
}

async function addIdentities(driver: DuckDbDriver, table: TableDef): Promise<number> {
  const time =
    table.timeField === undefined ? sql`NULL::TIMESTAMP` : sql`t.${ident(table.timeField)}`
  const channel =
    table.channelField === undefined ? sql`NULL::VARCHAR` : sql`t.${ident(table.channelField)}`
  return driver.execute(sql`INSERT INTO identities
    SELECT nw.identity_type, nw.identity_value, r.member_id, ${channel}, ${time}
    FROM _ml_newid nw
    JOIN _ml_resolved r ON r._line = nw.first_line
    LEFT JOIN ${ident(TYPED)} t ON t._line = nw.first_line`)
}

/** New members found through a fact table: registered at their first record, on its channel. */
async function createMembers(driver: DuckDbDriver, table: TableDef): Promise<number> {
  const time =
    table.timeField === undefined ? sql`NULL::TIMESTAMP` : sql`t.${ident(table.timeField)}`
  const channel =
    table.channelField === undefined ? sql`NULL::VARCHAR` : sql`t.${ident(table.channelField)}`
  return driver.execute(sql`INSERT INTO members (member_id, registered_at, registration_channel)
    SELECT r.member_id, min(${time}), arg_min(${channel}, ${time})
    FROM _ml_resolved r JOIN ${ident(TYPED)} t USING (_line)
    WHERE r.is_new GROUP BY r.member_id`)
}

/** Member rows: the last line of a member wins for each non-empty attribute; registration is the earliest. */
async function upsertMembers(driver: DuckDbDriver): Promise<{ inserted: number; updated: number }> {
  const attrs = TABLES.members.fields.filter(
    (f) => f.name !== 'member_id' && f.name !== 'registered_at',
  )
  const aggs = attrs.map(
    (f) =>
      sql`arg_max(t.${ident(f.name)}, t._line) FILTER (WHERE t.${ident(f.name)} IS NOT NULL) AS ${ident(f.name)}`,
  )
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_rows AS
    SELECT r.member_id, min(t.registered_at) AS registered_at, ${join(aggs)}
    FROM ${ident(TYPED)} t JOIN _ml_resolved r USING (_line) GROUP BY r.member_id`)
  const changed = attrs.map(
    (f) =>
      sql`(n.${ident(f.name)} IS NOT NULL AND members.${ident(f.name)} IS DISTINCT FROM n.${ident(f.name)})`,
  )
  const sets = attrs.map(
    (f) => sql`${ident(f.name)} = coalesce(n.${ident(f.name)}, members.${ident(f.name)})`,
  )
  const updated =
    await driver.execute(sql`UPDATE members SET registered_at = least(members.registered_at, n.registered_at), ${join(sets)}
    FROM _ml_rows n WHERE members.member_id = n.member_id
      AND (n.registered_at < members.registered_at OR ${join(changed, ' OR ')})`)
  const names = TABLES.members.fields.map((f) => ident(f.name))
  const inserted = await driver.execute(sql`INSERT INTO members (${join(names)})
    SELECT ${join(names.map((n) => sql`n.${n}`))} FROM _ml_rows n
    WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.member_id = n.member_id)`)
  return { inserted, updated }
}

/** Fact rows: update rows whose values changed, insert new keys. */
async function upsertRows(
  driver: DuckDbDriver,
  table: TableDef,
  file: string,
  maxIssues: number,
): Promise<{ inserted: number; updated: number }> {
  const hasMember = table.fields.some((f) => f.name === 'member_id')
  const names = table.fields.map((f) => f.name)
  const selects = names.map((n) => {
    if (n !== 'member_id') return sql`t.${ident(n)}`
    // Returns that name their order belong to the order's member.
    return table.name === 'returns'
      ? sql`coalesce(o.member_id, r.member_id) AS member_id`
      : sql`r.member_id`
  })
  const joins =
    table.name === 'returns'
      ? sql` LEFT JOIN _ml_resolved r USING (_line) LEFT JOIN orders o ON o.order_id = t.order_id`
      : hasMember
        ? sql` JOIN _ml_resolved r USING (_line)`
        : sql``
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_rows AS
    SELECT t._line, ${join(selects)} FROM ${ident(TYPED)} t${joins}`)
  if (table.key.includes('member_id')) await rejectDuplicateKeys(driver, table, file, maxIssues)
  const target = ident(table.name)
  const keyMatch = join(
    table.key.map((k) => sql`${target}.${ident(k)} = n.${ident(k)}`),
    ' AND ',
  )
  const others = names.filter((n) => !table.key.includes(n))
  let updated = 0
  if (others.length > 0) {
    const sets = others.map((n) => sql`${ident(n)} = n.${ident(n)}`)
    const changed = others.map((n) => sql`${target}.${ident(n)} IS DISTINCT FROM n.${ident(n)}`)
    updated = await driver.execute(sql`UPDATE ${target} SET ${join(sets)} FROM _ml_rows n
      WHERE ${keyMatch} AND (${join(changed, ' OR ')})`)
  }
  const cols = join(names.map((n) => ident(n)))
  const inserted = await driver.execute(sql`INSERT INTO ${target} (${cols})
    SELECT ${join(names.map((n) => sql`n.${ident(n)}`))} FROM _ml_rows n
    WHERE NOT EXISTS (SELECT 1 FROM ${target} WHERE ${keyMatch})`)
  return { inserted, updated }
}

async function rejectDuplicateKeys(
  driver: DuckDbDriver,
  table: TableDef,
  file: string,
  maxIssues: number,
): Promise<void> {
  const keys = join(table.key.map((k) => ident(k)))
  const rows = await driver.all<{ line: bigint; firstLine: bigint }>(sql`
    SELECT _line AS line, first_line FROM (SELECT _line, min(_line) OVER (PARTITION BY ${keys}) AS first_line FROM _ml_rows)
    WHERE _line <> first_line ORDER BY _line LIMIT ${maxIssues}`)
  if (rows.length === 0) return
  const issues = rows.map((r) => ({
    file,
    line: Number(r.line),
    field: table.key.join(', '),
    reason: `duplicate key ${table.key.join(', ')} for the same member (first on line ${Number(r.firstLine)})`,
  }))
  throw new InputError(`${file}: duplicate keys in ${table.name}; nothing was loaded`, issues)
}
