/**
 * Targeting runs: `memberlens target` stores its report (campaign, Qini per arm, the plan in aggregate,
 * without the member list) as a `target` run in `model_runs`, which the Risk page and the API read.
 * @module
 */
import type { Clock } from '../../core/clock.js'
import { NotFoundError } from '../../core/errors.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { ensureScoreTables, getRun, newRunId, saveRun } from '../clv/store.js'
import { armsFileSchema, type ArmsFile } from './arms.js'
import type { TargetingPlan } from './targeting.js'

/** What a `target` run stores: the plan without its member rows. */
export type TargetingSummary = Omit<TargetingPlan, 'rows'> & { readonly runId: string }

/** Stores the plan's report as a new `target` run; returns its id. */
export async function saveTargetingRun(
  driver: DuckDbDriver,
  plan: TargetingPlan,
  clock: Clock,
  /** The arms file the plan was made with, kept so that the API can simulate its arms before launch. */
  arms?: ArmsFile,
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
      options: {
        budget: plan.budget,
        learner: plan.learner,
        asOf: plan.asOf,
        ...(arms === undefined ? {} : { arms }),
      },
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

/** The arms file of the latest `target` run; NotFoundError before a run that stored one. */
export async function latestTargetingArms(driver: DuckDbDriver): Promise<ArmsFile> {
  const run = await getRun(driver, 'target')
  const parsed = armsFileSchema.safeParse((run.options as { arms?: unknown } | null)?.arms)
  if (!parsed.success) {
    throw new NotFoundError(
      `targeting run ${run.runId} has no arms file: run \`memberlens target\` again to store one`,
    )
  }
  return parsed.data
}
