/**
 * Flows between lifecycle stages: the stage of every member at two instants, counted by (from, to) — the
 * links of a Sankey chart — and stage sizes at the end of each period of a range.
 * @module
 */
import type { Driver } from '../drivers/driver.js'
import type { Grain } from '../dialects/dialect.js'
import { sql, type Fragment } from '../sql/fragment.js'
import {
  LIFECYCLE_STAGES,
  lifecycleConfigSchema,
  type LifecycleConfig,
  type LifecycleConfigInput,
  type LifecycleStage,
} from './lifecycle-config.js'
import { buildMemberStagesQuery, getStageCounts } from './lifecycle-stages.js'
import { periodRange } from './period-range.js'
import { startOfDayIn, utcTimestampText } from '../../core/time-zone.js'

/** The `from` side of members registered after the first instant. */
export const NOT_REGISTERED = 'not_registered'

export interface StageFlow {
  readonly from: LifecycleStage | typeof NOT_REGISTERED
  readonly to: LifecycleStage
  readonly members: number
}

/** `(from_stage, to_stage, members)` between two instants. */
export function buildStageTransitionsQuery(
  from: string,
  to: string,
  config: LifecycleConfig,
): Fragment {
  return sql`SELECT coalesce(a.stage, ${NOT_REGISTERED}) AS from_stage, b.stage AS to_stage, count(*) AS members
    FROM (${buildMemberStagesQuery(to, config)}) b LEFT JOIN (${buildMemberStagesQuery(from, config)}) a ON a.member_id = b.member_id
    GROUP BY 1, 2`
}

const order = (s: string): number => {
  const i = (LIFECYCLE_STAGES as readonly string[]).indexOf(s)
  return i < 0 ? -1 : i
}

/** The transition matrix between two instants as a list of non-zero flows, in stage order. */
export async function getStageTransitions(
  driver: Driver,
  from: string,
  to: string,
  config: LifecycleConfigInput = {},
): Promise<StageFlow[]> {
  const rows = await driver.all<{
    fromStage: StageFlow['from']
    toStage: LifecycleStage
    members: bigint
  }>(buildStageTransitionsQuery(from, to, lifecycleConfigSchema.parse(config)))
  return rows
    .map((r) => ({ from: r.fromStage, to: r.toStage, members: Number(r.members) }))
    .sort((x, y) => order(x.from) - order(y.from) || order(x.to) - order(y.to))
}

export interface StageSizes {
  /** The instant the stages are taken at: the end (exclusive) of the period, YYYY-MM-DD. */
  readonly asOf: string
  readonly periodStart: string
  readonly sizes: Readonly<Record<LifecycleStage, number>>
}

/**
 * Stage sizes at the end of each period from the one holding `from` through the one holding `to`; the periods
 * are calendar periods in `timezone` (default UTC).
 */
export async function getStageSizesOverTime(
  driver: Driver,
  options: {
    from: string
    to: string
    grain: Grain
    config?: LifecycleConfigInput
    timezone?: string
  },
): Promise<StageSizes[]> {
  const out: StageSizes[] = []
  const tz = options.timezone ?? 'UTC'
  for (const p of periodRange(options.grain, options.from, options.to)) {
    const at = utcTimestampText(startOfDayIn(p.end, tz))
    const counts = await getStageCounts(driver, at, options.config ?? {})
    const sizes = Object.fromEntries(counts.map((c) => [c.stage, c.members])) as Record<
      LifecycleStage,
      number
    >
    out.push({ asOf: p.end, periodStart: p.start, sizes })
  }
  return out
}
