/**
 * The hand-off to marketing automation: a segment's members with the identities SMS, email, WeChat and push
 * tools address them by, and their consent flags, as CSV or JSON Lines.
 *
 * When a member has several identities of one type (two phones after a merge), the export carries the one
 * seen first (ties by value), so repeated exports are identical. Phones are in E.164 with `+` and the source
 * ids (card, POS customer id, customer id) are included, so that the file loads back with
 * `memberlens ingest members` as the same members.
 * @module
 */
import type { IdentityType } from '../../core/schema.js'
import type { Driver } from '../drivers/driver.js'
import type { SqlDialect } from '../dialects/dialect.js'
import { sql, type Fragment } from '../sql/fragment.js'
import { buildSegmentMembersQuery, checkSegmentStores } from './segment-members.js'
import type { SegmentFilter } from './segment-schema.js'

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/** Columns of an export, in order. */
export const EXPORT_COLUMNS = [
  'member_id',
  'phone',
  'email',
  'wechat_unionid',
  'app_user_id',
  'card_no',
  'pos_customer_id',
  'customer_id',
  'consent_sms',
  'consent_email',
  'consent_wechat',
  'consent_push',
] as const

/**
 * The first-seen identity of one type in an aggregate over identities ranked per member and type (`rn`).
 * Phones are stored as E.164 digits and written with their `+`, which every default country reads back as
 * the same number (without it, `14155552671` would read as a Chinese national number).
 */
export function pickIdentity(alias: Fragment, type: IdentityType): Fragment {
  const value =
    type === 'phone' ? sql`'+' || ${alias}.identity_value` : sql`${alias}.identity_value`
  return sql`max(CASE WHEN ${alias}.identity_type = ${type} AND ${alias}.rn = 1 THEN ${value} END)`
}

/** One row per member of the segment, ordered by member_id. */
export function buildSegmentExportQuery(
  dialect: SqlDialect,
  filter: SegmentFilter,
  defaultAsOf: string,
): Fragment {
  const pick = (type: IdentityType) => pickIdentity(sql`i`, type)
  return sql`WITH seg AS (${buildSegmentMembersQuery(dialect, filter, defaultAsOf)}),
    i AS (
      SELECT member_id, identity_type, identity_value,
        row_number() OVER (PARTITION BY member_id, identity_type ORDER BY first_seen_at NULLS LAST, identity_value) AS rn
      FROM identities WHERE member_id IN (SELECT member_id FROM seg)
    )
    SELECT m.member_id, ${pick('phone')} AS phone, ${pick('email')} AS email, ${pick('wechat_unionid')} AS wechat_unionid,
      ${pick('app_user_id')} AS app_user_id, ${pick('card_no')} AS card_no,
      ${pick('pos_customer_id')} AS pos_customer_id, ${pick('customer_id')} AS customer_id,
      coalesce(m.consent_sms, FALSE) AS consent_sms, coalesce(m.consent_email, FALSE) AS consent_email,
      coalesce(m.consent_wechat, FALSE) AS consent_wechat, coalesce(m.consent_push, FALSE) AS consent_push
    FROM members m JOIN seg ON seg.member_id = m.member_id LEFT JOIN i ON i.member_id = m.member_id
    GROUP BY m.member_id, m.consent_sms, m.consent_email, m.consent_wechat, m.consent_push
    ORDER BY m.member_id`
}

export type ExportRow = Record<(typeof EXPORT_COLUMNS)[number], string | number | boolean | null>

/** The export rows (camelCase from the driver mapped back to the snake_case column names). */
export async function getSegmentExportRows(
  driver: Driver,
  filter: SegmentFilter,
  defaultAsOf: string,
): Promise<ExportRow[]> {
  await checkSegmentStores(driver, filter)
  const rows = await driver.all(buildSegmentExportQuery(driver.dialect, filter, defaultAsOf))
  return rows.map((r) => {
    const out = {} as ExportRow
    for (const c of EXPORT_COLUMNS) {
      const v = r[c.replace(/_([a-z])/g, (_, x: string) => x.toUpperCase())]
      out[c] =
        typeof v === 'bigint'
          ? Number(v)
          : ((v as string | number | boolean | null | undefined) ?? null)
    }
    return out
  })
}

function csvCell(v: string | number | boolean | null): string {
  if (v === null) return ''
  const s = String(v)
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/** Formats rows as CSV (RFC 4180, with a header) or JSON Lines, with `columns` (default all). */
export function formatExport(
  rows: readonly ExportRow[],
  format: ExportFormat,
  columns: readonly (typeof EXPORT_COLUMNS)[number][] = EXPORT_COLUMNS,
): string {
  if (format === 'jsonl')
    return rows
      .map((r) => `${JSON.stringify(Object.fromEntries(columns.map((c) => [c, r[c]])))}\n`)
      .join('')
  const lines = [columns.join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))]
  return `${lines.join('\r\n')}\r\n`
}
