/**
 * The latest risk scoring in aggregate, for the Risk and win-back page: members and predicted CLV at risk
 * per churn class (with its win-back playbook), how often each reason code and early-warning signal is
 * raised, and the distribution of scores.
 * @module
 */
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { sql } from '../../engine/sql/fragment.js'
import { getRun, latestRunId } from '../clv/store.js'

export interface RiskClassRow {
  readonly churnClass: string
  readonly playbook: string
  /** Members of the class (any score). */
  readonly members: number
  /** Members of the class scoring at least the threshold. */
  readonly atRisk: number
  readonly meanScore: number
  /** Σ score × predicted CLV over the class's members at risk (null without a CLV run). */
  readonly clvAtRisk: number | null
}

export interface RiskSummary {
  readonly runId: string
  /** The day the scores are computed as of (the run's `asOf`: by default the last day with a purchase). */
  readonly asOf: string | null
  readonly clvRunId: string | null
  readonly threshold: number
  readonly members: number
  readonly atRisk: number
  readonly clvAtRisk: number | null
  readonly classes: readonly RiskClassRow[]
  /** Reason codes and signals among members at risk, most frequent first. */
  readonly reasons: readonly { readonly code: string; readonly members: number }[]
  readonly signals: readonly { readonly code: string; readonly members: number }[]
  /** Members per score decile bin [i/10, (i+1)/10). */
  readonly scoreBins: readonly number[]
}

/** Summarises the latest `risk-score` run; members "at risk" score at least `threshold`. */
export async function riskSummary(driver: DuckDbDriver, threshold = 0.5): Promise<RiskSummary> {
  const run = await getRun(driver, 'risk-score')
  const clvRunId = await latestRunId(driver, 'clv')
  const scored = sql`SELECT r.churn_class, r.playbook, r.score, r.reasons, r.signals, c.clv
    FROM risk_scores r LEFT JOIN member_scores c ON c.member_id = r.member_id AND c.run_id = ${clvRunId}
    WHERE r.run_id = ${run.runId}`
  const classes = await driver.all<{
    churnClass: string
    playbook: string
    members: bigint
    atRisk: bigint
    meanScore: number
    clvAtRisk: number | null
  }>(
    sql`SELECT churn_class, min(playbook) AS playbook, count(*) AS members,
        count(*) FILTER (WHERE score >= ${threshold}) AS at_risk, avg(score) AS mean_score,
        sum(score * clv) FILTER (WHERE score >= ${threshold}) AS clv_at_risk
      FROM (${scored}) GROUP BY churn_class ORDER BY at_risk DESC, churn_class`,
  )
  const codes = (column: 'reasons' | 'signals') =>
    driver.all<{ code: string; members: bigint }>(
      sql`SELECT code, count(*) AS members
        FROM (SELECT ${driver.dialect.splitToRows(column === 'reasons' ? sql`reasons` : sql`signals`, ',')} AS code
          FROM (${scored}) WHERE score >= ${threshold})
        WHERE code <> '' GROUP BY code ORDER BY members DESC, code`,
    )
  const bins = await driver.all<{ bin: number; members: bigint }>(
    sql`SELECT least(CAST(floor(score * 10) AS INTEGER), 9) AS bin, count(*) AS members
      FROM (${scored}) GROUP BY 1 ORDER BY 1`,
  )
  const scoreBins = Array.from({ length: 10 }, () => 0)
  for (const b of bins) scoreBins[Number(b.bin)] = Number(b.members)
  const rows = classes.map((c) => ({
    churnClass: c.churnClass,
    playbook: c.playbook,
    members: Number(c.members),
    atRisk: Number(c.atRisk),
    meanScore: c.meanScore,
    clvAtRisk: clvRunId === null ? null : (c.clvAtRisk ?? 0),
  }))
  const options = run.options as { asOf?: unknown } | null
  return {
    runId: run.runId,
    asOf: typeof options?.asOf === 'string' ? options.asOf.slice(0, 10) : null,
    clvRunId,
    threshold,
    members: rows.reduce((s, c) => s + c.members, 0),
    atRisk: rows.reduce((s, c) => s + c.atRisk, 0),
    clvAtRisk: clvRunId === null ? null : rows.reduce((s, c) => s + (c.clvAtRisk ?? 0), 0),
    classes: rows,
    reasons: (await codes('reasons')).map((r) => ({ code: r.code, members: Number(r.members) })),
    signals: (await codes('signals')).map((r) => ({ code: r.code, members: Number(r.members) })),
    scoreBins,
  }
}
