/**
 * One member's timeline for Member 360: orders, returns, feedback, campaign touches, behaviour events (one row
 * per day, with the event types of that day) and, once the ledger has been synced, points entries — newest
 * first. Feedback texts are left out (they may hold personal data); identities are in the profile.
 * @module
 */
import { tableExists, type Driver } from '../../engine/drivers/driver.js'
import { sql } from '../../engine/sql/fragment.js'

export interface TimelineItem {
  /** UTC instant, ISO 8601. */
  readonly at: string
  readonly kind: 'order' | 'return' | 'feedback' | 'touch' | 'events' | 'points'
  readonly detail: string
  /** Money for orders (+) and returns (−), points for points entries; null otherwise. */
  readonly amount: number | null
  /**
   * The parts of `detail` by name, for a reader in any language: `order_id`, `channel`, `status` (orders);
   * `return_id`, `order_id` (returns); `kind`, `score` (feedback); `campaign_id`, `kind`, `channel`, `group`
   * (touches); `count`, `types` (events); `kind`, `reason` (points). Absent parts are left out.
   */
  readonly facts: Readonly<Record<string, string | number>>
}

/** The member's latest `limit` timeline items. */
export async function getMemberTimeline(
  driver: Driver,
  memberId: number,
  limit = 50,
): Promise<TimelineItem[]> {
  const n = Math.max(1, Math.min(500, Math.trunc(limit)))
  const points = (await tableExists(driver, 'loyalty_entries'))
    ? sql` UNION ALL SELECT occurred_at, 'points', kind || ' · ' || coalesce(reason, ''), CAST(points AS DOUBLE),
          CAST(json_object('kind', kind, 'reason', reason) AS VARCHAR)
        FROM loyalty_entries WHERE member_id = ${memberId}`
    : sql``
  const rows = await driver.all<{
    ts: string
    kind: string
    detail: string
    amount: number | null
    facts: string | null
  }>(
    sql`SELECT strftime(ts, '%Y-%m-%dT%H:%M:%SZ') AS ts, kind, detail, amount, facts FROM (
      SELECT ordered_at AS ts, 'order' AS kind,
        order_id || ' · ' || coalesce(channel, '') || ' · ' || status AS detail, CAST(net_amount AS DOUBLE) AS amount,
        CAST(json_object('order_id', order_id, 'channel', channel, 'status', status) AS VARCHAR) AS facts
        FROM orders WHERE member_id = ${memberId}
      UNION ALL SELECT returned_at, 'return', return_id || coalesce(' · ' || order_id, ''), -CAST(amount AS DOUBLE),
          CAST(json_object('return_id', return_id, 'order_id', order_id) AS VARCHAR)
        FROM returns WHERE member_id = ${memberId}
      UNION ALL SELECT ts, 'feedback', kind || coalesce(' · ' || CAST(score AS VARCHAR), ''), NULL,
          CAST(json_object('kind', kind, 'score', score) AS VARCHAR)
        FROM feedback WHERE member_id = ${memberId}
      UNION ALL SELECT sent_at, 'touch', campaign_id || ' · ' || kind || ' · ' || channel || ' · ' || coalesce(treatment_group, 'treatment'), NULL,
          CAST(json_object('campaign_id', campaign_id, 'kind', kind, 'channel', channel,
            'group', coalesce(treatment_group, 'treatment')) AS VARCHAR)
        FROM touches WHERE member_id = ${memberId}
      UNION ALL SELECT min(ts), 'events', CAST(count(*) AS VARCHAR) || ' × ' || string_agg(DISTINCT event_type, ', ' ORDER BY event_type), NULL,
          CAST(json_object('count', count(*), 'types', string_agg(DISTINCT event_type, ',' ORDER BY event_type)) AS VARCHAR)
        FROM events WHERE member_id = ${memberId} GROUP BY CAST(ts AS DATE)${points}
    ) t ORDER BY ts DESC, kind LIMIT ${n}`,
  )
  return rows.map((r) => ({
    at: r.ts,
    kind: r.kind as TimelineItem['kind'],
    detail: r.detail,
    amount: r.amount === null ? null : Number(r.amount),
    facts: factsOf(r.facts),
  }))
}

/** The named parts of a timeline row, without the empty ones. */
function factsOf(json: string | null): Record<string, string | number> {
  if (json === null) return {}
  const out: Record<string, string | number> = {}
  for (const [k, v] of Object.entries(JSON.parse(json) as Record<string, unknown>))
    if (typeof v === 'number' || (typeof v === 'string' && v !== '')) out[k] = v
  return out
}
