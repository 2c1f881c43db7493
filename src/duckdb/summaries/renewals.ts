/**
 * Paid-membership renewals in the form the shifted-beta-geometric model takes: survivors by renewal
 * period, per plan and start cohort, computed inside the engine from the `subscriptions` table (one row
 * per term).
 *
 * Definitions (docs/models.md): a member's subscription to a plan starts with their first term of it (s₀);
 * the member has made r renewals when their first r terms of that plan were renewed (`renewed_at` set, on
 * or before the cutoff) — a later lapse and re-subscription is not counted again. Renewal decision k falls
 * at the end of term k. The cutoff day is inclusive; decision k is observed for a member when
 * s₀ + k terms ≤ the cutoff (the schedule, in calendar months for plans whose median term is at least a
 * month, otherwise in days). A member is churned when decision r + 1 is observed and was no renewal
 * (the term ended without `renewed_at`); otherwise the member is still active, censored after r renewals.
 * The member's horizon K is the number of observed decisions (r when still active).
 *
 * Survivors n_t = members with at least t renewals, for t = 0 … N. For a cohort, N is the smallest horizon
 * of its members, so every count is fully observed (right-censoring at a common time); for fitting,
 * members are grouped by their own horizon K, which uses every observed decision.
 * @module
 */
import { InputError } from '../../core/errors.js'
import type { SqlDialect } from '../../engine/dialects/dialect.js'
import type { DuckDbDriver } from '../driver.js'
import { sql, type Fragment } from '../../engine/sql/fragment.js'
import { parseDay } from '../../engine/summaries/repeat-buying.js'

/** Grain of the start cohorts. */
export type RenewalCohortGrain = 'month' | 'quarter' | 'year'
export const RENEWAL_COHORT_GRAINS: readonly RenewalCohortGrain[] = ['month', 'quarter', 'year']

/** A plan as found in the data. */
export interface RenewalPlan {
  readonly plan: string
  /** Median term in whole months (0 for plans shorter than about half a month). */
  readonly termMonths: number
  /** Median term in days. */
  readonly termDays: number
  /** Median price of a term. */
  readonly price: number
  /** Members who started the plan by the cutoff. */
  readonly subscribers: number
}

/** Survivor counts n₀ ≥ n₁ ≥ … ≥ n_N of one group of members. */
export interface SurvivorGroup {
  readonly plan: string
  /** Start cohort (first day, YYYY-MM-DD) for cohort groups; null for horizon groups. */
  readonly cohort: string | null
  /** n_t for t = 0 … N (N = survivors.length − 1). */
  readonly survivors: readonly number[]
}

/** What {@link renewalSurvivors} returns. */
export interface RenewalSurvivors {
  /** The cutoff day (inclusive). */
  readonly asOf: string
  readonly grain: RenewalCohortGrain
  readonly plans: readonly RenewalPlan[]
  /** Per plan and start cohort, with the cohort's common horizon; ordered by plan, cohort. */
  readonly cohorts: readonly SurvivorGroup[]
  /**
   * Per plan and member horizon K: members observed for exactly K decisions (the fitting input; the
   * sBG likelihood of the plan is the sum over these groups). K = 0 groups are included (they carry no
   * information, but their members are active subscribers). Ordered by plan, K.
   */
  readonly horizons: readonly SurvivorGroup[]
  /** Active subscribers (no observed lapse) by plan, cohort and renewals made so far. */
  readonly active: readonly ActiveSubscribers[]
}

/** Active subscribers of one plan and cohort who have made `renewals` renewals. */
export interface ActiveSubscribers {
  readonly plan: string
  readonly cohort: string
  readonly renewals: number
  readonly members: number
}

/** The last day with a subscription event (start or renewal), or null when the table is empty. */
export async function lastSubscriptionDay(driver: DuckDbDriver): Promise<string | null> {
  const row = await driver.first<{ day: string | null }>(
    sql`SELECT CAST(max(greatest(started_at, coalesce(renewed_at, started_at)))::DATE AS VARCHAR) AS day
      FROM subscriptions WHERE member_id IS NOT NULL`,
  )
  return row?.day ?? null
}

