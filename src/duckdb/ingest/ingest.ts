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
import type { Clock } from '../../core/clock.js'
import { InputError } from '../../core/errors.js'
import { TABLES, type IngestTable, type TableDef } from '../../core/schema.js'
import type { DuckDbDriver } from '../driver.js'
import { ident, join, sql, unsafeRaw, type Fragment } from '../../engine/sql/fragment.js'
import { typeName, type ParseContext } from './fields.js'
import {
  TYPED,
  buildIdentityTables,
  buildTyped,
  planColumns,
  validateTyped,
  type ColumnPlan,
} from './typed-stage.js'
import {
  applyIdentityGuards,
  exclusiveTypesOf,
  recordHeldBack,
  recordSplit,
  type HeldBackIdentity,
  type IdentityGuardOptions,
} from './identity-guards.js'
import { buildLinkVetoes } from './identity-evidence.js'
import { resolveIdentities } from './identity-resolution.js'
import { rollback } from './rollback.js'
import { noteMergedMembers, noteTouchedDays, refreshTouched } from '../rollups/member-days.js'
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
  /** Placeholder and shared identifiers kept from merging members (deny list, sharing threshold). */
  readonly identityGuards?: IdentityGuardOptions
  readonly unknownIdentity?: UnknownIdentityRule
  /** Validate and resolve, then roll everything back. */
  readonly dryRun?: boolean
  /** Rows of the source left out by a documented rule before staging (recorded in the load log). */
  readonly skippedRows?: number
  /** How many issues to list in an error (all are counted). */
  readonly maxIssues?: number
  readonly clock: Clock
  readonly onPhase?: (phase: IngestPhase, detail?: { rows?: number }) => void
  /**
   * The zone whose local days key the member × day rollup when this load creates it (a database without one;
   * default the project default, Asia/Shanghai). A rollup that exists keeps its zone.
   */
  readonly rollupTimezone?: string
}

