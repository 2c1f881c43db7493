import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getChurnFlows } from '../../src/engine/lifecycle/churn-flows.js'
import { lifecycleConfigSchema, stageActions } from '../../src/engine/lifecycle/lifecycle-config.js'
import { getMemberStages, getStageCounts } from '../../src/engine/lifecycle/lifecycle-stages.js'
import {
  getStageSizesOverTime,
  getStageTransitions,
} from '../../src/engine/lifecycle/lifecycle-transitions.js'
import { periodRange } from '../../src/engine/lifecycle/period-range.js'
import type { Database } from '../../src/store/database.js'
import { insert, member, memoryDb, order } from '../cohorts/fixture-db.js'

/*
 * Rules used here (small numbers so that every stage can be checked by hand): new 30 d, churn 100 d,
 * at-risk 2 × median gap, dormant 3 × median gap, gaps floored at 5 d, one-order members at-risk at 40 d and
 * dormant at 70 d, reactivated for 30 d, loyal with ≥ 3 purchases in 60 d. As of 2024-07-01 00:00:
 *   m1  no purchase                                     → registered_not_purchased
 *   m2  06-20                                            → new (11 d old)
 *   m3  05-10                                            → at_risk (52 d ≥ 40, < 70)
 *   m4  04-01                                            → dormant (91 d ≥ 70, < 100)
 *   m5  03-01                                            → churned (122 d ≥ 100)
 *   m6  05-01 05-11 05-21 05-31 06-10 06-20 (gaps 10)    → loyal (11 d < 20; 5 purchases since 05-02)
 *   m7  05-01 06-15                                      → active (16 d < 90; 1 purchase in 60 d)
 *   m8  2023-01-01, 2023-05-01, 2024-06-10               → reactivated (twice; last return 21 d ago)
 *   m9  01-01, 05-01 (return after 121 d), 05-21 06-10 06-30 → loyal (return 61 d ago ≥ 30; 3 in 60 d)
 *   m10 06-07 06-12 06-17 (gaps 5)                       → at_risk (14 d ≥ 10, < 15), before "new"
 *   m11 06-27 06-28 06-29 (gaps 1)                       → new (2 d < floor 5)
 *   m12 04-01 04-11 (gap 10)                             → dormant (81 d ≥ 30)
 *   m13 registers 07-05                                  → not counted
 *   m14 one cancelled order                              → registered_not_purchased
 */
const CONFIG = {
  newDays: 30,
  churnDays: 100,
  atRiskMultiple: 2,
  dormantMultiple: 3,
  minGapDays: 5,
  oneOrderAtRiskDays: 40,
  oneOrderDormantDays: 70,
  reactivatedDays: 30,
  loyalOrders: 3,
  loyalWindowDays: 60,
}
const ORDERS: Record<number, string[]> = {
  2: ['2024-06-20'],
  3: ['2024-05-10'],
  4: ['2024-04-01'],
  5: ['2024-03-01'],
  6: ['2024-05-01', '2024-05-11', '2024-05-21', '2024-05-31', '2024-06-10', '2024-06-20'],
  7: ['2024-05-01', '2024-06-15'],
  8: ['2023-01-01', '2023-05-01', '2024-06-10'],
  9: ['2024-01-01', '2024-05-01', '2024-05-21', '2024-06-10', '2024-06-30'],
  10: ['2024-06-07', '2024-06-12', '2024-06-17'],
  11: ['2024-06-27', '2024-06-28', '2024-06-29'],
  12: ['2024-04-01', '2024-04-11'],
}
let db: Database
beforeAll(async () => {
  db = await memoryDb()
  const ids = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14]
  await insert(db, 'members', [
    ...ids.map((i) => member(i, '2022-12-01 00:00:00')),
    member(13, '2024-07-05 00:00:00'),
  ])
  await insert(db, 'orders', [
    ...Object.entries(ORDERS).flatMap(([m, dates]) =>
      dates.map((d) => order(Number(m), `${d} 00:00:00`, 10)),
    ),
    order(14, '2024-06-01 00:00:00', 10, 'cancelled'),
  ])
})
afterAll(async () => {
  await db.close()
})

