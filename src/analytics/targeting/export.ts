/**
 * The chosen members as a contact list for campaign tools: their offer and its expected figures, then the
 * identity and consent columns of `segments export` and `risk export` (first-seen identity per type,
 * phones in E.164 with `+`, consent false when unknown), as CSV or JSON Lines.
 * @module
 */
import type { DuckDbDriver } from '../../duckdb/driver.js'
import type { IdentityType } from '../../core/schema.js'
import { EXPORT_COLUMNS, pickIdentity } from '../../engine/segments/segment-export.js'
import { sql } from '../../engine/sql/fragment.js'
import type { TargetRow } from './targeting.js'

export const TARGET_EXPORT_FORMATS = ['csv', 'jsonl'] as const
export type TargetExportFormat = (typeof TARGET_EXPORT_FORMATS)[number]

/** Columns of a target export: the offer and its figures, then the contact columns of the other exports. */
export const TARGET_EXPORT_COLUMNS = [
  'member_id',
  'arm',
  'uplift',
  'order_value',
  'expected_cost',
  'expected_net',
  ...EXPORT_COLUMNS.slice(1),
] as const
export type TargetExportRow = Record<
  (typeof TARGET_EXPORT_COLUMNS)[number],
  string | number | boolean | null
>

const IDENTITIES = EXPORT_COLUMNS.filter((c) => !c.startsWith('consent_') && c !== 'member_id')

/** The contact rows of `rows` (same order), identities and consent from the member database. */
export async function getTargetExportRows(
  driver: DuckDbDriver,
  rows: readonly TargetRow[],
): Promise<TargetExportRow[]> {
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE target_list (member_id BIGINT)`)
  await driver.append('target_list', [{ type: 'bigint', values: rows.map((r) => r.memberId) }])
  const pick = (type: IdentityType) => pickIdentity(sql`i`, type)
  const contacts = await driver.all<Record<string, unknown>>(
    sql`WITH i AS (
        SELECT member_id, identity_type, identity_value,
          row_number() OVER (PARTITION BY member_id, identity_type
            ORDER BY first_seen_at NULLS LAST, identity_value) AS rn
        FROM identities WHERE member_id IN (SELECT member_id FROM target_list))
      SELECT t.member_id::DOUBLE AS member_id, ${pick('phone')} AS phone, ${pick('email')} AS email,
        ${pick('wechat_unionid')} AS wechat_unionid, ${pick('app_user_id')} AS app_user_id,
        ${pick('card_no')} AS card_no, ${pick('pos_customer_id')} AS pos_customer_id,
        ${pick('customer_id')} AS customer_id,
        coalesce(m.consent_sms, FALSE) AS consent_sms, coalesce(m.consent_email, FALSE) AS consent_email,
        coalesce(m.consent_wechat, FALSE) AS consent_wechat, coalesce(m.consent_push, FALSE) AS consent_push
      FROM target_list t LEFT JOIN members m ON m.member_id = t.member_id
        LEFT JOIN i ON i.member_id = t.member_id
      GROUP BY t.member_id, m.consent_sms, m.consent_email, m.consent_wechat, m.consent_push`,
  )
  await driver.execute(sql`DROP TABLE IF EXISTS target_list`)
  const byId = new Map(contacts.map((c) => [c.memberId as number, c]))
  return rows.map((r) => {
    const c = byId.get(r.memberId) ?? {}
    const out = {
      member_id: r.memberId,
      arm: r.arm,
      uplift: round(r.uplift, 4),
      order_value: round(r.orderValue, 2),
      expected_cost: round(r.cost, 2),
      expected_net: round(r.net, 2),
    } as TargetExportRow
    for (const col of EXPORT_COLUMNS.slice(1)) {
      const v = c[col.replace(/_([a-z])/g, (_, x: string) => x.toUpperCase())]
      out[col] = (v as string | boolean | null | undefined) ?? null
    }
    return out
  })
}

function round(v: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(v * f) / f
}

/** The row with every identity blanked, for readers who may not see personal data (member_id stays). */
export function targetRowWithoutIdentities(row: TargetExportRow): TargetExportRow {
  const out = { ...row }
  for (const t of IDENTITIES) out[t] = null
  return out
}

function csvCell(v: string | number | boolean | null): string {
  if (v === null) return ''
  const s = String(v)
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/** CSV (RFC 4180, header, CRLF) or JSON Lines. */
export function formatTargetExport(
  rows: readonly TargetExportRow[],
  format: TargetExportFormat,
): string {
  if (format === 'jsonl') return rows.map((r) => `${JSON.stringify(r)}\n`).join('')
  const lines = [
    TARGET_EXPORT_COLUMNS.join(','),
    ...rows.map((r) => TARGET_EXPORT_COLUMNS.map((c) => csvCell(r[c])).join(',')),
  ]
  return `${lines.join('\r\n')}\r\n`
}