/** Phases of a load; `rollups` is the update of the member × day rollup, last inside the transaction. */
export type IngestPhase = 'reading' | 'validating' | 'resolving' | 'writing' | 'rollups' | 'done'

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
  /** Identifiers of this file kept on their records but not used to merge (deny list or shared too widely). */
  readonly identitiesHeldBack: number
  /** The first of them, most shared first (as many as `maxIssues`). */
  readonly heldBack: readonly HeldBackIdentity[]
}

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
  await buildTyped(driver, table, plan, ctx)
  await validateTyped(driver, table, plan, ctx, file, maxIssues)
  const value = (name: string): Fragment => fieldValue(table, name, plan, options)
  const recordTime = table.timeField === undefined ? sql`NULL::TIMESTAMP` : value(table.timeField)
  const recordChannel =
    table.channelField === undefined ? sql`NULL::VARCHAR` : value(table.channelField)
  await buildIdentityTables(driver, table, plan, recordTime, recordChannel)

  const run = async (): Promise<IngestReport> => {
    options.onPhase?.('resolving', { rows: staged.rows })
    const linked =
      table.memberLink !== 'none' &&
      (plan.identities.length > 0 ||
        plan.identityPair !== undefined ||
        plan.memberRef !== undefined)
    let created = 0
    let merged = 0
    let identitiesAdded = 0
    let held: { count: number; listed: HeldBackIdentity[] } = { count: 0, listed: [] }
    if (linked) {
      // One identity column and no member_id: no record can link two members, so nothing needs guarding.
      const singleIdentity =
        plan.identities.length + (plan.identityPair ? 1 : 0) === 1 && plan.memberRef === undefined
      const guarded =
        !singleIdentity &&
        (await applyIdentityGuards(driver, options.identityGuards ?? {}, ctx.defaultCountryCode))
      // Registrations only: a phone that leads to a member the record contradicts does not join them.
      const attributes =
        plan.fields.has('birthday') || plan.fields.has('gender')
          ? sql`(SELECT t._line, ${value('birthday')} AS birthday, ${value('gender')} AS gender FROM ${ident(TYPED)} t)`
          : undefined
      const vetoes =
        table.name === 'members' && !singleIdentity
          ? await buildLinkVetoes(driver, options.identityGuards ?? {}, attributes)
          : 0
      const r = await resolveIdentities(driver, {
        idsTable: '_ml_ids',
        memberRefsTable: '_ml_memref',
        singleIdentity,
        exclusiveTypes: exclusiveTypesOf(options.identityGuards ?? {}),
        ...(vetoes > 0 ? { vetoTable: '_ml_veto' } : {}),
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
      if (merged > 0) await noteMergedMembers(driver)
      identitiesAdded = await addIdentities(driver)
      if (table.memberLink !== 'owner') created = await createMembers(driver)
      else created = r.newMembers
      if (guarded) held = await recordHeldBack(driver, basename(file), maxIssues)
      if (r.refused > 0) {
        const split = await recordSplit(driver, basename(file), maxIssues)
        held = {
          count: held.count + split.count,
          listed: [...held.listed, ...split.listed].slice(0, maxIssues),
        }
      }
    } else {
      options.onPhase?.('writing', { rows: staged.rows })
    }
    const { inserted, updated } =
      table.memberLink === 'owner'
        ? await upsertMembers(driver, value)
        : await upsertRows(driver, table, file, maxIssues, value, linked)
    options.onPhase?.('rollups', { rows: staged.rows })
    await refreshTouched(driver, {
      clock: options.clock,
      ...(options.rollupTimezone === undefined ? {} : { timezone: options.rollupTimezone }),
    })
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
      identitiesHeldBack: held.count,
      heldBack: held.listed,
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
  'shared_identities',
  'orders',
  'returns',
  'events',
  'feedback',
  'touches',
  'experiments',
  'subscriptions',
  'coupons',
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
  // An identity held back on two merged members is one row of the survivor (the earliest load's).
  await driver.execute(sql`DELETE FROM shared_identities WHERE rowid IN (
    SELECT rid FROM (SELECT rowid AS rid, row_number() OVER (PARTITION BY identity_type, identity_value, member_id ORDER BY load_id, rowid) AS rn
      FROM shared_identities WHERE member_id IN (SELECT into_member_id FROM _ml_merges)) WHERE rn > 1)`)
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

/** New identities, each with the channel and time of the first record that carried it. */
async function addIdentities(driver: DuckDbDriver): Promise<number> {
  return driver.execute(sql`INSERT INTO identities
    SELECT nw.identity_type, nw.identity_value, m.member_id, nw.first_ch, nw.first_ts
    FROM _ml_newid nw JOIN _ml_idmember m USING (identity_type, identity_value)`)
}

/** New members found through a fact table: registered at their earliest record, on that record's channel. */
async function createMembers(driver: DuckDbDriver): Promise<number> {
  return driver.execute(sql`INSERT INTO members (member_id, registered_at, registration_channel)
    SELECT m.member_id, min(nw.min_ts), arg_min(nw.min_ch, nw.min_ts)
    FROM _ml_newid nw JOIN _ml_idmember m USING (identity_type, identity_value)
    WHERE m.is_new GROUP BY m.member_id`)
}

/**
 * Member rows: when several lines of a file are one member, the first non-empty value in file order wins for
 * each attribute (the oldest registration, as when members merge) and the registration is the earliest.
 */
async function upsertMembers(
  driver: DuckDbDriver,
  value: ValueOf,
): Promise<{ inserted: number; updated: number }> {
  const attrs = TABLES.members.fields.filter(
    (f) => f.name !== 'member_id' && f.name !== 'registered_at',
  )
  const aggs = attrs.map(
    (f) =>
      sql`arg_min(${value(f.name)}, t._line) FILTER (WHERE ${value(f.name)} IS NOT NULL) AS ${ident(f.name)}`,
  )
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_rows AS
    SELECT r.member_id, min(${value('registered_at')}) AS registered_at, ${join(aggs)}
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
  value: ValueOf,
  resolved: boolean,
): Promise<{ inserted: number; updated: number }> {
  const hasMember = table.fields.some((f) => f.name === 'member_id')
  const names = table.fields.map((f) => f.name)
  const selects = names.map((n) => {
    if (n !== 'member_id') return sql`${value(n)} AS ${ident(n)}`
    // Returns that name their order belong to the order's member.
    if (table.name !== 'returns') return sql`r.member_id`
    return resolved ? sql`coalesce(o.member_id, r.member_id) AS member_id` : sql`o.member_id`
  })
  const byIdentity = resolved ? sql` LEFT JOIN _ml_resolved r USING (_line)` : sql``
  const joins =
    table.name === 'returns'
      ? sql`${byIdentity} LEFT JOIN orders o ON o.order_id = ${value('order_id')}`
      : hasMember
        ? sql` JOIN _ml_resolved r USING (_line)`
        : sql``
  const rowsQuery = sql`SELECT t._line, ${join(selects)} FROM ${ident(TYPED)} t${joins}`
  const target = ident(table.name)
  const empty = (await driver.first(sql`SELECT 1 AS x FROM ${target} LIMIT 1`)) === undefined
  const memberKeyed = table.key.includes('member_id')
  // Keys that include the member are known only now; rows are materialised to check them first.
  if (memberKeyed) {
    await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_rows AS ${rowsQuery}`)
    await rejectDuplicateKeys(driver, table, file, maxIssues)
  }
  const source = memberKeyed ? sql`_ml_rows` : sql`(${rowsQuery})`
  const cols = join(names.map((n) => ident(n)))
  const values = join(names.map((n) => sql`n.${ident(n)}`))
  const keyMatch = join(
    table.key.map((k) => sql`${target}.${ident(k)} = n.${ident(k)}`),
    ' AND ',
  )
  // The rollup recomputes the member-days of the incoming rows and of the stored rows they replace.
  await noteTouchedDays(driver, table.name, source, keyMatch)
  if (empty) {
    const inserted = await driver.execute(
      sql`INSERT INTO ${target} (${cols}) SELECT ${values} FROM ${source} n`,
    )
    return { inserted, updated: 0 }
  }
  const others = names.filter((n) => !table.key.includes(n))
  let updated = 0
  if (others.length > 0) {
    const sets = others.map((n) => sql`${ident(n)} = n.${ident(n)}`)
    const changed = others.map((n) => sql`${target}.${ident(n)} IS DISTINCT FROM n.${ident(n)}`)
    updated = await driver.execute(sql`UPDATE ${target} SET ${join(sets)} FROM ${source} n
      WHERE ${keyMatch} AND (${join(changed, ' OR ')})`)
  }
  const inserted = await driver.execute(sql`INSERT INTO ${target} (${cols})
    SELECT ${values} FROM ${source} n WHERE NOT EXISTS (SELECT 1 FROM ${target} WHERE ${keyMatch})`)
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

type ValueOf = (name: string) => Fragment

/**
 * The value written for a canonical field: the parsed column of `_ml_typed` (alias `t`) with the field's default
 * (or `--currency`) filling blanks, or the default alone when the file has no such column.
 */
function fieldValue(
  table: TableDef,
  name: string,
  plan: ColumnPlan,
  options: IngestOptions,
): Fragment {
  const f = table.fields.find((x) => x.name === name)
  if (f === undefined) throw new Error(`${table.name} has no field ${name}`)
  const fallback = name === 'currency' ? options.currency : f.default
  const type = unsafeRaw(typeName(f))
  const present = plan.fields.has(name) || (name === 'line_no' && plan.deriveLineNo)
  if (!present) return fallback === undefined ? sql`NULL::${type}` : sql`${fallback}::${type}`
  return fallback === undefined
    ? sql`t.${ident(name)}`
    : sql`coalesce(t.${ident(name)}, ${fallback}::${type})`
}
