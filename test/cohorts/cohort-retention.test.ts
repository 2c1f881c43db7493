import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getBracketRetention } from '../../src/engine/cohorts/bracket-retention.js'
import {
  buildCohortCellMembersQuery,
  cohortCellSchema,
} from '../../src/engine/cohorts/cohort-cell-members.js'
import { getCohortLtv, getCohortPayback } from '../../src/engine/cohorts/cohort-ltv.js'
import {
  getCohortRetention,
  type RetentionTable,
} from '../../src/engine/cohorts/cohort-retention.js'
import type { Database } from '../../src/store/database.js'
import { event, insert, member, memoryDb, order } from './fixture-db.js'

/*
 * Fixture (asOf 2024-04-01 00:00, so January and February have ended and March is complete too):
 *   m1 reg 01-05 app    orders 01-06 100, 03-02 50 (return 03-05 10)
 *   m2 reg 01-20 store  login 01-25; orders 02-15 80, 02-20 999 cancelled
 *   m3 reg 01-31 23:00 app   login 01-31 22:00 (before registering: ignored), login 02-01
 *   m4 reg 02-10 store  orders 02-11 40, 03-31 23:59:59 60
 *   m5 reg 02-28 app    page_view 02-29, order 03-10 30
 *   m6 reg 03-15 app    order 03-16 20
 */
let db: Database
const AS_OF = '2024-04-01'
beforeAll(async () => {
  db = await memoryDb()
  await insert(db, 'members', [
    member(1, '2024-01-05 10:00:00', { registration_channel: 'app' }),
    member(2, '2024-01-20 10:00:00', { registration_channel: 'store' }),
    member(3, '2024-01-31 23:00:00', { registration_channel: 'app' }),
    member(4, '2024-02-10 10:00:00', { registration_channel: 'store' }),
    member(5, '2024-02-28 10:00:00', { registration_channel: 'app' }),
    member(6, '2024-03-15 10:00:00', { registration_channel: 'app' }),
  ])
  await insert(db, 'orders', [
    { ...order(1, '2024-01-06 10:00:00', 100), order_id: 'A1' },
    order(1, '2024-03-02 10:00:00', 50),
    order(2, '2024-02-15 10:00:00', 80),
    order(2, '2024-02-20 10:00:00', 999, 'cancelled'),
    order(4, '2024-02-11 10:00:00', 40),
    order(4, '2024-03-31 23:59:59', 60),
    order(5, '2024-03-10 10:00:00', 30),
    order(6, '2024-03-16 10:00:00', 20),
  ])
  await insert(db, 'returns', [
    {
      return_id: 'R1',
      order_id: 'A1',
      member_id: 1,
      returned_at: '2024-03-05 10:00:00',
      amount: 10,
    },
  ])
  await insert(db, 'events', [
    event(2, '2024-01-25 10:00:00'),
    event(3, '2024-01-31 22:00:00'),
    event(3, '2024-02-01 08:00:00'),
    event(5, '2024-02-29 08:00:00', 'page_view'),
  ])
  await insert(db, 'acquisition_spend', [
    { period_start: '2024-01-01', period_end: '2024-01-31', channel: 'app', amount: 150 },
    { period_start: '2024-01-01', period_end: '2024-01-31', channel: 'store', amount: 30 },
    { period_start: '2024-02-01', period_end: '2024-02-29', channel: 'app', amount: 50 },
  ])
})
afterAll(async () => {
  await db.close()
})

const grid = (t: RetentionTable) =>
  t.cohorts.map((c) => [c.cohort, c.dimension, c.size, c.cells.map((x) => [x.active, x.eligible])])

