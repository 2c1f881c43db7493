/**
 * Member tags with their history: `member_tags` holds one row per member, tag and period with where it came
 * from (`rule`, or `manual` with the file and line it was imported from); `tag_periods` holds, per period, the
 * definitions in force and the instant the rules were evaluated at. Both are created on first use. Computing
 * a period replaces its rule tags and keeps its manual ones; a mutually exclusive group holding two tags for
 * one member stops the write (nothing is kept) with an error naming the member and the two tags.
 * @module
 */
import type { Clock } from '../../core/clock.js'
import { InputError, NotFoundError } from '../../core/errors.js'
import { tableExists, type Driver } from '../drivers/driver.js'
import { join, sql } from '../sql/fragment.js'
import { valuesRelation } from '../sql/values.js'
import { requireStores } from './score-stores.js'
import { tagConfigSchema, tagKey, type TagConfig } from './tag-config.js'
import { buildRuleTagsQuery, tagRuleStores } from './tag-rules.js'

export const TAG_SOURCES = ['rule', 'manual'] as const
export type TagSource = (typeof TAG_SOURCES)[number]

/** Creates `member_tags` and `tag_periods` when missing. */
export async function ensureTagTables(driver: Driver): Promise<void> {
  await driver.execute(sql`CREATE TABLE IF NOT EXISTS member_tags (period VARCHAR NOT NULL,
    member_id BIGINT NOT NULL, tag_group VARCHAR NOT NULL, tag VARCHAR NOT NULL, source VARCHAR NOT NULL,
    source_detail VARCHAR, assigned_at TIMESTAMP NOT NULL)`)
  await driver.execute(sql`CREATE TABLE IF NOT EXISTS tag_periods (period VARCHAR NOT NULL,
    as_of VARCHAR NOT NULL, time_zone VARCHAR NOT NULL, definitions VARCHAR NOT NULL, computed_at TIMESTAMP)`)
}

const stamp = (clock: Clock) => clock.now().toISOString().slice(0, 19).replace('T', ' ')

/** Where a period's rules are evaluated: the end of the period as a UTC instant, and the zone it was read in. */
export interface TagPeriod {
  /** `YYYY-MM`. */
  readonly period: string
  /** The end of the period (exclusive), UTC `YYYY-MM-DD HH:MM:SS`. */
  readonly asOf: string
  readonly timeZone: string
}

/** Names the file the definitions came from in errors. */
export interface TagFile {
  readonly config: TagConfig
  readonly file: string
}

async function recordPeriod(
  driver: Driver,
  p: TagPeriod,
  config: TagConfig,
  computedAt: string | null,
): Promise<void> {
  const old = await driver.first<{ computedAt: string | null }>(
    sql`SELECT CAST(computed_at AS VARCHAR) AS computed_at FROM tag_periods WHERE period = ${p.period}`,
  )
  await driver.execute(sql`DELETE FROM tag_periods WHERE period = ${p.period}`)
  const at = computedAt ?? old?.computedAt ?? null
  await driver.execute(sql`INSERT INTO tag_periods VALUES (${p.period}, ${p.asOf}, ${p.timeZone},
    ${JSON.stringify(config)}, ${at === null ? sql`NULL` : sql`CAST(${at} AS TIMESTAMP)`})`)
}

/** Throws when a member holds two tags of a mutually exclusive group in the period. */
async function checkExclusive(
  driver: Driver,
  period: string,
  { config, file }: TagFile,
): Promise<void> {
  const exclusive = config.groups.filter((g) => g.exclusive).map((g) => g.id)
  if (exclusive.length === 0) return
  const rows = await driver.all<{
    memberId: bigint
    tagGroup: string
    tagA: string
    tagB: string
    sourceA: string
    sourceB: string
    n: bigint
  }>(sql`SELECT member_id, tag_group, min(tag) AS tag_a, max(tag) AS tag_b,
      min(CASE WHEN source = 'manual' THEN concat('manual, ', coalesce(source_detail, '')) ELSE source END) AS source_a,
      max(CASE WHEN source = 'manual' THEN concat('manual, ', coalesce(source_detail, '')) ELSE source END) AS source_b,
      count(*) OVER () AS n
    FROM member_tags WHERE period = ${period} AND tag_group IN (${join(exclusive)})
    GROUP BY member_id, tag_group HAVING count(DISTINCT tag) > 1
    ORDER BY member_id, tag_group LIMIT 5`)
  const first = rows[0]
  if (first === undefined) return
  const index = config.groups.findIndex((g) => g.id === first.tagGroup)
  const issues = rows.map((r) => ({
    file,
    field: `groups.${index}.exclusive`,
    value: `member ${r.memberId}`,
    reason: `group ${r.tagGroup} is mutually exclusive, but member ${r.memberId} has two of its tags in ${period}: ${tagKey(r.tagGroup, r.tagA)} and ${tagKey(r.tagGroup, r.tagB)} (${r.sourceA === r.sourceB ? `both ${r.sourceA}` : `${r.sourceA}; ${r.sourceB}`})`,
  }))
  const total = Number(first.n)
  throw new InputError(
    `${file}: ${issues[0]?.reason ?? ''}${total > 1 ? ` (and ${total - 1} more members)` : ''}`,
    issues,
    total,
  )
}