describe('lifecycle stages', () => {
  it('assigns every member registered before the date one stage', async () => {
    const stages = await getMemberStages(db.driver, '2024-07-01', CONFIG)
    expect(Object.fromEntries(stages.map((s) => [s.memberId, s.stage]))).toEqual({
      1: 'registered_not_purchased',
      2: 'new',
      3: 'at_risk',
      4: 'dormant',
      5: 'churned',
      6: 'loyal',
      7: 'active',
      8: 'reactivated',
      9: 'loyal',
      10: 'at_risk',
      11: 'new',
      12: 'dormant',
      14: 'registered_not_purchased',
    })
    const m8 = stages.find((s) => s.memberId === 8)
    // gaps 120 and 406 days → median 263.
    expect(m8).toMatchObject({ purchases: 3, daysSinceLast: 21, medianGapDays: 263 })
  })

  it('counts stage sizes, zeros included', async () => {
    const counts = await getStageCounts(db.driver, '2024-07-01', CONFIG)
    expect(counts.map((c) => [c.stage, c.members])).toEqual([
      ['registered_not_purchased', 2],
      ['new', 2],
      ['active', 1],
      ['loyal', 2],
      ['at_risk', 2],
      ['dormant', 2],
      ['churned', 1],
      ['reactivated', 1],
    ])
    const before = await getStageCounts(db.driver, '2022-01-01', CONFIG)
    expect(before.every((c) => c.members === 0)).toBe(true)
  })

  it('uses the defaults when no config is given (365-day churn)', async () => {
    const stages = await getMemberStages(db.driver, '2024-07-01')
    const of = (id: number) => stages.find((s) => s.memberId === id)?.stage
    // One order 122 days ago: at risk from 60 days, dormant from 180, churned from 365.
    expect(of(5)).toBe('at_risk')
    // m8's return 21 days ago follows a 406-day gap (≥ 365): still reactivated; its 120-day gap is not a churn.
    expect(of(8)).toBe('reactivated')
  })

  it('lists the transitions between two dates (Sankey flows)', async () => {
    const flows = await getStageTransitions(db.driver, '2024-06-01', '2024-07-01', CONFIG)
    // Stages on 06-01: m2, m10, m11 had not bought yet; m3 new (22 d); m4 at_risk (61 d); m5 dormant (92 d);
    // m6 loyal; m7 active (one purchase 31 d ago); m8 churned (397 d); m9 active (return 05-01 is 31 d old,
    // 2 purchases in 60 d); m12 dormant (51 d ≥ 3 × 10).
    expect(flows.map((f) => [f.from, f.to, f.members])).toEqual([
      ['registered_not_purchased', 'registered_not_purchased', 2],
      ['registered_not_purchased', 'new', 2],
      ['registered_not_purchased', 'at_risk', 1],
      ['new', 'at_risk', 1],
      ['active', 'active', 1],
      ['active', 'loyal', 1],
      ['loyal', 'loyal', 1],
      ['at_risk', 'dormant', 1],
      ['dormant', 'dormant', 1],
      ['dormant', 'churned', 1],
      ['churned', 'reactivated', 1],
    ])
  })

  it('shows members registered between the dates as coming from not_registered', async () => {
    const flows = await getStageTransitions(db.driver, '2024-06-01', '2024-07-10', CONFIG)
    expect(flows.find((f) => f.from === 'not_registered')).toEqual({
      from: 'not_registered',
      to: 'registered_not_purchased',
      members: 1,
    })
  })

  it('gives stage sizes at the end of each period', async () => {
    const sizes = await getStageSizesOverTime(db.driver, {
      from: '2024-05-15',
      to: '2024-06-15',
      grain: 'month',
      config: CONFIG,
    })
    expect(sizes.map((s) => s.asOf)).toEqual(['2024-06-01', '2024-07-01'])
    expect(sizes[1]?.sizes.loyal).toBe(2)
    expect(sizes[0]?.sizes.registered_not_purchased).toBe(5) // m1, m2, m10, m11, m14
  })

  it('recommends an action per stage, overridable', () => {
    const config = lifecycleConfigSchema.parse({ actions: { churned: 'do nothing' } })
    const actions = stageActions(config)
    expect(actions.churned).toBe('do nothing')
    expect(actions.new).toMatch(/onboarding/)
  })

  it('rejects inconsistent rules', () => {
    expect(lifecycleConfigSchema.safeParse({ atRiskMultiple: 5, dormantMultiple: 3 }).success).toBe(
      false,
    )
    expect(lifecycleConfigSchema.safeParse({ churnDays: -1 }).success).toBe(false)
    expect(lifecycleConfigSchema.safeParse({ unknown: 1 }).success).toBe(false)
  })
})