describe('cohort retention in the project time zone', () => {
  /*
   * The same fixture read in Asia/Shanghai (+8 h), as of 2024-04-01 00:00 there (03-31 16:00 UTC):
   *   m3 registers 02-01 07:00 → the February cohort; its 02-01 06:00 login precedes it, its 16:00 login is p0.
   *   m4's order at 03-31 23:59:59 UTC is 04-01 07:59:59 local: after as-of, so February's p1 is m5 alone.
   *   Jan {m1, m2}: p0 m1 + m2, p1 m2 (02-15), p2 m1 (03-02). Feb {m3, m4, m5}: p0 all three, p1 m5 (03-10).
   */
  it('counts cohorts and periods in local wall time', async () => {
    const t = await getCohortRetention(db.driver, {
      asOf: AS_OF,
      periods: 3,
      activity: 'any',
      timezone: 'Asia/Shanghai',
    })
    expect(grid(t)).toEqual([
      [
        '2024-01-01',
        null,
        2,
        [
          [2, 2],
          [1, 2],
          [1, 2],
          [0, 0],
        ],
      ],
      [
        '2024-02-01',
        null,
        3,
        [
          [3, 3],
          [1, 3],
          [0, 0],
          [0, 0],
        ],
      ],
      [
        '2024-03-01',
        null,
        1,
        [
          [1, 1],
          [0, 0],
          [0, 0],
          [0, 0],
        ],
      ],
    ])
  })
})

