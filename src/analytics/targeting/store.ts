/**
 * Targeting runs: `memberlens target` stores its report (campaign, Qini per arm, the plan in aggregate,
 * without the member list) as a `target` run in `model_runs`, which the Risk page and the API read.
 * @module
 */
import type { Clock } from '../../core/clock.js'
import { NotFoundError } from '../../core/errors.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { ensureScoreTables, getRun, newRunId, saveRun } from '../clv/store.js'
import type { TargetingPlan } from './targeting.js'

/** What a `target` run stores: the plan without its member rows. */
export type TargetingSummary = Omit<TargetingPlan, 'rows'> & { readonly runId: string }

/** Stores the plan's report as a new `target` run; returns its id. */
export async function saveTargetingRun(
  driver: DuckDbDriver,
  plan: TargetingPlan,
  clock: Clock,
): Promise<string> {
  await ensureScoreTables(driver)
  const runId = await newRunId(driver, 'target', clock)
  const { rows: _rows, ...summary } = plan as TargetingPlan & { internals?: unknown }
  delete (summary as { internals?: unknown }).internals
  await saveRun(
    driver,
    {
      runId,
      kind: 'target',
      createdAt: clock.now(),
      options: { budget: plan.budget, learner: plan.learner, asOf: plan.asOf },
      params: null,
      logLikelihood: null,
      report: { ...summary, runId },
    },
    null,
  )
  return runId
}

/** The latest `target` run's report, or null before the first. */
export async function latestTargeting(driver: DuckDbDriver): Promise<TargetingSummary | null> {
  try {
    return (await getRun(driver, 'target')).report as TargetingSummary
  } catch (e) {
    if (e instanceof NotFoundError) return null
    throw e
  }
}