export interface TagCount {
  readonly group: string
  readonly tag: string
  readonly members: number
}

/** The result of computing or importing a period. */
export interface TagWrite {
  readonly period: string
  readonly asOf: string
  /** Members registered by the end of the period (the denominator of shares). */
  readonly baseMembers: number
  readonly counts: readonly TagCount[]
}

/**
 * Evaluates the rule tags of `config` at the end of `period` and stores them, replacing that period's earlier
 * rule tags (manual ones stay). Throws before writing anything when a store a rule reads is missing, and
 * rolls back when an exclusive group is broken.
 */
export async function computeTags(
  driver: Driver,
  tags: TagFile,
  p: TagPeriod,
  clock: Clock,
): Promise<TagWrite> {
  const config = tagConfigSchema.parse(tags.config)
  await requireStores(driver, tagRuleStores(config))
  await ensureTagTables(driver)
  const now = stamp(clock)
  const query = buildRuleTagsQuery(driver.dialect, config, p.asOf)
  await driver.transaction(async () => {
    await driver.execute(
      sql`DELETE FROM member_tags WHERE period = ${p.period} AND source = 'rule'`,
    )
    if (query !== undefined)
      await driver.execute(sql`INSERT INTO member_tags
        SELECT ${p.period}, member_id, tag_group, tag, 'rule', NULL, CAST(${now} AS TIMESTAMP) FROM (${query}) q`)
    await recordPeriod(driver, p, config, now)
    await checkExclusive(driver, p.period, { config, file: tags.file })
  })
  return summarise(driver, p)
}

/** One manual tag from a file: the member it was resolved to and where it was read. */
export interface ManualTag {
  readonly memberId: number | bigint
  readonly group: string
  readonly tag: string
  readonly file: string
  readonly line: number
}

/**
 * Stores manual tags for `period` (a tag already held by the member from a manual import is kept once). Each
 * tag must be defined in `config` without a rule; the period's definitions become `config`'s.
 */
export async function importManualTags(
  driver: Driver,
  tags: TagFile,
  p: TagPeriod,
  rows: readonly ManualTag[],
  clock: Clock,
): Promise<TagWrite> {
  const config = tagConfigSchema.parse(tags.config)
  for (const r of rows) {
    const group = config.groups.find((g) => g.id === r.group)
    const tag = group?.tags.find((t) => t.id === r.tag)
    const problem =
      group === undefined
        ? `no group ${r.group} in ${tags.file}`
        : tag === undefined
          ? `group ${r.group} of ${tags.file} has no tag ${r.tag}`
          : tag.when !== undefined
            ? `${tagKey(r.group, r.tag)} is computed by a rule; manual tags are the ones defined without \`when\``
            : undefined
    if (problem !== undefined)
      throw InputError.single({
        file: r.file,
        line: r.line,
        field: 'tag',
        value: tagKey(r.group, r.tag),
        reason: problem,
      })
  }
  await ensureTagTables(driver)
  const now = stamp(clock)
  await driver.transaction(async () => {
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500)
      const rel = valuesRelation(
        'x',
        ['member_id', 'tag_group', 'tag', 'source_detail'],
        chunk.map((r) => [
          sql`CAST(${BigInt(r.memberId)} AS BIGINT)`,
          r.group,
          r.tag,
          `${r.file}:${r.line}`,
        ]),
      )
      await driver.execute(sql`INSERT INTO member_tags
        SELECT ${p.period}, x.member_id, x.tag_group, x.tag, 'manual', min(x.source_detail), CAST(${now} AS TIMESTAMP)
        FROM ${rel}
        WHERE NOT EXISTS (SELECT 1 FROM member_tags t WHERE t.period = ${p.period} AND t.member_id = x.member_id
          AND t.tag_group = x.tag_group AND t.tag = x.tag AND t.source = 'manual')
        GROUP BY x.member_id, x.tag_group, x.tag`)
    }
    await recordPeriod(driver, p, config, null)
    await checkExclusive(driver, p.period, tags)
  })
  return summarise(driver, p)
}