/** Per member and plan: cohort, horizon K and renewals r (≤ K). `c` is the cutoff instant. */
function memberRenewals(
  d: SqlDialect,
  asOf: string,
  grain: RenewalCohortGrain,
  plan: string | null,
): Fragment {
  const c = sql`(CAST(${asOf} AS DATE) + INTERVAL 1 DAY)`
  return sql`terms AS (
      SELECT member_id, plan, started_at, ends_at, renewed_at, price,
        row_number() OVER (PARTITION BY member_id, plan ORDER BY started_at) AS k
      FROM subscriptions
      WHERE member_id IS NOT NULL AND started_at < ${c}
        ${plan === null ? sql`` : sql`AND plan = ${plan}`}
    ),
    lapses AS (
      SELECT *, min(CASE WHEN renewed_at IS NULL OR renewed_at >= ${c} THEN k END)
        OVER (PARTITION BY member_id, plan) AS lapse_k
      FROM terms
    ),
    plans AS (
      SELECT plan, CAST(${d.median(sql`date_diff('day', started_at, ends_at)`)} AS DOUBLE) AS term_days,
        CAST(round(${d.median(sql`date_diff('day', started_at, ends_at)`)} / 30.436875) AS INTEGER) AS term_months,
        CAST(${d.median(sql`price`)} AS DOUBLE) AS price
      FROM terms GROUP BY plan
    ),
    spells AS (
      SELECT member_id, plan, min(started_at) AS s0,
        coalesce(any_value(lapse_k), max(k) + 1) - 1 AS renewals,
        coalesce(bool_or(k = lapse_k AND ends_at <= ${c}), FALSE) AS lapse_observed
      FROM lapses GROUP BY member_id, plan
    ),
    scheduled AS (
      SELECT s.*, p.term_months, p.term_days,
        CASE WHEN p.term_months >= 1
          THEN date_diff('month', s.s0, ${c}) // p.term_months
          ELSE floor(date_diff('second', s.s0, ${c}) / (p.term_days * 86400))::BIGINT END AS k0
      FROM spells s JOIN plans p USING (plan)
    ),
    horizons AS (
      SELECT member_id, plan, s0, renewals, lapse_observed,
        CASE WHEN term_months >= 1 AND s0 + to_months(CAST(k0 * term_months AS INTEGER)) > ${c}
          THEN k0 - 1 ELSE k0 END AS scheduled_k
      FROM scheduled
    ),
    m AS (
      SELECT plan, CAST(date_trunc(${grain}, s0) AS DATE) AS cohort,
        -- A lapse that is not yet observed (its term ends after the cutoff) censors the member at r.
        CASE WHEN renewals < scheduled_k AND NOT lapse_observed THEN renewals
          ELSE greatest(scheduled_k, 0) END AS horizon,
        renewals, lapse_observed
      FROM horizons
    )`
}

/**
 * Survivors by renewal period per plan and start cohort, and per plan and member horizon, at `asOf`
 * (default: the last subscription day). Throws InputError when there is no subscription.
 * @example
 * const s = await renewalSurvivors(db.driver, { asOf: '2026-10-31', grain: 'month' })
 */