describe('churn and reactivation by period (metric catalog input)', () => {
  it('counts churned, not-churned-at-start and reactivated members per month', async () => {
    const flows = await getChurnFlows(db.driver, {
      from: '2024-04-01',
      to: '2024-06-30',
      grain: 'month',
      config: CONFIG,
    })
    expect(
      flows.map((f) => [f.periodStart, f.notChurnedAtStart, f.churned, f.reactivated]),
    ).toEqual([
      // 04-01: m5 (31 d) and m9 (91 d) not churned; m9 churns 04-10 (01-01 + 100 d). m4, m12 start on 04-01.
      ['2024-04-01', 2, 1, 0],
      // 05-01: m5, m4, m12; nobody reaches 100 d in May; m9 returns on 05-01 after 121 d.
      ['2024-05-01', 3, 0, 1],
      // 06-01: m3 m4 m5 m6 m7 m9 m12; m5 churns 06-09; m8 returns 06-10 (its second return).
      ['2024-06-01', 7, 1, 1],
    ])
    expect(flows[2]?.churnRate).toBeCloseTo(1 / 7, 12)
  })

  it('counts a member reactivated twice once per reactivation period', async () => {
    const flows = await getChurnFlows(db.driver, {
      from: '2023-01-01',
      to: '2024-06-30',
      grain: 'quarter',
      config: CONFIG,
    })
    const reactivations = flows.map((f) => [f.periodStart, f.reactivated])
    // m8 returns 2023-05-01 (Q2 2023) and 2024-06-10 (Q2 2024); m9 returns 2024-05-01 (Q2 2024).
    expect(reactivations).toEqual([
      ['2023-01-01', 0],
      ['2023-04-01', 1],
      ['2023-07-01', 0],
      ['2023-10-01', 0],
      ['2024-01-01', 0],
      ['2024-04-01', 2],
    ])
  })
})

describe('period ranges', () => {
  it('enumerates ISO weeks, months and quarters', () => {
    expect(periodRange('week', '2024-01-03', '2024-01-10')).toEqual([
      { start: '2024-01-01', end: '2024-01-08' },
      { start: '2024-01-08', end: '2024-01-15' },
    ])
    expect(periodRange('quarter', '2024-11-01', '2025-01-01').map((p) => p.start)).toEqual([
      '2024-10-01',
      '2025-01-01',
    ])
  })
})

describe('churn flows in the project time zone', () => {
  /*
   * One member, churn after 10 days: orders at 2024-01-31 20:00 UTC (02-01 04:00 in Asia/Shanghai) and
   * 2024-03-31 20:00 UTC (04-01 04:00 there). The second order starts spell 2, a reactivation: in March when
   * months are counted in UTC, in April when they are counted in Asia/Shanghai. A churn counts in a period only
   * for a spell that started before the period: in UTC both spells did (January, March), so February and April
   * each have a churn (10 days after each order); in Asia/Shanghai each spell starts inside the period it would
   * churn in (February, April), so neither counts.
   */
  let zoned: Database
  beforeAll(async () => {
    zoned = await memoryDb()
    await insert(zoned, 'members', [member(1, '2024-01-01 00:00:00')])
    await insert(zoned, 'orders', [
      order(1, '2024-01-31 20:00:00', 10),
      order(1, '2024-03-31 20:00:00', 10),
    ])
  })
  afterAll(async () => {
    await zoned.close()
  })

  it('places the periods in the zone', async () => {
    const flows = (timezone: string) =>
      getChurnFlows(zoned.driver, {
        from: '2024-02-01',
        to: '2024-04-30',
        grain: 'month',
        config: { churnDays: 10 },
        timezone,
      })
    const summary = (rows: Awaited<ReturnType<typeof flows>>) =>
      rows.map((r) => [r.periodStart, r.churned, r.reactivated])
    expect(summary(await flows('UTC'))).toEqual([
      ['2024-02-01', 1, 0],
      ['2024-03-01', 0, 1],
      ['2024-04-01', 1, 0],
    ])
    expect(summary(await flows('Asia/Shanghai'))).toEqual([
      ['2024-02-01', 0, 0],
      ['2024-03-01', 0, 0],
      ['2024-04-01', 0, 1],
    ])
  })
})
