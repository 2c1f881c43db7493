/**
 * A segment filter as SQL: `SELECT member_id` of every member matching all its conditions.
 * @module
 */
import { regionWritings } from '../../core/regions.js'
import { ident, join, sql, type Fragment } from '../sql/fragment.js'
import { buildCohortCellMembersQuery } from '../cohorts/cohort-cell-members.js'
import type { SqlDialect } from '../dialects/dialect.js'
import { normaliseInstant, timestampParam } from '../cohorts/time-sql.js'
import { lifecycleConfigSchema } from '../lifecycle/lifecycle-config.js'
import { buildStageMembersQuery } from '../lifecycle/lifecycle-stages.js'
import { rfmConfigSchema } from '../rfm/rfm-config.js'
import { buildRfmSegmentMembersQuery } from '../rfm/rfm-scores.js'
import type { Driver } from '../drivers/driver.js'
import {
  latestClvScores,
  latestRiskScores,
  requireStores,
  type ScoreStore,
} from '../tags/score-stores.js'
import { splitTagKey } from '../tags/tag-config.js'
import type { SegmentFilter } from './segment-schema.js'

const CONSENT_COLUMNS = {
  sms: 'consent_sms',
  email: 'consent_email',
  wechat: 'consent_wechat',
  push: 'consent_push',
} as const

/**
 * @param defaultAsOf the instant used by lifecycle and RFM conditions that do not name their own `asOf`.
 */
export function buildSegmentMembersQuery(
  dialect: SqlDialect,
  filter: SegmentFilter,
  defaultAsOf: string,
): Fragment {
  const where: Fragment[] = [sql`TRUE`]
  const inList = (column: string, list: readonly string[] | undefined) => {
    if (list !== undefined) where.push(sql`m.${ident(column)} IN (${join([...list])})`)
  }
  inList('registration_channel', filter.registrationChannel)
  // A province named in English matches the ways Chinese data writes it (Zhejiang → 浙江, 浙江省).
  inList(
    'region',
    filter.region?.flatMap((r) => regionWritings(r) ?? [r]),
  )
  inList('city', filter.city)
  inList('gender', filter.gender)
  if (filter.registeredFrom !== undefined)
    where.push(sql`m.registered_at >= ${timestampParam(normaliseInstant(filter.registeredFrom))}`)
  if (filter.registeredTo !== undefined)
    where.push(sql`m.registered_at < ${timestampParam(normaliseInstant(filter.registeredTo))}`)
  for (const [key, value] of Object.entries(filter.attributes ?? {})) {
    where.push(sql`${dialect.jsonText(sql`m.attributes`, key)} = ${String(value)}`)
  }
  for (const [channel, wanted] of Object.entries(filter.consent ?? {})) {
    const column = CONSENT_COLUMNS[channel as keyof typeof CONSENT_COLUMNS]
    if (wanted === undefined) continue
    where.push(
      wanted ? sql`m.${ident(column)} = TRUE` : sql`coalesce(m.${ident(column)}, FALSE) = FALSE`,
    )
  }
  if (filter.lifecycle !== undefined) {
    const config = lifecycleConfigSchema.parse(filter.lifecycle.config ?? {})
    const q = buildStageMembersQuery(
      filter.lifecycle.asOf ?? defaultAsOf,
      config,
      filter.lifecycle.stages,
    )
    where.push(sql`m.member_id IN (${q})`)
  }
  if (filter.rfm !== undefined) {
    const config = rfmConfigSchema.parse(filter.rfm.config ?? {})
    const q = buildRfmSegmentMembersQuery(
      filter.rfm.asOf ?? defaultAsOf,
      config,
      filter.rfm.segments,
    )
    where.push(sql`m.member_id IN (${q})`)
  }
  if (filter.cohort !== undefined) {
    where.push(sql`m.member_id IN (${buildCohortCellMembersQuery(dialect, filter.cohort)})`)
  }
  if (filter.memberIds !== undefined) where.push(sql`m.member_id IN (${join(filter.memberIds)})`)
  if (filter.tags !== undefined) {
    const period =
      filter.tags.period === undefined
        ? sql`(SELECT max(period) FROM member_tags)`
        : sql`${filter.tags.period}`
    const byGroup = new Map<string, string[]>()
    for (const key of filter.tags.include) {
      const t = splitTagKey(key)
      if (t !== undefined) byGroup.set(t.group, [...(byGroup.get(t.group) ?? []), t.tag])
    }
    for (const [group, tags] of byGroup)
      where.push(sql`m.member_id IN (SELECT member_id FROM member_tags WHERE period = ${period}
        AND tag_group = ${group} AND tag IN (${join(tags)}))`)
  }
  const scoreRange = (
    column: string,
    r: { min?: number | undefined; max?: number | undefined },
  ) => [
    ...(r.min === undefined ? [] : [sql`${ident('s', column)} >= ${r.min}`]),
    ...(r.max === undefined ? [] : [sql`${ident('s', column)} <= ${r.max}`]),
  ]
  if (filter.risk !== undefined) {
    const conds = [
      ...(filter.risk.classes === undefined
        ? []
        : [sql`s.churn_class IN (${join([...filter.risk.classes])})`]),
      ...scoreRange('score', filter.risk),
    ]
    where.push(
      sql`m.member_id IN (SELECT member_id FROM (${latestRiskScores()}) s WHERE ${join(conds, ' AND ')})`,
    )
  }
  if (filter.clv !== undefined || filter.pAlive !== undefined) {
    const conds = [
      ...(filter.clv === undefined ? [] : scoreRange('clv', filter.clv)),
      ...(filter.pAlive === undefined ? [] : scoreRange('p_alive', filter.pAlive)),
    ]
    where.push(
      sql`m.member_id IN (SELECT member_id FROM (${latestClvScores()}) s WHERE ${join(conds, ' AND ')})`,
    )
  }
  return sql`SELECT m.member_id FROM members m WHERE ${join(where, ' AND ')}`
}

/** The stored scores a filter reads (tags, the latest risk scoring, the latest CLV run). */
export function segmentFilterStores(filter: SegmentFilter): ScoreStore[] {
  return [
    ...(filter.tags === undefined ? [] : ['tags' as const]),
    ...(filter.risk === undefined ? [] : ['risk' as const]),
    ...(filter.clv === undefined && filter.pAlive === undefined ? [] : ['clv' as const]),
  ]
}

/** Throws a NotFoundError naming the command to run when a store the filter reads is missing. */
export async function checkSegmentStores(driver: Driver, filter: SegmentFilter): Promise<void> {
  await requireStores(driver, segmentFilterStores(filter))
}