export async function renewalSurvivors(
  driver: DuckDbDriver,
  options: { asOf?: string; grain?: RenewalCohortGrain; plan?: string } = {},
): Promise<RenewalSurvivors> {
  const grain = options.grain ?? 'month'
  if (!RENEWAL_COHORT_GRAINS.includes(grain)) {
    throw InputError.single({
      field: 'cohort',
      value: String(grain),
      reason: `one of ${RENEWAL_COHORT_GRAINS.join(', ')}`,
    })
  }
  const asOf = options.asOf ?? (await lastSubscriptionDay(driver))
  if (asOf === null) {
    throw new InputError('no subscriptions with a member in the database: load subscriptions first')
  }
  parseDay(asOf, 'as of')
  const base = memberRenewals(driver.dialect, asOf, grain, options.plan ?? null)
  const plans = await driver.all<{
    plan: string
    termMonths: number
    termDays: number
    price: number
    subscribers: bigint
  }>(
    sql`WITH ${base}
      SELECT p.plan, p.term_months, p.term_days, p.price, count(m.plan) AS subscribers
      FROM plans p LEFT JOIN m USING (plan) GROUP BY ALL ORDER BY p.plan`,
  )
  if (plans.length === 0) {
    throw new InputError(
      options.plan === undefined
        ? `no subscription started by ${asOf}`
        : `no subscription of plan ${JSON.stringify(options.plan)} started by ${asOf}`,
    )
  }
  // n_t = members with r ≥ t, t = 0 … N, for two groupings: start cohort (N = the cohort's smallest
  // horizon, r capped at N) and horizon (N = K).
  const rows = await driver.all<{
    kind: string
    plan: string
    cohort: string | null
    horizon: number
    t: number
    survivors: number
  }>(
    sql`WITH ${base},
      cohorts AS (SELECT plan, cohort, min(horizon) AS n_periods FROM m GROUP BY plan, cohort),
      groups AS (
        SELECT 'cohort' AS kind, plan, cohort, c.n_periods AS horizon, least(renewals, c.n_periods) AS r
        FROM m JOIN cohorts c USING (plan, cohort)
        UNION ALL
        SELECT 'horizon', plan, NULL, horizon, least(renewals, horizon) FROM m
      ),
      hist AS (SELECT kind, plan, cohort, horizon, r, count(*) AS n FROM groups GROUP BY ALL),
      grid AS (
        SELECT kind, plan, cohort, horizon, unnest(range(0, horizon + 1)) AS t
        FROM (SELECT DISTINCT kind, plan, cohort, horizon FROM hist)
      )
      SELECT g.kind, g.plan, CAST(g.cohort AS VARCHAR) AS cohort, g.horizon::INTEGER AS horizon,
        g.t::INTEGER AS t, coalesce(sum(h.n) FILTER (WHERE h.r >= g.t), 0)::DOUBLE AS survivors
      FROM grid g JOIN hist h ON h.kind = g.kind AND h.plan = g.plan AND h.horizon = g.horizon
        AND h.cohort IS NOT DISTINCT FROM g.cohort
      GROUP BY g.kind, g.plan, g.cohort, g.horizon, g.t
      ORDER BY g.kind, g.plan, g.cohort, g.horizon, g.t`,
  )
  const cohorts: SurvivorGroup[] = []
  const horizons: SurvivorGroup[] = []
  let current: { plan: string; cohort: string | null; survivors: number[] } | null = null
  let currentKey = ''
  const flush = (kind: string): void => {
    if (current === null) return
    ;(kind === 'cohort' ? cohorts : horizons).push(current)
  }
  let currentKind = ''
  for (const r of rows) {
    const key = `${r.kind}\u0000${r.plan}\u0000${r.cohort ?? ''}\u0000${r.horizon}`
    if (key !== currentKey) {
      flush(currentKind)
      current = { plan: r.plan, cohort: r.cohort, survivors: [] }
      currentKey = key
      currentKind = r.kind
    }
    ;(current as { survivors: number[] }).survivors.push(Number(r.survivors))
  }
  flush(currentKind)
  const active = await driver.all<{
    plan: string
    cohort: string
    renewals: number
    members: number
  }>(
    sql`WITH ${base}
      SELECT plan, CAST(cohort AS VARCHAR) AS cohort, renewals::INTEGER AS renewals, count(*)::INTEGER AS members
      FROM m WHERE NOT lapse_observed GROUP BY ALL ORDER BY plan, cohort, renewals`,
  )
  return {
    asOf,
    grain,
    plans: plans.map((p) => ({
      plan: p.plan,
      termMonths: Number(p.termMonths),
      termDays: Number(p.termDays),
      price: Number(p.price),
      subscribers: Number(p.subscribers),
    })),
    cohorts,
    horizons,
    active,
  }
}