describe('cohort retention, monthly registration cohorts', () => {
  it('N-period form: counts, eligible members and incomplete cells', async () => {
    const t = await getCohortRetention(db.driver, { asOf: AS_OF, periods: 3, activity: 'any' })
    expect(grid(t)).toEqual([
      // Jan: p0 m1 (order) + m2 (login); m3's only January event precedes its registration.
      // p1 m2 (order 02-15) + m3 (login 02-01); p2 m1 (03-02); p3 = April has not ended → eligible 0.
      [
        '2024-01-01',
        null,
        3,
        [
          [2, 3],
          [2, 3],
          [1, 3],
          [0, 0],
        ],
      ],
      // Feb: p0 m4 (02-11) + m5 (02-29 event); p1 m4 (03-31 23:59:59 is still March) + m5 (03-10).
      [
        '2024-02-01',
        null,
        2,
        [
          [2, 2],
          [2, 2],
          [0, 0],
          [0, 0],
        ],
      ],
      [
        '2024-03-01',
        null,
        1,
        [
          [1, 1],
          [0, 0],
          [0, 0],
          [0, 0],
        ],
      ],
    ])
    expect(t.cohorts[0]?.cells[3]).toMatchObject({ rate: null, complete: false })
    // Size-weighted: p0 (2+2+1)/(3+2+1); p1 (2+2)/(3+2); p2 only January 1/3; p3 nothing complete.
    expect(t.averages['']?.map((a) => a.rate)).toEqual([5 / 6, 4 / 5, 1 / 3, null])
    expect(t.averages['']?.map((a) => a.cohorts)).toEqual([3, 2, 1, 0])
  })

  it('unbounded form counts members active in period k or later', async () => {
    const t = await getCohortRetention(db.driver, { asOf: AS_OF, periods: 3 }, 'unbounded')
    // Jan: last active periods m1 2, m2 1, m3 1 → p0 3, p1 3, p2 1, p3 0 (m3 counts in p0: active later).
    expect(grid(t)[0]).toEqual([
      '2024-01-01',
      null,
      3,
      [
        [3, 3],
        [3, 3],
        [1, 3],
        [0, 0],
      ],
    ])
    expect(grid(t)[1]).toEqual([
      '2024-02-01',
      null,
      2,
      [
        [2, 2],
        [2, 2],
        [0, 0],
        [0, 0],
      ],
    ])
  })

  it('purchase activity ignores cancelled orders and events', async () => {
    const t = await getCohortRetention(db.driver, { asOf: AS_OF, periods: 2, activity: 'purchase' })
    expect(grid(t)).toEqual([
      [
        '2024-01-01',
        null,
        3,
        [
          [1, 3],
          [1, 3],
          [1, 3],
        ],
      ],
      [
        '2024-02-01',
        null,
        2,
        [
          [1, 2],
          [2, 2],
          [0, 0],
        ],
      ],
      [
        '2024-03-01',
        null,
        1,
        [
          [1, 1],
          [0, 0],
          [0, 0],
        ],
      ],
    ])
  })

  it('a chosen event type', async () => {
    const t = await getCohortRetention(db.driver, {
      asOf: AS_OF,
      periods: 1,
      activity: 'event:page_view',
    })
    expect(grid(t)).toEqual([
      [
        '2024-01-01',
        null,
        3,
        [
          [0, 3],
          [0, 3],
        ],
      ],
      [
        '2024-02-01',
        null,
        2,
        [
          [1, 2],
          [0, 2],
        ],
      ],
      [
        '2024-03-01',
        null,
        1,
        [
          [0, 1],
          [0, 0],
        ],
      ],
    ])
  })

  it('first-purchase cohorts: period 0 is 100 % for purchases, with an empty cell', async () => {
    const t = await getCohortRetention(db.driver, {
      asOf: AS_OF,
      periods: 2,
      activity: 'purchase',
      anchor: 'first-purchase',
    })
    expect(grid(t)).toEqual([
      [
        '2024-01-01',
        null,
        1,
        [
          [1, 1],
          [0, 1],
          [1, 1],
        ],
      ], // m1: nothing in February, 03-02 in March
      [
        '2024-02-01',
        null,
        2,
        [
          [2, 2],
          [1, 2],
          [0, 0],
        ],
      ], // m2, m4; m4 again on 03-31
      [
        '2024-03-01',
        null,
        2,
        [
          [2, 2],
          [0, 0],
          [0, 0],
        ],
      ], // m5, m6
    ])
  })

  it('splits by a dimension and averages within each value', async () => {
    const t = await getCohortRetention(db.driver, {
      asOf: AS_OF,
      periods: 2,
      dimension: 'registration_channel',
    })
    expect(grid(t)).toEqual([
      [
        '2024-01-01',
        'app',
        2,
        [
          [1, 2],
          [1, 2],
          [1, 2],
        ],
      ],
      [
        '2024-01-01',
        'store',
        1,
        [
          [1, 1],
          [1, 1],
          [0, 1],
        ],
      ],
      [
        '2024-02-01',
        'app',
        1,
        [
          [1, 1],
          [1, 1],
          [0, 0],
        ],
      ],
      [
        '2024-02-01',
        'store',
        1,
        [
          [1, 1],
          [1, 1],
          [0, 0],
        ],
      ],
      [
        '2024-03-01',
        'app',
        1,
        [
          [1, 1],
          [0, 0],
          [0, 0],
        ],
      ],
    ])
    // app: p0 (1+1+1)/(2+1+1), p1 (1+1)/(2+1), p2 1/2.
    expect(t.averages['app']?.map((a) => a.rate)).toEqual([3 / 4, 2 / 3, 1 / 2])
  })

  it('weekly cohorts use ISO weeks (period 8 = eight Mondays later)', async () => {
    const t = await getCohortRetention(db.driver, {
      asOf: AS_OF,
      grain: 'week',
      periods: 8,
      activity: 'purchase',
      to: '2024-01-08',
    })
    // Only m1 (Friday 01-05, week of Monday 01-01): 01-06 is week 0; 03-02 is in the week of 02-26 = +56 days.
    expect(grid(t)).toEqual([
      [
        '2024-01-01',
        null,
        1,
        [
          [1, 1],
          [0, 1],
          [0, 1],
          [0, 1],
          [0, 1],
          [0, 1],
          [0, 1],
          [0, 1],
          [1, 1],
        ],
      ],
    ])
  })

  it('quarterly and daily grains', async () => {
    const q = await getCohortRetention(db.driver, { asOf: AS_OF, grain: 'quarter', periods: 1 })
    expect(grid(q)).toEqual([
      [
        '2024-01-01',
        null,
        6,
        [
          [6, 6],
          [0, 0],
        ],
      ],
    ])
    const d = await getCohortRetention(db.driver, {
      asOf: AS_OF,
      grain: 'day',
      periods: 1,
      activity: 'purchase',
      from: '2024-02-10',
      to: '2024-02-11',
    })
    // m4 registered 02-10, bought 02-11: day 0 none, day 1 yes.
    expect(grid(d)).toEqual([
      [
        '2024-02-10',
        null,
        1,
        [
          [0, 1],
          [1, 1],
        ],
      ],
    ])
  })
})

