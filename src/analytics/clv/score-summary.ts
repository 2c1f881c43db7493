/**
 * Summaries of a stored CLV run's member scores for charts: a histogram of predicted CLV, and mean P(alive)
 * by frequency and time since the last purchase (the recency/frequency grid of Fader, Hardie & Lee 2005).
 * @module
 */
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { sql } from '../../engine/sql/fragment.js'

export interface ClvHistogram {
  /** Width of one bin (currency); the last bin also holds every member above it. */
  readonly binWidth: number
  readonly bins: readonly {
    readonly from: number
    readonly members: number
    readonly clv: number
  }[]
}

/** Equal-width bins from 0 to the 99th percentile of CLV; the members above it join the last bin. */
export async function clvHistogram(
  driver: DuckDbDriver,
  runId: string,
  binCount = 20,
): Promise<ClvHistogram> {
  const top = await driver.first<{ hi: number | null }>(
    sql`SELECT quantile_cont(clv, 0.99) AS hi FROM member_scores WHERE run_id = ${runId}`,
  )
  const hi = top?.hi ?? 0
  const width = hi > 0 ? hi / binCount : 1
  const rows = await driver.all<{ bin: number; members: bigint; clv: number }>(
    sql`SELECT least(greatest(CAST(floor(clv / ${width}) AS INTEGER), 0), ${binCount - 1}) AS bin,
        count(*) AS members, sum(clv) AS clv
      FROM member_scores WHERE run_id = ${runId} AND clv IS NOT NULL GROUP BY 1 ORDER BY 1`,
  )
  const byBin = new Map(rows.map((r) => [Number(r.bin), r]))
  return {
    binWidth: width,
    bins: Array.from({ length: binCount }, (_, i) => ({
      from: i * width,
      members: Number(byBin.get(i)?.members ?? 0),
      clv: byBin.get(i)?.clv ?? 0,
    })),
  }
}

export interface PAliveGrid {
  /** Frequency buckets are repeat purchases 0 … `maxFrequency` (the last: that many or more). */
  readonly maxFrequency: number
  /** Width of one recency bucket, in the run's time unit (time since the last purchase). */
  readonly recencyWidth: number
  readonly recencyBuckets: number
  readonly cells: readonly {
    readonly frequency: number
    readonly recency: number
    readonly members: number
    readonly pAlive: number
  }[]
}

/** Mean P(alive) per (repeat purchases, time since the last purchase) cell. */
export async function pAliveGrid(
  driver: DuckDbDriver,
  runId: string,
  maxFrequency = 10,
  recencyBuckets = 12,
): Promise<PAliveGrid> {
  const top = await driver.first<{ mx: number | null }>(
    sql`SELECT max(t_cal - t_x) AS mx FROM member_scores WHERE run_id = ${runId}`,
  )
  const width = (top?.mx ?? 0) > 0 ? (top?.mx as number) / recencyBuckets : 1
  const rows = await driver.all<{ fx: number; rb: number; members: bigint; pAlive: number }>(
    sql`SELECT least(CAST(x AS INTEGER), ${maxFrequency}) AS fx,
        least(CAST(floor((t_cal - t_x) / ${width}) AS INTEGER), ${recencyBuckets - 1}) AS rb,
        count(*) AS members, avg(p_alive) AS p_alive
      FROM member_scores WHERE run_id = ${runId} AND p_alive IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`,
  )
  return {
    maxFrequency,
    recencyWidth: width,
    recencyBuckets,
    cells: rows.map((r) => ({
      frequency: Number(r.fx),
      recency: Number(r.rb),
      members: Number(r.members),
      pAlive: r.pAlive,
    })),
  }
}
