/**
 * Segment comparison (画像对比, TGI): for every value of every profile attribute, the share of a segment's
 * members holding it, the share in the comparison group (the whole base, or another segment), and
 * TGI = segment share ÷ comparison share × 100 (100 = as common as in the comparison group). Significance is
 * a pooled two-proportion z-test, two-sided at 5%, of the segment's share against the share among the
 * comparison group's members outside the segment (the two samples must not overlap; against the whole base
 * that is the rest of the base). Counts come from one SQL query (`engine/segments/segment-compare.ts`).
 * @module
 */
import type { Driver } from '../../engine/drivers/driver.js'
import { getProfileCounts } from '../../engine/segments/segment-compare.js'
import type { SegmentFilter } from '../../engine/segments/segment-schema.js'
import { twoProportionZTest } from '../../models/stats/proportions.js'

/** The significance level of the flag. */
export const TGI_ALPHA = 0.05

export interface TgiRow {
  readonly attribute: string
  /** Null: members for whom the attribute is missing. */
  readonly value: string | null
  readonly segmentMembers: number
  readonly segmentShare: number | null
  readonly baseMembers: number
  readonly baseShare: number | null
  /** Segment share ÷ comparison share × 100; null when the comparison share is 0 or a group is empty. */
  readonly tgi: number | null
  /** z of the segment's share against the comparison members outside the segment; null when untestable. */
  readonly z: number | null
  readonly pValue: number | null
  readonly significant: boolean | null
}

export interface SegmentComparison {
  readonly asOf: string
  /** `base` or the other segment's name. */
  readonly against: string
  readonly segmentSize: number
  readonly baseSize: number
  /** Members in both (the segment's size when compared with the whole base). */
  readonly overlap: number
  readonly tagPeriod: string | null
  readonly test: {
    readonly method: 'two-proportion-z'
    readonly alpha: number
    readonly versus: string
  }
  readonly rows: readonly TgiRow[]
}

/** Compares `segment` with `against` (undefined: every member registered before `asOf`). */
export async function compareSegments(
  driver: Driver,
  segment: SegmentFilter,
  against: { name: string; filter: SegmentFilter } | undefined,
  asOfInstant: string,
  options: { tagPeriod?: string } = {},
): Promise<SegmentComparison> {
  const c = await getProfileCounts(driver, segment, against?.filter, asOfInstant, options.tagPeriod)
  const restN = c.sizeB - c.sizeBoth
  // An attribute with no value at all (no birthdays, no genders) is not compared.
  const present = new Set(c.counts.filter((r) => r.value !== null).map((r) => r.attribute))
  const rows = c.counts
    .filter((r) => present.has(r.attribute))
    .map((r): TgiRow => {
      const segmentShare = c.sizeA > 0 ? r.a / c.sizeA : null
      const baseShare = c.sizeB > 0 ? r.b / c.sizeB : null
      const tgi =
        segmentShare !== null && baseShare !== null && baseShare > 0
          ? (segmentShare / baseShare) * 100
          : null
      let z: number | null = null
      let p: number | null = null
      const restX = r.b - r.both
      if (c.sizeA > 0 && restN > 0) {
        const pooled = (r.a + restX) / (c.sizeA + restN)
        if (pooled > 0 && pooled < 1) {
          const e = twoProportionZTest(
            { successes: restX, n: restN },
            { successes: r.a, n: c.sizeA },
          )
          z = e.statistic
          p = e.pValue
        }
      }
      return {
        attribute: r.attribute,
        value: r.value,
        segmentMembers: r.a,
        segmentShare,
        baseMembers: r.b,
        baseShare,
        tgi,
        z,
        pValue: p,
        significant: p === null ? null : p < TGI_ALPHA,
      }
    })
  return {
    asOf: asOfInstant,
    against: against?.name ?? 'base',
    segmentSize: c.sizeA,
    baseSize: c.sizeB,
    overlap: c.sizeBoth,
    tagPeriod: c.tagPeriod,
    test: {
      method: 'two-proportion-z',
      alpha: TGI_ALPHA,
      versus:
        against === undefined
          ? 'the rest of the base'
          : `members of ${against.name} outside the segment`,
    },
    rows,
  }
}