async function summarise(driver: Driver, p: TagPeriod): Promise<TagWrite> {
  const base = await driver.first<{ n: bigint }>(
    sql`SELECT count(*) AS n FROM members WHERE registered_at < CAST(${p.asOf} AS TIMESTAMP)`,
  )
  const counts = await driver.all<{ tagGroup: string; tag: string; members: bigint }>(
    sql`SELECT tag_group, tag, count(DISTINCT member_id) AS members FROM member_tags
      WHERE period = ${p.period} GROUP BY tag_group, tag ORDER BY tag_group, tag`,
  )
  return {
    period: p.period,
    asOf: p.asOf,
    baseMembers: Number(base?.n ?? 0),
    counts: counts.map((c) => ({ group: c.tagGroup, tag: c.tag, members: Number(c.members) })),
  }
}

/** A stored period: its definitions and when its rules were last computed. */
export interface StoredTagPeriod extends TagPeriod {
  readonly config: TagConfig
  readonly computedAt: string | null
}

/** Every stored period, newest first (none when tags were never computed). */
export async function listTagPeriods(driver: Driver): Promise<StoredTagPeriod[]> {
  if (!(await tableExists(driver, 'tag_periods'))) return []
  const rows = await driver.all<{
    period: string
    asOf: string
    timeZone: string
    definitions: string
    computedAt: string | null
  }>(sql`SELECT period, as_of, time_zone, definitions, CAST(computed_at AS VARCHAR) AS computed_at
    FROM tag_periods ORDER BY period DESC`)
  return rows.map((r) => ({
    period: r.period,
    asOf: r.asOf,
    timeZone: r.timeZone,
    config: tagConfigSchema.parse(JSON.parse(r.definitions)),
    computedAt: r.computedAt,
  }))
}

/** A stored period (the latest without `period`); NotFoundError when there is none. */
export async function getTagPeriod(driver: Driver, period?: string): Promise<StoredTagPeriod> {
  const all = await listTagPeriods(driver)
  const found = period === undefined ? all[0] : all.find((p) => p.period === period)
  if (found === undefined)
    throw new NotFoundError(
      all.length === 0
        ? 'no member tags yet: run `memberlens tags compute --config FILE --period YYYY-MM` first'
        : `no tags for period ${period ?? ''}; stored periods: ${all.map((p) => p.period).join(', ')}`,
    )
  return found
}

/** Tag counts of a stored period, with the members registered by its end. */
export async function getTagCounts(
  driver: Driver,
  period?: string,
): Promise<TagWrite & { readonly config: TagConfig }> {
  const p = await getTagPeriod(driver, period)
  return { ...(await summarise(driver, p)), config: p.config }
}

/** One tag a member holds. */
export interface MemberTag {
  readonly period: string
  readonly group: string
  readonly tag: string
  readonly source: TagSource
  readonly sourceDetail: string | null
}

/** Every tag a member has held, newest period first. */
export async function getMemberTags(
  driver: Driver,
  memberId: number | bigint,
): Promise<MemberTag[]> {
  if (!(await tableExists(driver, 'member_tags'))) return []
  const rows = await driver.all<{
    period: string
    tagGroup: string
    tag: string
    source: TagSource
    sourceDetail: string | null
  }>(sql`SELECT period, tag_group, tag, source, source_detail FROM member_tags
    WHERE member_id = ${BigInt(memberId)} ORDER BY period DESC, tag_group, tag, source`)
  return rows.map((r) => ({
    period: r.period,
    group: r.tagGroup,
    tag: r.tag,
    source: r.source,
    sourceDetail: r.sourceDetail,
  }))
}

/** A group's or tag's name in both languages: `name` (Chinese) and `name_en` (English; `name` without one). */
export function tagNames(x: { name: string; name_en?: string | undefined }): {
  en: string
  zh: string
} {
  return { en: x.name_en ?? x.name, zh: x.name }
}

/** A member's tags with the names of the definitions of each tag's period (ids when a tag is no longer defined). */
export async function getMemberTagsNamed(
  driver: Driver,
  memberId: number | bigint,
): Promise<
  Array<MemberTag & { groupName: { en: string; zh: string }; tagName: { en: string; zh: string } }>
> {
  const held = await getMemberTags(driver, memberId)
  if (held.length === 0) return []
  const configs = new Map((await listTagPeriods(driver)).map((p) => [p.period, p.config]))
  return held.map((h) => {
    const group = configs.get(h.period)?.groups.find((g) => g.id === h.group)
    const tag = group?.tags.find((t) => t.id === h.tag)
    return {
      ...h,
      groupName: group === undefined ? { en: h.group, zh: h.group } : tagNames(group),
      tagName: tag === undefined ? { en: h.tag, zh: h.tag } : tagNames(tag),
    }
  })
}
