/**
 * Where CLV and risk runs are kept: `model_runs` (one row per run: kind, options, parameters, fit and
 * report as JSON) and `member_scores` (one row per member and run), both created here on first use and
 * bulk-written with DuckDB's Appender (https://duckdb.org/docs/data/appender).
 * @module
 */
import type { Clock } from '../../core/clock.js'
import { NotFoundError } from '../../core/errors.js'
import { tableExists } from '../../engine/drivers/driver.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { sql } from '../../engine/sql/fragment.js'

/** Per-member outputs of a CLV run (all arrays of the same length). */
export interface MemberScoreColumns {
  readonly memberId: Float64Array
  readonly x: Float64Array
  readonly tx: Float64Array
  readonly T: Float64Array
  readonly zbar: Float64Array
  readonly pAlive: Float64Array
  readonly expectedPurchases: Float64Array
  readonly expectedSpend: Float64Array
  readonly clv: Float64Array
}

/** One stored run. */
export interface ModelRun {
  readonly runId: string
  readonly kind: string
  readonly createdAt: string
  readonly options: unknown
  readonly params: unknown
  readonly logLikelihood: number | null
  readonly report: unknown
}

/** Creates `model_runs` and `member_scores` when missing. */
export async function ensureScoreTables(driver: DuckDbDriver): Promise<void> {
  await driver.execute(sql`CREATE TABLE IF NOT EXISTS model_runs (
    run_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
    options JSON, params JSON, log_likelihood DOUBLE, report JSON)`)
  // Keyed by (run_id, member_id) by construction; no index, so that millions of rows stay cheap to append.
  await driver.execute(sql`CREATE TABLE IF NOT EXISTS member_scores (
    run_id VARCHAR NOT NULL, member_id BIGINT NOT NULL, x DOUBLE, t_x DOUBLE, t_cal DOUBLE, zbar DOUBLE,
    p_alive DOUBLE, expected_purchases DOUBLE, expected_spend DOUBLE, clv DOUBLE)`)
}

/** The shape of the run ids {@link newRunId} makes, for validating ids that come from outside. */
export const RUN_ID_RE = /^[a-z-]+-\d{8}T\d{6}Z(-\d+)?$/

/** A new run id `<kind>-YYYYMMDDTHHMMSSZ`, with `-2`, `-3`… when that second is taken. */
export async function newRunId(driver: DuckDbDriver, kind: string, clock: Clock): Promise<string> {
  const stamp = clock
    .now()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  const base = `${kind}-${stamp}`
  const taken = await driver.all<{ runId: string }>(
    sql`SELECT run_id FROM model_runs WHERE run_id = ${base} OR run_id LIKE ${`${base}-%`}`,
  )
  return taken.length === 0 ? base : `${base}-${taken.length + 1}`
}

/** Stores a run and its member scores in one transaction. */
export async function saveRun(
  driver: DuckDbDriver,
  run: Omit<ModelRun, 'createdAt'> & { readonly createdAt: Date },
  scores: MemberScoreColumns | null,
): Promise<void> {
  await driver.transaction(async () => {
    await driver.execute(sql`INSERT INTO model_runs VALUES (${run.runId}, ${run.kind},
      CAST(${run.createdAt.toISOString()} AS TIMESTAMPTZ)::TIMESTAMP, ${JSON.stringify(run.options)},
      ${JSON.stringify(run.params)}, ${run.logLikelihood}, ${JSON.stringify(run.report)})`)
    if (scores !== null) await appendScores(driver, run.runId, scores)
  })
}

/** Appends the scores column by column (typed arrays go to DuckDB's Appender without row objects). */
async function appendScores(
  driver: DuckDbDriver,
  runId: string,
  s: MemberScoreColumns,
): Promise<void> {
  const doubles = [s.x, s.tx, s.T, s.zbar, s.pAlive, s.expectedPurchases, s.expectedSpend, s.clv]
  await driver.append('member_scores', [
    { type: 'varchar', values: new Array<string>(s.memberId.length).fill(runId) },
    { type: 'bigint', values: s.memberId },
    ...doubles.map((values) => ({ type: 'double' as const, values })),
  ])
}

/** The id of the latest run of `kind`, or null when there is none. */
export async function latestRunId(driver: DuckDbDriver, kind: string): Promise<string | null> {
  try {
    return (await getRun(driver, kind)).runId
  } catch (error) {
    if (error instanceof NotFoundError) return null
    throw error
  }
}

/** The run with this id, or the latest run of `kind`; NotFoundError when there is none. */
export async function getRun(
  driver: DuckDbDriver,
  kind: string,
  runId?: string,
): Promise<ModelRun> {
  // Read-only commands must not create tables: a database without runs simply has none.
  if (!(await tableExists(driver, 'model_runs'))) {
    throw new NotFoundError(`no ${kind} run yet: run \`memberlens ${kind} fit\` first`)
  }
  const row = await driver.first<{
    runId: string
    kind: string
    createdAt: string
    options: string
    params: string
    logLikelihood: number | null
    report: string | null
  }>(
    runId === undefined
      ? sql`SELECT run_id, kind, CAST(created_at AS VARCHAR) AS created_at, CAST(options AS VARCHAR) AS options,
          CAST(params AS VARCHAR) AS params, log_likelihood, CAST(report AS VARCHAR) AS report
          FROM model_runs WHERE kind = ${kind} ORDER BY created_at DESC, run_id DESC LIMIT 1`
      : sql`SELECT run_id, kind, CAST(created_at AS VARCHAR) AS created_at, CAST(options AS VARCHAR) AS options,
          CAST(params AS VARCHAR) AS params, log_likelihood, CAST(report AS VARCHAR) AS report
          FROM model_runs WHERE run_id = ${runId}`,
  )
  if (row === undefined) {
    throw new NotFoundError(
      runId === undefined
        ? `no ${kind} run yet: run \`memberlens ${kind} fit\` first`
        : `no run ${JSON.stringify(runId)}`,
    )
  }
  return {
    runId: row.runId,
    kind: row.kind,
    createdAt: row.createdAt,
    options: JSON.parse(row.options) as unknown,
    params: JSON.parse(row.params) as unknown,
    logLikelihood: row.logLikelihood,
    report: row.report === null ? null : (JSON.parse(row.report) as unknown),
  }
}
