/**
 * A churn-class segment for campaign tools: the members of the latest risk scoring in one churn class
 * (DOMAIN §4: price-sensitive → targeted discount, …), with the identities SMS, email, WeChat and push
 * tools address them by and their consent flags, as CSV or JSON Lines.
 *
 * When a member has several identities of one type, the export carries the one seen first (ties by
 * value), the rule of `segments export`, so repeated exports are identical. Phones are written in E.164 with
 * `+`, and the source ids (card, POS customer id, customer id) are included, so that the file loads back
 * with `memberlens ingest members` as the same members.
 * @module
 */
import type { DuckDbDriver } from '../../duckdb/driver.js'
import type { IdentityType } from '../../core/schema.js'
import { pickIdentity } from '../../engine/segments/segment-export.js'
import { join, sql } from '../../engine/sql/fragment.js'
import { getRun } from '../clv/store.js'
import type { ChurnClass } from './early-warning.js'

export const RISK_EXPORT_FORMATS = ['csv', 'jsonl'] as const
export type RiskExportFormat = (typeof RISK_EXPORT_FORMATS)[number]

/** Columns of a risk export, in order. */
export const RISK_EXPORT_COLUMNS = [
  'member_id',
  'score',
  'churn_class',
  'playbook',
  'reasons',
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
export type RiskExportColumn = (typeof RISK_EXPORT_COLUMNS)[number]
export type RiskExportRow = Record<RiskExportColumn, string | number | boolean | null>

const EXPORTED_IDENTITIES: readonly IdentityType[] = [
  'phone',
  'email',
  'wechat_unionid',
  'app_user_id',
  'card_no',
  'pos_customer_id',
  'customer_id',
]

/** Options of {@link getRiskExportRows}. */
export interface RiskExportOptions {
  readonly churnClass: ChurnClass
  /** Only members scoring at least this. Default 0 (the whole class). */
  readonly minScore?: number
  /** At most this many members, highest score first. Default all. */
  readonly top?: number
}

/**
 * Members of one churn class in the latest `risk-score` run, highest score first, with their first-seen
 * phone (E.164), email, WeChat unionid, app user id, card number, POS customer id and customer id and their
 * consent flags (false when unknown).
 * @example
 * const { rows } = await getRiskExportRows(db.driver, { churnClass: 'price-sensitive' })
 * process.stdout.write(formatRiskExport(rows, 'csv'))
 */
export async function getRiskExportRows(
  driver: DuckDbDriver,
  options: RiskExportOptions,
): Promise<{ runId: string; rows: RiskExportRow[] }> {
  const run = await getRun(driver, 'risk-score')
  const pick = (type: IdentityType) => pickIdentity(sql`i`, type)
  const rows = await driver.all<Record<string, unknown>>(
    sql`WITH seg AS (
        SELECT member_id, score, churn_class, playbook, reasons FROM risk_scores
        WHERE run_id = ${run.runId} AND churn_class = ${options.churnClass} AND score >= ${options.minScore ?? 0}
        ORDER BY score DESC, member_id
        ${options.top === undefined ? sql`` : sql`LIMIT ${options.top}`}
      ),
      i AS (
        SELECT member_id, identity_type, identity_value,
          row_number() OVER (PARTITION BY member_id, identity_type
            ORDER BY first_seen_at NULLS LAST, identity_value) AS rn
        FROM identities
        WHERE member_id IN (SELECT member_id FROM seg)
          AND identity_type IN (${join(EXPORTED_IDENTITIES.map((t) => sql`${t}`))})
      )
      SELECT seg.member_id::DOUBLE AS member_id, seg.score, seg.churn_class, seg.playbook, seg.reasons,
        ${pick('phone')} AS phone, ${pick('email')} AS email, ${pick('wechat_unionid')} AS wechat_unionid,
        ${pick('app_user_id')} AS app_user_id, ${pick('card_no')} AS card_no,
        ${pick('pos_customer_id')} AS pos_customer_id, ${pick('customer_id')} AS customer_id,
        coalesce(m.consent_sms, FALSE) AS consent_sms, coalesce(m.consent_email, FALSE) AS consent_email,
        coalesce(m.consent_wechat, FALSE) AS consent_wechat, coalesce(m.consent_push, FALSE) AS consent_push
      FROM seg LEFT JOIN members m ON m.member_id = seg.member_id LEFT JOIN i ON i.member_id = seg.member_id
      GROUP BY seg.member_id, seg.score, seg.churn_class, seg.playbook, seg.reasons,
        m.consent_sms, m.consent_email, m.consent_wechat, m.consent_push
      ORDER BY seg.score DESC, seg.member_id`,
  )
  return {
    runId: run.runId,
    rows: rows.map((r) => {
      const out = {} as RiskExportRow
      for (const c of RISK_EXPORT_COLUMNS) {
        const v = r[c.replace(/_([a-z])/g, (_, x: string) => x.toUpperCase())]
        out[c] = (v as string | number | boolean | null | undefined) ?? null
      }
      return out
    }),
  }
}

/** The row with every identity blanked, for readers who may not see personal data (member_id stays). */
export function withoutIdentities(row: RiskExportRow): RiskExportRow {
  const out = { ...row }
  for (const t of EXPORTED_IDENTITIES) out[t] = null
  return out
}

function csvCell(v: string | number | boolean | null): string {
  if (v === null) return ''
  const s = String(v)
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/** Formats rows as CSV (RFC 4180, with a header, CRLF) or JSON Lines, with `columns` (default all). */
export function formatRiskExport(
  rows: readonly RiskExportRow[],
  format: RiskExportFormat,
  columns: readonly RiskExportColumn[] = RISK_EXPORT_COLUMNS,
): string {
  if (format === 'jsonl')
    return rows
      .map((r) => `${JSON.stringify(Object.fromEntries(columns.map((c) => [c, r[c]])))}\n`)
      .join('')
  const lines = [columns.join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))]
  return `${lines.join('\r\n')}\r\n`
}
