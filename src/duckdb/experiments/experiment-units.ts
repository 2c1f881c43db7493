/**
 * Units of analysis for experiments and campaigns: one row per member with its arm and its start time t0,
 * as a fragment with the columns (member_id, arm_name, t0) that {@link memberOutcomes} reads.
 * @module
 */
import type { DuckDbDriver } from '../driver.js'
import { sql, type Fragment } from '../../engine/sql/fragment.js'

/** Members of one experiment: arm = variant, t0 = assigned_at. */
export function experimentUnits(experimentId: string): Fragment {
  return sql`SELECT member_id, variant AS arm_name, assigned_at AS t0
    FROM experiments WHERE experiment_id = ${experimentId}`
}

/**
 * Members of one campaign: arm = treatment_group of the member's first touch, t0 = the campaign's first
 * send (min sent_at), the same for every member so that the treatment and the holdout are observed over the
 * same calendar window (holdout rows carry the assignment time, treatment rows the send time).
 */
export function campaignUnits(campaignId: string): Fragment {
  return sql`SELECT member_id, arg_min(treatment_group, sent_at) AS arm_name,
      (SELECT min(sent_at) FROM touches WHERE campaign_id = ${campaignId}) AS t0
    FROM touches WHERE campaign_id = ${campaignId} GROUP BY member_id`
}

/**
 * The campaign's touched members (arm `treatment`) and every other member registered before the campaign
 * started who was not in it (arm `pool`), all with t0 = the campaign's first send: the candidates for a
 * matched comparison when the campaign has no holdout.
 */
export function campaignPoolUnits(campaignId: string): Fragment {
  return sql`WITH c AS (SELECT min(sent_at) AS t0 FROM touches WHERE campaign_id = ${campaignId}),
      t AS (SELECT DISTINCT member_id FROM touches
            WHERE campaign_id = ${campaignId} AND treatment_group = 'treatment')
    SELECT m.member_id, CASE WHEN t.member_id IS NULL THEN 'pool' ELSE 'treatment' END AS arm_name, c.t0
    FROM members m CROSS JOIN c LEFT JOIN t ON t.member_id = m.member_id
    WHERE m.registered_at < c.t0
      AND (t.member_id IS NOT NULL OR m.member_id NOT IN
        (SELECT member_id FROM touches WHERE campaign_id = ${campaignId} AND member_id IS NOT NULL))`
}

/** One experiment in the table. */
export interface ExperimentListing {
  readonly experimentId: string
  readonly members: number
  readonly variants: readonly { readonly variant: string; readonly members: number }[]
  readonly firstAssigned: string
  readonly lastAssigned: string
}

/** Every experiment with its variants and assignment period, by first assignment. */
export async function listExperimentRows(driver: DuckDbDriver): Promise<ExperimentListing[]> {
  const rows = await driver.all<{
    experimentId: string
    variant: string
    members: number | bigint
    firstAssigned: string
    lastAssigned: string
  }>(sql`SELECT experiment_id, variant, count(*) AS members,
      strftime(min(assigned_at), '%Y-%m-%dT%H:%M:%SZ') AS first_assigned,
      strftime(max(assigned_at), '%Y-%m-%dT%H:%M:%SZ') AS last_assigned
    FROM experiments GROUP BY experiment_id, variant ORDER BY experiment_id, variant`)
  const out = new Map<
    string,
    { variants: { variant: string; members: number }[]; first: string; last: string }
  >()
  for (const r of rows) {
    const e = out.get(r.experimentId) ?? {
      variants: [],
      first: r.firstAssigned,
      last: r.lastAssigned,
    }
    e.variants.push({ variant: r.variant, members: Number(r.members) })
    if (r.firstAssigned < e.first) e.first = r.firstAssigned
    if (r.lastAssigned > e.last) e.last = r.lastAssigned
    out.set(r.experimentId, e)
  }
  return [...out.entries()]
    .map(([experimentId, e]) => ({
      experimentId,
      members: e.variants.reduce((s, v) => s + v.members, 0),
      variants: e.variants,
      firstAssigned: e.first,
      lastAssigned: e.last,
    }))
    .sort((a, b) => a.firstAssigned.localeCompare(b.firstAssigned))
}

/** A campaign in the touches table with its arms. */
export interface CampaignListing {
  readonly campaignId: string
  readonly kind: string
  readonly treatment: number
  readonly holdout: number
  readonly firstSent: string
  readonly cost: number
}

/** Campaign ids, kinds and arm sizes (members), newest first. */
export async function listCampaignRows(driver: DuckDbDriver): Promise<CampaignListing[]> {
  const rows = await driver.all<{
    campaignId: string
    kind: string
    treatment: number | bigint
    holdout: number | bigint
    firstSent: string
    cost: number
  }>(sql`SELECT campaign_id, min(kind) AS kind,
      count(DISTINCT member_id) FILTER (WHERE treatment_group = 'treatment') AS treatment,
      count(DISTINCT member_id) FILTER (WHERE treatment_group = 'holdout') AS holdout,
      strftime(min(sent_at), '%Y-%m-%dT%H:%M:%SZ') AS first_sent, coalesce(sum(cost), 0)::DOUBLE AS cost
    FROM touches GROUP BY campaign_id ORDER BY min(sent_at) DESC`)
  return rows.map((r) => ({ ...r, treatment: Number(r.treatment), holdout: Number(r.holdout) }))
}
