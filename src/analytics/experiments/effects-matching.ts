/**
 * Strata for matched comparisons: members coarsened on pre-period behaviour (purchases in the pre-period,
 * days since the last purchase, tenure, pre-period activity), and the balance of those covariates.
 * @module
 */
import type { MemberOutcomes } from '../../duckdb/experiments/member-outcomes.js'

/** Bucket edges (upper bounds, exclusive) of each coarsened covariate. */
export const MATCHING_BUCKETS = {
  ordersPre: [1, 2, 3, 5],
  recencyDays: [30, 90, 180, 365],
  tenureDays: [90, 180, 365, 730],
} as const

function bucket(v: number, edges: readonly number[]): number {
  if (Number.isNaN(v)) return edges.length + 1
  let k = 0
  while (k < edges.length && v >= (edges[k] as number)) k++
  return k
}

/** One stratum id per member: orders_pre × recency × tenure × active_pre buckets. */
export function matchingStrata(data: MemberOutcomes): Int32Array {
  const c = data.columns
  const n = c.arm.length
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const o = bucket(c.orders_pre[i] as number, MATCHING_BUCKETS.ordersPre)
    const r = bucket(c.recency_days[i] as number, MATCHING_BUCKETS.recencyDays)
    const t = bucket(c.tenure_days[i] as number, MATCHING_BUCKETS.tenureDays)
    const a = (c.active_pre[i] as number) > 0 ? 1 : 0
    out[i] = ((o * 8 + r) * 8 + t) * 2 + a
  }
  return out
}

/** Standardised mean difference of a covariate between two groups (|SMD| < 0.1: balanced). */
export interface Balance {
  readonly covariate: string
  /** Before matching: raw group means. */
  readonly before: number
  /** After matching: comparison members re-weighted to the treated strata. */
  readonly after: number
}

/**
 * SMD = (x̄_t − x̄_c)/√((s_t² + s_c²)/2) before and after re-weighting the comparison group by
 * n_t,s/n_c,s (Austin 2009, Stat. Med. 28(25)). Recency uses 9999 days for members who never bought.
 */
export function covariateBalance(
  data: MemberOutcomes,
  strata: Int32Array,
  treatedArm: number,
): Balance[] {
  const c = data.columns
  const n = c.arm.length
  const nt = new Map<number, number>()
  const nc = new Map<number, number>()
  for (let i = 0; i < n; i++) {
    const m = c.arm[i] === treatedArm ? nt : nc
    m.set(strata[i] as number, (m.get(strata[i] as number) ?? 0) + 1)
  }
  const covs: [string, Float64Array][] = [
    ['orders_pre', c.orders_pre],
    ['revenue_pre', c.revenue_pre],
    ['recency_days', c.recency_days.map((v) => (Number.isNaN(v) ? 9999 : v))],
    ['tenure_days', c.tenure_days],
    ['active_pre', c.active_pre],
  ]
  return covs.map(([name, x]) => {
    const moments = (weighted: boolean) => {
      let wt = 0,
        st = 0,
        sst = 0,
        wc = 0,
        sc = 0,
        ssc = 0
      for (let i = 0; i < n; i++) {
        const v = x[i] as number
        const s = strata[i] as number
        if (c.arm[i] === treatedArm) {
          if (weighted && !nc.has(s)) continue
          wt++
          st += v
          sst += v * v
        } else {
          const w = weighted ? (nt.get(s) ?? 0) / (nc.get(s) ?? 1) : 1
          if (w === 0) continue
          wc += w
          sc += w * v
          ssc += w * v * v
        }
      }
      const mt = st / wt
      const mc = sc / wc
      const vt = sst / wt - mt * mt
      const vc = ssc / wc - mc * mc
      const d = Math.sqrt((vt + vc) / 2)
      return d > 0 ? (mt - mc) / d : 0
    }
    return { covariate: name, before: moments(false), after: moments(true) }
  })
}