describe('bracket retention', () => {
  it('counts activity by days since registration and excludes members too young for a bracket', async () => {
    const rows = await getBracketRetention(db.driver, { asOf: AS_OF }, [
      { from: 1, to: 7 },
      { from: 8, to: 30 },
    ])
    const view = rows.map((r) => [r.cohort, r.size, r.cells.map((c) => [c.active, c.eligible])])
    expect(view).toEqual([
      // m1: day 1 (01-06), day 57 (03-02); m2: day 5, day 26; m3: day 1 (02-01 vs 01-31).
      [
        '2024-01-01',
        3,
        [
          [3, 3],
          [1, 3],
        ],
      ],
      // m4: day 1, day 50; m5: day 1 (02-29), day 11 (03-10); m5 is 33 days old at asOf: eligible for 8–30.
      [
        '2024-02-01',
        2,
        [
          [2, 2],
          [1, 2],
        ],
      ],
      // m6: 17 days old at asOf: eligible for 1–7, too young for 8–30.
      [
        '2024-03-01',
        1,
        [
          [1, 1],
          [0, 0],
        ],
      ],
    ])
    expect(rows[2]?.cells[1]?.rate).toBeNull()
  })
})

describe('LTV curves and payback', () => {
  it('accumulates net revenue per cohort member, returns in their own period', async () => {
    const curves = await getCohortLtv(db.driver, { asOf: AS_OF, periods: 3 })
    // Jan: 100 | 80 | 50 − 10 = 40 → per member 100/3, 180/3, 220/3; April incomplete.
    expect(curves[0]?.points.map((p) => p.revenue)).toEqual([100, 80, 40, 0])
    expect(curves[0]?.points.map((p) => p.ltv)).toEqual([100 / 3, 60, 220 / 3, null])
    // Feb: 40 | 60 + 30 → 20, 65.
    expect(curves[1]?.points.map((p) => p.ltv)).toEqual([20, 65, null, null])
  })

  it('finds the payback period per cohort and channel', async () => {
    const rows = await getCohortPayback(db.driver, { asOf: AS_OF, periods: 3 })
    expect(
      rows.map((r) => [
        r.cohort,
        r.channel,
        r.members,
        r.spend,
        r.costPerMember,
        r.paybackPeriod,
        r.ltvToDate,
      ]),
    ).toEqual([
      // app Jan: cost 150/2 = 75; LTV 50, 50, 70 (m1: 100 then 50 − 10) → not yet paid back.
      ['2024-01-01', 'app', 2, 150, 75, null, 70],
      // store Jan: cost 30; LTV 0 then 80 → period 1.
      ['2024-01-01', 'store', 1, 30, 30, 1, 80],
      // app Feb: cost 50; LTV 0, 30.
      ['2024-02-01', 'app', 1, 50, 50, null, 30],
      // store Feb: no spend → paid back in period 0.
      ['2024-02-01', 'store', 1, 0, 0, 0, 100],
      ['2024-03-01', 'app', 1, 0, 0, 0, 20],
    ])
  })
})

describe('cohort cell as a segment', () => {
  it('selects the members active (or not) in a cell', async () => {
    const base = { asOf: AS_OF, cohort: '2024-01-01', period: 1 }
    const q = (x: object) =>
      db.driver.all<{ memberId: bigint }>(
        buildCohortCellMembersQuery(db.driver.dialect, cohortCellSchema.parse({ ...base, ...x })),
      )
    const ids = async (x: object) => (await q(x)).map((r) => Number(r.memberId)).sort()
    expect(await ids({})).toEqual([2, 3])
    expect(await ids({ active: false })).toEqual([1])
    expect(await ids({ period: undefined })).toEqual([1, 2, 3])
    expect(await ids({ unbounded: true, period: 2 })).toEqual([1])
  })
})
