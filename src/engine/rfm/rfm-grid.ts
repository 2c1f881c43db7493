/**
 * The RFM grid: members and net revenue in each (R score, FM score) cell, with the cell's segment — the
 * 5 × 5 map an analyst reads segments from.
 * @module
 */
import type { Driver } from '../drivers/driver.js'
import { sql, type Fragment } from '../sql/fragment.js'
import {
  rfmConfigSchema,
  type RfmConfig,
  type RfmConfigInput,
  type RfmSegment,
} from './rfm-config.js'
import { buildRfmQuery, rfmSource, type RfmSource } from './rfm-scores.js'

export interface RfmGridCell {
  /** Recency score, 5 = most recent. */
  readonly r: number
  /** The mean of the frequency and monetary scores, rounded half up. */
  readonly fm: number
  readonly segment: RfmSegment
  readonly members: number
  readonly revenue: number
}

/** `(r, fm, segment, members, revenue)` for every occupied cell. */
export function buildRfmGridQuery(
  asOf: string,
  config: RfmConfig,
  source: RfmSource = 'raw',
): Fragment {
  return sql`SELECT r, fm, segment, count(*) AS members, CAST(sum(monetary) AS DOUBLE) AS revenue
    FROM (${buildRfmQuery(asOf, config, source)}) GROUP BY r, fm, segment ORDER BY r DESC, fm`
}

/**
 * Occupied cells of the RFM grid as of an instant (empty cells are left out), from the kept per-member
 * purchase summary when it covers the instant (`summaries` `off` reads every order).
 */
export async function getRfmGrid(
  driver: Driver,
  asOf: string,
  config: RfmConfigInput = {},
  summaries: 'auto' | 'off' = 'auto',
): Promise<RfmGridCell[]> {
  const c = rfmConfigSchema.parse(config)
  const rows = await driver.all<{
    r: number
    fm: number
    segment: RfmSegment
    members: bigint
    revenue: number | null
  }>(buildRfmGridQuery(asOf, c, await rfmSource(driver, asOf, c, summaries)))
  return rows.map((x) => ({
    r: Number(x.r),
    fm: Number(x.fm),
    segment: x.segment,
    members: Number(x.members),
    revenue: x.revenue ?? 0,
  }))
}
