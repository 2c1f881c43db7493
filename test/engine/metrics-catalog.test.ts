/**
 * Every catalog metric on a small hand-built fixture, at the month and quarter grains and by registration
 * channel, with the expected values worked out by hand (derivations in the comments).
 *
 * Members (phone 1380000000n): M1 reg 2024-01-01 10:00 app · M2 reg 01-10 10:00 store · M3 reg 02-05 10:00 app ·
 * M4 reg 03-20 10:00 store (never buys) · M5 reg 2023-11-01 10:00 app.
 * Orders: O0 M5 2023-11-02 70 · O1 M1 01-05 100 · O2 M1 01-20 50 · O3 M2 01-15 80 · O9 M5 01-25 25 ·
 *         O4 M1 02-10 60 · O5 M3 02-06 40 · O6 M3 02-07 30 cancelled · O7 M2 03-31 23:59:59 20 · O8 M3 04-01 00:00 10.
 * Returns: R1 (O2, M1) 02-02 10.
 * Events: M1 01-05 session S1 (session_start 600 s + 2 page views) · M2 01-16 check_in · M3 02-20 share ·
 *         M2 02-25 login · M4 03-21 session S2 (session_start 120 s + 1 page view).
 * Feedback: F1 M1 01-25 nps 10 · F2 M2 01-26 nps 5 · F3 M3 02-15 nps 8 · F4 M1 02-16 csat 5 · F5 M2 02-17 csat 3 ·
 *           F6 M3 03-01 review 2 · F7 M1 03-02 review 5 · F8 M2 03-03 complaint · F9 M2 03-04 support_ticket.
 * Spend: 2023-11 app 100 · 2024-01 app 300, store 100 · 2024-02 app 200 · 2024-03 store 50.
 * Visitors: 2024-01 app 20, store 10 · 2024-02 app 25 · 2024-03 app 10, store 40.
 * Subscriptions (plan plus): M1 2023-12-15→01-15 renewed, 01-15→02-15 not · M2 01-20→02-20 renewed, 02-20→03-20
 *   renewed, 03-20→04-20 · M3 02-05→03-05 not renewed.
 * Touches: T1 M5 winback 01-10 · T2 M2 winback holdout 02-20 · T3 M1 winback 02-15 cost 1 · T4 M3 promo 02-01 ·
 *          T5 M1 winback 03-12 · campaign A (promo, the coupons' campaign A): M1 and M2 treated 01-04 10:00 cost 2
 *          each, M5 holdout 01-04 10:00.
 * Coupons (campaign · face value · issued → redeemed on order): K1 M1 A 10 01-02 → O1 01-05 · K2 M2 A 10 01-10,
 *   unused · K3 M1 B 20 01-18 → O4 02-10 · K4 M3 B 20 02-06 → O5 02-06 · K5 M3 B 5 02-06 → O5 02-06 ·
 *   K6 M2 A 10 03-01, unused · K7 M4 B 20 03-21, unused.
 *
 * Loyalty (as synced from the ledger; point value 0.01): accounts L1 = M1 (enrolled 01-01, gold), L2 = M2 (01-10,
 * silver), L3 = M3 (02-05, silver); M4 and M5 are not enrolled. Entries: Jan L1 earn 100, 50 · L2 earn 80 ·
 * Feb L1 reverse −5, redeem −60, earn 60 · L3 earn 40 · L2 adjust +10, −3 · Mar L3 redeem −30 · L2 expire −20.
 * L1's Jan earn of 50 is a bonus of campaign A (source campaign A).
 * Tier changes: L2 upgrade 01-15 · L1 upgrade 02-10 · L3 upgrade 02-06, downgrade 03-20 · L2 grace_started 03-01.
 *
 * CLV runs (as `memberlens clv fit` stores them): RA created 03-01, calibrated to 02-29: M1 100, M2 50, M3 30 ·
 * RB created 03-05, calibrated to 02-29 (supersedes RA): M1 120, M2 60, M3 30, M5 0 · RC created 04-02,
 * calibrated to 03-31: M1 80, M2 40, M3 20, M4 without a finite CLV (stored empty).
 *
 * Active (purchases + events) member-days: Jan M1 05, M2 15, M2 16, M1 20, M5 25 · Feb M3 06, M1 10, M3 20,
 * M2 25 · Mar M4 21, M2 31. Churn rule in these tests: 30 days without activity (registration counts as activity).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureScoreTables } from '../../src/analytics/clv/store.js'
import { ensureLoyaltyTables } from '../../src/analytics/loyalty/sync.js'
import { ensureSentimentTable } from '../../src/analytics/voice/label.js'
import { CATALOG } from '../../src/engine/metrics/catalog.js'
import { getChurnFlows } from '../../src/engine/lifecycle/churn-flows.js'
import { dimensionValues } from '../../src/engine/metrics/dimension-values.js'
import { runMetrics, type MetricResult } from '../../src/engine/metrics/run.js'
import { evaluateTree } from '../../src/engine/metrics/tree.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
const SETTINGS = { churnDays: 30, churnBasis: 'activity' } as const

beforeAll(async () => {
  s = await scratch()
  const f = (name: string, lines: string[]) => s.file(name, lines.join('\n'))
  await s.ingest(
    'members',
    await f('m.csv', [
      'phone,registered_at,registration_channel',
      '13800000005,2023-11-01 10:00:00,app',
      '13800000001,2024-01-01 10:00:00,app',
      '13800000002,2024-01-10 10:00:00,store',
      '13800000003,2024-02-05 10:00:00,app',
      '13800000004,2024-03-20 10:00:00,store',
    ]),
  )
  await s.ingest(
    'orders',
    await f('o.csv', [
      'order_id,phone,ordered_at,channel,net_amount,status',
      'O0,13800000005,2023-11-02 10:00:00,app,70,paid',
      'O1,13800000001,2024-01-05 10:00:00,app,100,paid',
      'O2,13800000001,2024-01-20 10:00:00,app,50,paid',
      'O3,13800000002,2024-01-15 10:00:00,store,80,paid',
      'O9,13800000005,2024-01-25 10:00:00,store,25,paid',
      'O4,13800000001,2024-02-10 10:00:00,store,60,paid',
      'O5,13800000003,2024-02-06 10:00:00,app,40,paid',
      'O6,13800000003,2024-02-07 10:00:00,app,30,cancelled',
      'O7,13800000002,2024-03-31 23:59:59,store,20,paid',
      'O8,13800000003,2024-04-01 00:00:00,app,10,paid',
    ]),
  )
  await s.ingest(
    'returns',
    await f('r.csv', ['return_id,order_id,returned_at,amount', 'R1,O2,2024-02-02 10:00:00,10']),
  )
  await s.ingest(
    'events',
    await f('e.csv', [
      'event_id,phone,ts,event_type,session_id,duration_s,channel',
      'E1,13800000001,2024-01-05 09:50:00,session_start,S1,600,app',
      'E2,13800000001,2024-01-05 09:52:00,page_view,S1,,app',
      'E3,13800000001,2024-01-05 09:55:00,page_view,S1,,app',
      'E4,13800000002,2024-01-16 12:00:00,check_in,,,app',
      'E7,13800000003,2024-02-20 10:00:00,share,,,app',
      'E8,13800000002,2024-02-25 10:00:00,login,,,web',
      'E5,13800000004,2024-03-21 08:00:00,session_start,S2,120,app',
      'E6,13800000004,2024-03-21 08:01:00,page_view,S2,,app',
    ]),
  )
  await s.ingest(
    'feedback',
    await f('f.csv', [
      'feedback_id,phone,ts,kind,score',
      'F1,13800000001,2024-01-25,nps,10',
      'F2,13800000002,2024-01-26,nps,5',
      'F3,13800000003,2024-02-15,nps,8',
      'F4,13800000001,2024-02-16,csat,5',
      'F5,13800000002,2024-02-17,csat,3',
      'F6,13800000003,2024-03-01,review,2',
      'F7,13800000001,2024-03-02,review,5',
      'F8,13800000002,2024-03-03,complaint,',
      'F9,13800000002,2024-03-04,support_ticket,',
    ]),
  )
  await s.ingest(
    'acquisition_spend',
    await f('a.csv', [
      'period_start,period_end,channel,amount',
      '2023-11-01,2023-11-30,app,100',
      '2024-01-01,2024-01-31,app,300',
      '2024-01-01,2024-01-31,store,100',
      '2024-02-01,2024-02-29,app,200',
      '2024-03-01,2024-03-31,store,50',
    ]),
  )
  await s.ingest(
    'visitors',
    await f('v.csv', [
      'period_start,period_end,channel,visitors',
      '2024-01-01,2024-01-31,app,20',
      '2024-01-01,2024-01-31,store,10',
      '2024-02-01,2024-02-29,app,25',
      '2024-03-01,2024-03-31,app,10',
      '2024-03-01,2024-03-31,store,40',
    ]),
  )
  await s.ingest(
    'subscriptions',
    await f('sub.csv', [
      'phone,plan,started_at,ends_at,renewed_at,price',
      '13800000001,plus,2023-12-15 10:00:00,2024-01-15 10:00:00,2024-01-14 10:00:00,30',
      '13800000001,plus,2024-01-15 10:00:00,2024-02-15 10:00:00,,30',
      '13800000002,plus,2024-01-20 10:00:00,2024-02-20 10:00:00,2024-02-19 10:00:00,30',
      '13800000002,plus,2024-02-20 10:00:00,2024-03-20 10:00:00,2024-03-19 10:00:00,30',
      '13800000002,plus,2024-03-20 10:00:00,2024-04-20 10:00:00,,30',
      '13800000003,plus,2024-02-05 10:00:00,2024-03-05 10:00:00,,30',
    ]),
  )
  await s.ingest(
    'touches',
    await f('t.csv', [
      'campaign_id,phone,channel,kind,sent_at,treatment_group,cost',
      'C1,13800000005,sms,winback,2024-01-10 09:00:00,treatment,',
      'C2,13800000002,sms,winback,2024-02-20 09:00:00,holdout,',
      'C2,13800000001,sms,winback,2024-02-15 09:00:00,treatment,1',
      'C3,13800000003,push,promo,2024-02-01 09:00:00,treatment,',
      'C4,13800000001,sms,winback,2024-03-12 09:00:00,treatment,',
      'A,13800000001,sms,promo,2024-01-04 10:00:00,treatment,2',
      'A,13800000002,sms,promo,2024-01-04 10:00:00,treatment,2',
      'A,13800000005,sms,promo,2024-01-04 10:00:00,holdout,',
    ]),
  )
  await s.ingest(
    'coupons',
    await f('k.csv', [
      'coupon_id,phone,campaign_id,issued_at,face_value,threshold,expires_at,redeemed_at,order_id',
      'K1,13800000001,A,2024-01-02 10:00:00,10,50,2024-02-02 10:00:00,2024-01-05 10:00:00,O1',
      'K2,13800000002,A,2024-01-10 12:00:00,10,50,2024-02-10 12:00:00,,',
      'K3,13800000001,B,2024-01-18 10:00:00,20,,2024-02-18 10:00:00,2024-02-10 10:00:00,O4',
      'K4,13800000003,B,2024-02-06 09:00:00,20,,2024-03-06 09:00:00,2024-02-06 10:00:00,O5',
      'K5,13800000003,B,2024-02-06 09:30:00,5,,,2024-02-06 10:00:00,O5',
      'K6,13800000002,A,2024-03-01 10:00:00,10,50,2024-04-01 10:00:00,,',
      'K7,13800000004,B,2024-03-21 10:00:00,20,,2024-04-21 10:00:00,,',
    ]),
  )
  await loadLoyalty(s)
  await loadClvRuns(s)
  // Text labels as `memberlens voice label` writes them: F6 and F8 negative, F7 positive.
  await ensureSentimentTable(s.db.driver)
  await s.db.driver.execute({
    sql: `INSERT INTO feedback_sentiment VALUES ('F6', 'h', 'zh', 'negative', -1, '', ''),
      ('F7', 'h', 'zh', 'positive', 1, '', ''), ('F8', 'h', 'zh', 'negative', -2, '', '')`,
    parameters: [],
  })
})
afterAll(async () => {
  await s.cleanup()
})

/** Three CLV runs, as `memberlens clv fit` stores them (only the fields the catalog reads matter). */
async function loadClvRuns(s: Scratch): Promise<void> {
  const d = s.db.driver
  await ensureScoreTables(d)
  const runs: [string, string, string, [string, number | null][]][] = [
    [
      'clv-20240301T000000Z',
      '2024-03-01 00:00:00',
      '2024-02-29',
      [
        ['13800000001', 100],
        ['13800000002', 50],
        ['13800000003', 30],
      ],
    ],
    [
      'clv-20240305T000000Z',
      '2024-03-05 00:00:00',
      '2024-02-29',
      [
        ['13800000001', 120],
        ['13800000002', 60],
        ['13800000003', 30],
        ['13800000005', 0],
      ],
    ],
    [
      'clv-20240402T000000Z',
      '2024-04-02 00:00:00',
      '2024-03-31',
      [
        ['13800000001', 80],
        ['13800000002', 40],
        ['13800000003', 20],
        ['13800000004', null],
      ],
    ],
  ]
  for (const [run, created, calibrationEnd, scores] of runs) {
    await d.execute({
      sql: `INSERT INTO model_runs VALUES ('${run}', 'clv', TIMESTAMP '${created}', '{"calibrationEnd":"${calibrationEnd}"}', '{}', NULL, NULL)`,
      parameters: [],
    })
    for (const [phone, clv] of scores) {
      await d.execute({
        sql: `INSERT INTO member_scores SELECT '${run}', member_id, 1, 1, 1, 1, 0.5, 1, 1, ${clv === null ? 'NULL' : clv}
          FROM identities WHERE identity_type = 'phone' AND identity_value LIKE '%${phone}'`,
        parameters: [],
      })
    }
  }
}

/** The ledger's tables as `memberlens loyalty sync` leaves them. */
async function loadLoyalty(s: Scratch): Promise<void> {
  const d = s.db.driver
  await ensureLoyaltyTables(d)
  const member = (phone: string) =>
    `(SELECT member_id FROM identities WHERE identity_type = 'phone' AND identity_value LIKE '%${phone}')`
  const accounts: [string, string, string, string][] = [
    ['L1', '13800000001', '2024-01-01 10:00:00', 'gold'],
    ['L2', '13800000002', '2024-01-10 10:00:00', 'silver'],
    ['L3', '13800000003', '2024-02-05 10:00:00', 'silver'],
  ]
  for (const [l, phone, at, tier] of accounts) {
    await d.execute({
      sql: `INSERT INTO loyalty_accounts VALUES ('${l}', ${member(phone)}, TIMESTAMP '${at}', 0, 0, '${tier}', NULL, NULL, TIMESTAMP '2024-03-31 00:00:00')`,
      parameters: [],
    })
  }
  const entries: [string, string, number, string][] = [
    ['L1', 'earn', 100, '2024-01-05 10:00:00'],
    ['L1', 'earn', 50, '2024-01-20 10:00:00'],
    ['L2', 'earn', 80, '2024-01-15 10:00:00'],
    ['L1', 'reverse', -5, '2024-02-02 10:00:00'],
    ['L1', 'redeem', -60, '2024-02-03 10:00:00'],
    ['L1', 'earn', 60, '2024-02-10 10:00:00'],
    ['L3', 'earn', 40, '2024-02-06 10:00:00'],
    ['L2', 'adjust', 10, '2024-02-10 10:00:00'],
    ['L2', 'adjust', -3, '2024-02-11 10:00:00'],
    ['L3', 'redeem', -30, '2024-03-15 10:00:00'],
    ['L2', 'expire', -20, '2024-03-31 23:00:00'],
  ]
  let id = 0
  for (const [l, kind, points, at] of entries) {
    // L1's earn of 50 is campaign A's bonus.
    const source = l === 'L1' && points === 50 ? `'campaign', 'A'` : `'rule', NULL`
    await d.execute({
      sql: `INSERT INTO loyalty_entries SELECT ${++id}, ledger_member, member_id, '${kind}', ${points}, TIMESTAMP '${at}', TIMESTAMP '${at}', 'test', ${source} FROM loyalty_accounts WHERE ledger_member = '${l}'`,
      parameters: [],
    })
  }
  const changes: [string, string, string, string, string][] = [
    ['L2', 'base', 'silver', 'upgrade', '2024-01-15 10:00:00'],
    ['L1', 'silver', 'gold', 'upgrade', '2024-02-10 10:00:00'],
    ['L3', 'base', 'gold', 'upgrade', '2024-02-06 10:00:00'],
    ['L3', 'gold', 'silver', 'downgrade', '2024-03-20 10:00:00'],
    ['L2', 'silver', 'silver', 'grace_started', '2024-03-01 10:00:00'],
  ]
  for (const [l, from, to, kind, at] of changes) {
    await d.execute({
      sql: `INSERT INTO loyalty_tier_changes SELECT ${++id}, ledger_member, member_id, '${from}', '${to}', '${kind}', TIMESTAMP '${at}', 'test' FROM loyalty_accounts WHERE ledger_member = '${l}'`,
      parameters: [],
    })
  }
  await d.execute({
    sql: `INSERT INTO loyalty_sync_state VALUES ('point_value', '0.01'), ('currency', 'CNY')`,
    parameters: [],
  })
}

const ALL = CATALOG.filter((m) => m.id !== 'wau').map((m) => m.id)
const n = null

/** Expected [Jan, Feb, Mar] at the month grain, and Q1 at the quarter grain. */
const EXPECTED: Record<string, { month: (number | null)[]; quarter: number | null }> = {
  active_members: { month: [3, 3, 2], quarter: 5 },
  dau: { month: [5 / 31, 4 / 29, 2 / 31], quarter: 11 / 91 }, // member-days ÷ days
  mau: { month: [3, 3, 2], quarter: (3 + 3 + 2) / 3 },
  stickiness: { month: [5 / 31 / 3, 4 / 29 / 3, 2 / 31 / 2], quarter: 11 / 91 / 5 },
  // Base: registered by period end, not churned then or active in the period. Feb: M5 churned 02-24 ·
  // Mar: M1, M3, M5 churned; M2 and M4 active.
  active_rate: { month: [3 / 3, 3 / 3, 2 / 2], quarter: 5 / 5 },
  // Sessions: Jan S1 + M2 check-in (gap session) · Feb M3 share, M2 login · Mar S2.
  visit_frequency: { month: [2 / 3, 2 / 3, 1 / 2], quarter: 5 / 5 },
  session_duration_avg: { month: [300, 0, 120], quarter: 720 / 5 },
  session_duration_median: { month: [300, 0, 120], quarter: 0 },
  page_views_per_session: { month: [1, 0, 1], quarter: 3 / 5 },
  page_views_per_active_member: { month: [2 / 3, 0, 1 / 2], quarter: 3 / 5 },
  // Engaged and active: Jan M2 (check-in) · Feb M3 (share) · Mar reviews by M1, M3, who are not active in March.
  engagement_rate: { month: [1 / 3, 1 / 3, 0], quarter: 3 / 5 },
  buyers: { month: [3, 2, 1], quarter: 4 },
  orders: { month: [4, 2, 1], quarter: 7 },
  net_revenue: { month: [255, 90, 20], quarter: 365 }, // Feb: 60 + 40 − R1 10
  purchase_frequency: { month: [4 / 3, 1, 1], quarter: 7 / 4 },
  aov: { month: [255 / 4, 45, 20], quarter: 365 / 7 },
  revenue_per_buyer: { month: [85, 45, 20], quarter: 365 / 4 },
  arppu: { month: [85, 45, 20], quarter: 365 / 4 },
  arpu: { month: [85, 30, 10], quarter: 365 / 5 },
  repurchase_rate: { month: [1 / 3, 0, 0], quarter: 2 / 4 }, // Q1: M1 ×3, M2 ×2
  // Jan buyers M1 M2 M5, of whom M1 buys in Feb · Feb buyers M1 M3, none in Mar · Mar: April not over yet.
  repurchase_rate_next: { month: [1 / 3, 0, n], quarter: n },
  purchase_conversion: { month: [1, 2 / 3, 1 / 2], quarter: 4 / 5 },
  // M1 and M2 bought within 30 days, M3 too; March registrations have not had 30 days by the data end.
  first_purchase_conversion: { month: [1, 1, n], quarter: n },
  period_retention: { month: [n, 2 / 3, 1 / 3], quarter: 1 }, // Q4 2023 active: M5, active again in Q1
  // 30-day islands: M1 [01-01, 03-11) · M2 [01-10, 02-15), [02-25, 03-26), [03-31, …) · M3 [02-05, 03-21), [04-01, …)
  // · M4 [03-20, 04-20) · M5 [11-01, 12-02), [01-25, 02-24). Churns within the data: Feb M2 M5 · Mar M1 M2 M3.
  churn_rate: { month: [n, 2 / 3, 3 / 3], quarter: n },
  churned_members: { month: [0, 2, 3], quarter: 4 },
  // Terms ending: Jan M1 (renewed) · Feb M1 (not renewed), M2 (renewed) · Mar M2 (renewed), M3 (not renewed).
  subscription_churn_rate: { month: [0, 1 / 2, 1 / 2], quarter: 2 / 5 },
  subscription_renewals_due: { month: [1, 2, 2], quarter: 5 },
  reactivation_rate: { month: [1, n, 0], quarter: 1 }, // churned at start: Jan M5 (back 01-25), Mar M5 (not back)
  reactivated_members: { month: [1, 1, 1], quarter: 2 }, // M5 in Jan, M2 in Feb and Mar
  // Registered one period before: Jan none · Feb M1, M2, both active in Feb · Mar M3, not active in March
  // (O8 is April 1) · Q1: Q4 2023's M5, active in January.
  cohort_retention_rate: { month: [n, 2 / 2, 0 / 1], quarter: 1 / 1 },
  // Jan: M5 buys 01-25, within 30 days of T1 · Feb: M1 not active after 02-15; holdout M2 logs in 02-25 ·
  // Mar and Q1: the 30 days after the period end are not over by the data end (04-02).
  winback_rate: { month: [1, 0, n], quarter: n },
  winback_rate_holdout: { month: [n, 1, n], quarter: n },
  winback_uplift: { month: [n, 0 - 1, n], quarter: n }, // Jan has no holdout, Mar and Q1 are not over
  // Feb: RB (created after RA) 120 + 60 + 30 + 0 over 4 · Mar: RC 80 + 40 + 20 over 3 (M4's empty score left out)
  // · Jan: no run · Q1: RC, the latest run calibrated in the quarter.
  predicted_clv: { month: [n, 210 / 4, 140 / 3], quarter: 140 / 3 },
  predicted_clv_total: { month: [n, 210, 140], quarter: 140 },
  historical_ltv: { month: [325 / 3, 415 / 4, 435 / 5], quarter: 435 / 5 },
  members_total: { month: [3, 4, 5], quarter: 5 },
  nps: { month: [0, 0, n], quarter: 0 },
  csat: { month: [n, 1 / 2, n], quarter: 1 / 2 },
  review_rating: { month: [n, n, 3.5], quarter: 3.5 },
  negative_review_share: { month: [n, n, 1 / 2], quarter: 1 / 2 },
  negative_text_share: { month: [n, n, 2 / 3], quarter: 2 / 3 },
  feedback_rate: { month: [2 / 3, 3 / 3, 1 / 2], quarter: 3 / 5 }, // Mar: only M2 is active and gave feedback
  support_requests_per_1000: { month: [0, 0, 500], quarter: 200 },
  complaint_rate: { month: [0, 0, 1 / 2], quarter: 1 / 5 },
  return_rate_amount: { month: [0, 10 / 100, 0], quarter: 10 / 375 },
  return_rate_orders: { month: [0, 1 / 2, 0], quarter: 1 / 7 },
  returned_amount: { month: [0, 10, 0], quarter: 10 },
  new_members: { month: [2, 1, 1], quarter: 4 },
  cost_per_new_member: { month: [200, 200, 50], quarter: 650 / 4 },
  registration_conversion: { month: [2 / 30, 1 / 25, 1 / 50], quarter: 4 / 105 },
  // Points: issued Jan 100 + 50 + 80 · Feb 60 + 40 + 10 · redeemed Feb 60, Mar 30 · expired Mar 20.
  points_issued: { month: [230, 110, 0], quarter: 340 },
  points_redeemed: { month: [0, 60, 30], quarter: 90 },
  points_expired: { month: [0, 0, 20], quarter: 20 },
  points_redemption_rate: { month: [0, 60 / 110, n], quarter: 90 / 340 },
  points_breakage: { month: [n, 0, 20 / 50], quarter: 20 / 110 },
  // Outstanding at period end: 230 · 230 + 110 − 60 − 5 − 3 = 272 · 272 − 30 − 20 = 222.
  points_liability: { month: [230, 272, 222], quarter: 222 },
  points_liability_amount: { month: [2.3, 2.72, 2.22], quarter: 2.22 },
  // Coupons: issued Jan K1 K2 K3 · Feb K4 K5 · Mar K6 K7; redeemed Jan K1 · Feb K3 K4 K5 (K4 and K5 on one order).
  coupons_issued: { month: [3, 2, 2], quarter: 7 },
  coupons_redeemed: { month: [1, 3, 0], quarter: 4 },
  coupon_redemption_rate: { month: [2 / 3, 2 / 2, 0 / 2], quarter: 4 / 7 }, // by issue month: K1, K3 of Jan
  coupon_cost: { month: [10, 20 + 20 + 5, 0], quarter: 55 },
  orders_with_coupon: { month: [1, 2, 0], quarter: 3 }, // O1 · O4, O5
  // Campaigns by their start t0 (data end 04-01 00:00, so every 30-day window is over): Jan A (t0 01-04 10:00,
  // window to 02-03 10:00) and C1 · Feb C2 (t0 02-15 09:00, its treated M1's first touch) and C3 · Mar C4.
  // A: treated M1 (O1 100, O2 50, R1 −10 → 2 orders, 140) and M2 (O3 80 → 1, 80), holdout M5 (O9 → 1, 25):
  // 3 − 1 × 2/1 = 1 order, 220 − 25 × 2/1 = 170. C2: neither M1 nor M2 buys in [02-15, 03-16) → 0 and 0.
  // C1, C3, C4 have no holdout and are left out.
  campaign_incremental_orders: { month: [1, 0, n], quarter: 1 },
  campaign_incremental_revenue: { month: [170, 0, n], quarter: 170 },
  // A: sends 2 + 2, coupon K1 10 (K2 and K6 unused), L1's bonus 50 points × 0.01 = 14.5 · C2: send 1.
  campaign_cost: { month: [14.5, 1, 0], quarter: 15.5 },
  // (incremental net revenue + redeemed face value − cost) ÷ cost: A (170 + 10 − 14.5) ÷ 14.5 · C2 (0 − 1) ÷ 1.
  campaign_roi: { month: [165.5 / 14.5, -1, n], quarter: (170 + 10 - 15.5) / 15.5 },
  enrolled_members: { month: [2, 3, 3], quarter: 3 },
  tier_upgrade_rate: { month: [1 / 2, 2 / 3, 0], quarter: 3 / 3 },
  tier_downgrade_rate: { month: [0, 0, 1 / 3], quarter: 1 / 3 },
}

/** By registration channel at the month grain: [Jan, Feb, Mar] for app and for store. */
const BY_CHANNEL: Record<string, { app: (number | null)[]; store: (number | null)[] }> = {
  active_members: { app: [2, 2, 0], store: [1, 1, 2] },
  buyers: { app: [2, 2, 0], store: [1, 0, 1] },
  orders: { app: [3, 2, 0], store: [1, 0, 1] }, // by the member's registration channel, not the order's
  net_revenue: { app: [175, 90, 0], store: [80, 0, 20] },
  aov: { app: [175 / 3, 45, n], store: [80, n, 20] },
  arpu: { app: [87.5, 45, n], store: [80, 0, 10] },
  repurchase_rate: { app: [1 / 2, 0, n], store: [0, n, 0] },
  repurchase_rate_next: { app: [1 / 2, 0, n], store: [0, n, n] },
  purchase_conversion: { app: [1, 1, n], store: [1, 0, 1 / 2] },
  stickiness: { app: [3 / 31 / 2, 3 / 29 / 2, n], store: [2 / 31, 1 / 29, 2 / 31 / 2] },
  active_rate: { app: [1, 2 / 2, n], store: [1, 1, 1] },
  engagement_rate: { app: [0, 1 / 2, n], store: [1, 0, 0] },
  period_retention: { app: [n, 1 / 2, 0], store: [n, 1, 1] },
  churn_rate: { app: [n, 1 / 2, 1], store: [n, 1, 1] },
  subscription_churn_rate: { app: [0, 1, 1], store: [n, 0, 0] },
  reactivation_rate: { app: [1, n, 0], store: [n, n, n] },
  cohort_retention_rate: { app: [n, 1 / 1, 0 / 1], store: [n, 1 / 1, n] }, // Feb: M1 app, M2 store · Mar: M3 app
  // app: M1, M3, M5 · store: M2, M4.
  predicted_clv: { app: [n, 150 / 3, 100 / 2], store: [n, 60, 40] },
  predicted_clv_total: { app: [n, 150, 100], store: [n, 60, 40] },
  historical_ltv: { app: [245 / 2, 335 / 3, 335 / 3], store: [80, 80, 50] },
  nps: { app: [100, 0, n], store: [-100, n, n] },
  csat: { app: [n, 1, n], store: [n, 0, n] },
  return_rate_amount: { app: [0, 0.1, n], store: [0, n, 0] },
  new_members: { app: [1, 1, 0], store: [1, 0, 1] },
  cost_per_new_member: { app: [300, 200, n], store: [100, n, 50] },
  registration_conversion: { app: [1 / 20, 1 / 25, 0], store: [1 / 10, n, 1 / 40] },
  // app: L1 (M1), L3 (M3) · store: L2 (M2).
  points_issued: { app: [150, 100, 0], store: [80, 10, 0] },
  points_liability: { app: [150, 185, 155], store: [80, 87, 67] },
  enrolled_members: { app: [1, 2, 2], store: [1, 1, 1] },
  tier_upgrade_rate: { app: [0, 2 / 2, 0], store: [1, 0, 0] },
  // app: K1 K3 (M1), K4 K5 (M3) · store: K2 K6 (M2), K7 (M4).
  coupons_issued: { app: [2, 2, 0], store: [1, 0, 2] },
  coupon_redemption_rate: { app: [2 / 2, 2 / 2, n], store: [0, n, 0] },
  coupon_cost: { app: [10, 45, 0], store: [0, 0, 0] },
  // Campaign A among app members: treated M1 (2, 140) against holdout M5 (1, 25) · among store members only
  // treated M2, no holdout · C2's treated M1 is app and its holdout M2 store: neither group has both.
  campaign_incremental_orders: { app: [1, n, n], store: [n, n, n] },
  campaign_incremental_revenue: { app: [115, n, n], store: [n, n, n] },
  // app: A's M1 send 2 + K1 10 + bonus 0.5, C1 0 · C2's M1 1, C3 0 · C4 0; store: A's M2 send 2 · C2's M2 0 ·
  // no campaign in March.
  campaign_cost: { app: [12.5, 1, 0], store: [2, 0, n] },
  campaign_roi: { app: [(115 + 10 - 12.5) / 12.5, n, n], store: [n, n, n] },
}

function close(actual: number | null | undefined, expected: number | null, label: string) {
  if (expected === null) expect(actual ?? null, label).toBeNull()
  else expect(actual, label).toBeCloseTo(expected, 9)
}

describe('metric catalog on a hand-checked fixture', () => {
  let month: MetricResult
  let quarter: MetricResult
  beforeAll(async () => {
    month = await runMetrics(s.db.driver, {
      metrics: ALL,
      from: '2024-01',
      to: '2024-03',
      grain: 'month',
      settings: SETTINGS,
    })
    quarter = await runMetrics(s.db.driver, {
      metrics: ALL.filter((id) => id !== 'dau' || true),
      from: '2024-01-01',
      to: '2024-03-31',
      grain: 'quarter',
      settings: SETTINGS,
    })
  })

  it('has a hand-checked expectation for every catalog metric', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(ALL.filter((id) => id !== 'wau').sort())
  })

  it('month grain', () => {
    expect(month.rows.map((r) => r.label)).toEqual(['2024-01', '2024-02', '2024-03'])
    for (const [id, e] of Object.entries(EXPECTED)) {
      e.month.forEach((v, i) =>
        close(month.rows[i]?.values[id], v, `${id} ${month.rows[i]?.label}`),
      )
    }
  })

  it('quarter grain', () => {
    expect(quarter.rows.map((r) => r.label)).toEqual(['2024-Q1'])
    for (const [id, e] of Object.entries(EXPECTED))
      close(quarter.rows[0]?.values[id], e.quarter, `${id} Q1`)
  })

  it('by registration channel', async () => {
    const ids = Object.keys(BY_CHANNEL)
    const r = await runMetrics(s.db.driver, {
      metrics: ids,
      from: '2024-01',
      to: '2024-03',
      by: ['registration_channel'],
      settings: SETTINGS,
    })
    expect(r.rows.map((x) => `${x.label} ${x.dims['registration_channel']}`)).toEqual([
      '2024-01 app',
      '2024-01 store',
      '2024-02 app',
      '2024-02 store',
      '2024-03 app',
      '2024-03 store',
    ])
    for (const [id, e] of Object.entries(BY_CHANNEL)) {
      for (const ch of ['app', 'store'] as const) {
        e[ch].forEach((v, i) => {
          const row = r.rows.find(
            (x) => x.dims['registration_channel'] === ch && x.period === `2024-0${i + 1}-01`,
          )
          close(row?.values[id], v, `${id} ${ch} 2024-0${i + 1}`)
        })
      }
    }
  })

  it('reads the cohort retention rate k periods after registration', async () => {
    const r = await runMetrics(s.db.driver, {
      metrics: ['cohort_retention_rate'],
      from: '2024-01',
      to: '2024-03',
      settings: { ...SETTINGS, cohortPeriods: 2 },
    })
    // k = 2: Jan reads Nov 2023's M5 (active in Jan) · Feb reads December (nobody) · Mar reads Jan's M1, M2, of
    // whom only M2 is active in March.
    r.rows.forEach((row, i) =>
      close(row.values['cohort_retention_rate'], [1, n, 1 / 2][i] ?? n, row.label),
    )
    await expect(
      runMetrics(s.db.driver, {
        metrics: ['cohort_retention_rate'],
        from: '2024-01',
        to: '2024-03',
        settings: { cohortPeriods: 0 },
      }),
    ).rejects.toThrow('cohortPeriods')
  })

  it('puts the metrics from the analyses in a metric tree like any other', async () => {
    const t = await evaluateTree(
      s.db.driver,
      {
        goal: { name: { en: 'Keep members', zh: '留住会员' } },
        trends: ['pop'],
        core: [
          {
            metric: 'cohort_retention_rate',
            target: 0.5,
            related: [{ metric: 'predicted_clv', target: 40 }, { metric: 'winback_uplift' }],
          },
        ],
      },
      { period: '2024-03' },
    )
    const core = t.nodes[0]
    // March (default settings: k = 1): February's M3 is not active in March · RC: 140 / 3 · the win-back window
    // of March is not over · the change against February (1 → 0) is −100%, a decline.
    expect([core?.value, core?.status]).toEqual([0, 'off_track'])
    expect(core?.children.map((c) => [c.metric, c.value, c.status])).toEqual([
      ['predicted_clv', 140 / 3, 'on_track'],
      ['winback_uplift', null, 'no_data'],
      ['cohort_retention_rate', -1, 'off_track'],
    ])
  })

  it('splits purchases by the order channel', async () => {
    const r = await runMetrics(s.db.driver, {
      metrics: ['orders', 'buyers'],
      from: '2024-01',
      to: '2024-01',
      by: ['order_channel'],
    })
    // Jan orders: O1 O2 app (M1), O3 store (M2), O9 store (M5).
    expect(
      r.rows.map((x) => [x.dims['order_channel'], x.values['orders'], x.values['buyers']]),
    ).toEqual([
      ['app', 2, 1],
      ['store', 2, 2],
    ])
  })

  it('splits the coupon metrics by the campaign that issued the coupons', async () => {
    const r = await runMetrics(s.db.driver, {
      metrics: [
        'coupons_issued',
        'coupons_redeemed',
        'coupon_redemption_rate',
        'coupon_cost',
        'orders_with_coupon',
      ],
      from: '2024-01-01',
      to: '2024-03-31',
      grain: 'quarter',
      by: ['coupon_campaign'],
    })
    // A: K1 (used), K2, K6 · B: K3, K4, K5 (used), K7.
    expect(
      r.rows.map((x) => [
        x.dims['coupon_campaign'],
        x.values['coupons_issued'],
        x.values['coupons_redeemed'],
        x.values['coupon_redemption_rate'],
        x.values['coupon_cost'],
        x.values['orders_with_coupon'],
      ]),
    ).toEqual([
      ['A', 3, 1, 1 / 3, 10, 1],
      ['B', 4, 3, 3 / 4, 45, 2],
    ])
  })

  it('measures each campaign against its holdout, split by campaign, and gives null without a holdout', async () => {
    const metrics = [
      'campaign_incremental_orders',
      'campaign_incremental_revenue',
      'campaign_cost',
      'campaign_roi',
    ]
    const read = async (settings: Record<string, unknown> = {}) => {
      const r = await runMetrics(s.db.driver, {
        metrics,
        from: '2024-01-01',
        to: '2024-03-31',
        grain: 'quarter',
        by: ['campaign'],
        settings: { ...SETTINGS, ...settings },
      })
      return r.rows.map((x) => [x.dims['campaign'], ...metrics.map((m) => x.values[m])])
    }
    // A: 1 order and 170 against M5's holdout, cost 14.5 · C2: 0 and 0, cost 1 · C1, C3, C4 have no holdout.
    expect(await read()).toEqual([
      ['A', 1, 170, 14.5, (170 + 10 - 14.5) / 14.5],
      ['C1', n, n, 0, n],
      ['C2', 0, 0, 1, -1],
      ['C3', n, n, 0, n],
      ['C4', n, n, 0, n],
    ])
    // A 10-day window [01-04 10:00, 01-14 10:00) holds only M1's O1 (100): 1 order, 100.
    const ten = await read({ campaignWindowDays: 10 })
    expect(ten.find((x) => x[0] === 'A')).toEqual(['A', 1, 100, 14.5, (100 + 10 - 14.5) / 14.5])
    // 100-day windows are not over by the data end (04-01): empty until they are, the cost is known.
    const long = await read({ campaignWindowDays: 100 })
    expect(long.find((x) => x[0] === 'A')).toEqual(['A', n, n, 14.5, n])
    expect(long.find((x) => x[0] === 'C2')).toEqual(['C2', n, n, 1, n])
    await expect(read({ campaignWindowDays: 0 })).rejects.toThrow('campaignWindowDays')
    // The values a filter or a split can choose: members per campaign (touches) and per coupon campaign.
    const values = async (id: string) =>
      (await dimensionValues(s.db.driver, id)).values.map((v) => [v.value, v.members])
    expect(await values('campaign')).toEqual([
      ['A', 3],
      ['C2', 2],
      ['C1', 1],
      ['C3', 1],
      ['C4', 1],
    ])
    expect(await values('coupon_campaign')).toEqual([
      ['B', 3],
      ['A', 2],
    ])
    // Row dimensions of other sources do not apply.
    await expect(
      runMetrics(s.db.driver, {
        metrics: ['campaign_roi'],
        from: '2024-01',
        to: '2024-01',
        by: ['coupon_campaign'],
      }),
    ).rejects.toThrow('campaign_roi can be split by')
  })

  it('shows empty periods and dimension values as 0 or empty, never missing', async () => {
    const r = await runMetrics(s.db.driver, {
      metrics: ['orders', 'aov'],
      from: '2023-12',
      to: '2023-12',
      by: ['registration_channel'],
    })
    expect(
      r.rows.map((x) => [x.dims['registration_channel'], x.values['orders'], x.values['aov']]),
    ).toEqual([
      ['app', 0, null],
      ['store', 0, null],
    ])
  })

  it('gives null, not 0, for periods before the first record and after the last one', async () => {
    // The data runs from M5's registration (2023-11-01) to O8 (2024-04-01 00:00).
    const r = await runMetrics(s.db.driver, {
      metrics: ['orders', 'net_revenue', 'members_total', 'orders:pop'],
      from: '2023-10',
      to: '2024-06',
    })
    const by = Object.fromEntries(r.rows.map((x) => [x.label, x.values]))
    for (const month of ['2023-10', '2024-05', '2024-06']) {
      expect(by[month], month).toEqual({
        orders: null,
        net_revenue: null,
        members_total: null,
        'orders:pop': null,
      })
    }
    expect(by['2023-11']?.['orders']).toBe(1)
    expect(by['2023-12']?.['orders']).toBe(0)
    expect(by['2024-04']?.['orders']).toBe(1)
    expect(by['2024-04']?.['members_total']).toBe(5)
  })

  it('takes stage and segment snapshots at the end of the data when the range runs past it', async () => {
    const read = async (to: string) =>
      (
        await runMetrics(s.db.driver, {
          metrics: ['buyers'],
          from: '2024-01',
          to,
          by: ['lifecycle_stage', 'rfm_segment'],
        })
      ).rows
        .filter((r) => r.period <= '2024-04-01')
        .map((r) => [r.label, r.dims['lifecycle_stage'], r.dims['rfm_segment'], r.values['buyers']])
    const atDataEnd = await read('2024-04')
    expect(atDataEnd.length).toBeGreaterThan(0)
    expect(await read('2025-06')).toEqual(atDataEnd)
  })

  it('filters on member fields', async () => {
    const r = await runMetrics(s.db.driver, {
      metrics: ['net_revenue', 'buyers'],
      from: '2024-01',
      to: '2024-01',
      where: ['registration_channel=store'],
    })
    expect(r.rows[0]?.values).toEqual({ net_revenue: 80, buyers: 1 })
  })

  it('counts periods in the reporting time zone', async () => {
    // O7 at 2024-03-31 23:59:59 UTC is April 1 in Shanghai.
    const utc = await runMetrics(s.db.driver, {
      metrics: ['orders'],
      from: '2024-03',
      to: '2024-04',
    })
    const sh = await runMetrics(s.db.driver, {
      metrics: ['orders'],
      from: '2024-03',
      to: '2024-04',
      timezone: 'Asia/Shanghai',
    })
    expect(utc.rows.map((x) => x.values['orders'])).toEqual([1, 1])
    expect(sh.rows.map((x) => x.values['orders'])).toEqual([0, 2])
  })

  it('derives change rates and rolling averages from the series', async () => {
    const r = await runMetrics(s.db.driver, {
      metrics: ['net_revenue', 'net_revenue:pop', 'net_revenue:avg2', 'net_revenue:yoy'],
      from: '2024-02',
      to: '2024-03',
    })
    close(r.rows[0]?.values['net_revenue:pop'], 90 / 255 - 1, 'pop Feb')
    close(r.rows[1]?.values['net_revenue:pop'], 20 / 90 - 1, 'pop Mar')
    close(r.rows[0]?.values['net_revenue:avg2'], (255 + 90) / 2, 'avg2 Feb')
    close(r.rows[1]?.values['net_revenue:yoy'], null, 'yoy without a year earlier')
  })

  it('splits by the current tier, lifecycle stage and RFM segment, and filters on them', async () => {
    const tier = await runMetrics(s.db.driver, {
      metrics: ['enrolled_members', 'points_liability'],
      from: '2024-03',
      to: '2024-03',
      by: ['tier'],
    })
    expect(
      tier.rows.map((x) => [
        x.dims['tier'],
        x.values['enrolled_members'],
        x.values['points_liability'],
      ]),
    ).toEqual([
      ['gold', 1, 155 - 40 + 30], // L1: 100 + 50 − 5 − 60 + 60
      ['silver', 2, 67 + 10], // L2 67, L3 40 − 30
      [null, 0, 0], // M4, M5 are not enrolled
    ])
    // Stages as of the end of the range (2024-04-01, default lifecycle rules): M4 never bought.
    const stage = await runMetrics(s.db.driver, {
      metrics: ['members_total'],
      from: '2024-03',
      to: '2024-03',
      where: ['lifecycle_stage=registered_not_purchased'],
    })
    expect(stage.rows[0]?.values['members_total']).toBe(1)
    const byStage = await runMetrics(s.db.driver, {
      metrics: ['members_total'],
      from: '2024-03',
      to: '2024-03',
      by: ['lifecycle_stage'],
    })
    const total = byStage.rows.reduce((a, x) => a + (x.values['members_total'] ?? 0), 0)
    expect(total).toBe(5)
    const rfm = await runMetrics(s.db.driver, {
      metrics: ['buyers'],
      from: '2024-01',
      to: '2024-03',
      grain: 'quarter',
      by: ['rfm_segment'],
    })
    // Every Q1 buyer (M1, M2, M3, M5) has a segment; members without purchases have none.
    expect(rfm.rows.find((x) => x.dims['rfm_segment'] === null)?.values['buyers']).toBe(0)
    expect(rfm.rows.reduce((a, x) => a + (x.values['buyers'] ?? 0), 0)).toBe(4)
  })

  it('names the command to run when the ledger has not been synced', async () => {
    const empty = await scratch()
    try {
      await expect(
        runMetrics(empty.db.driver, { metrics: ['points_issued'], from: '2024-01', to: '2024-01' }),
      ).rejects.toThrow('loyalty sync')
      await expect(
        runMetrics(empty.db.driver, {
          metrics: ['members_total'],
          from: '2024-01',
          to: '2024-01',
          by: ['tier'],
        }),
      ).rejects.toThrow('loyalty sync')
    } finally {
      await empty.cleanup()
    }
  })

  it('follows the lifecycle definition of churn (purchase spells) and agrees with the lifecycle flows', async () => {
    // Purchase spells with 30 days: M5 [11-02, 12-02), [01-25, 02-24) · M1 [01-05, 03-11) ·
    // M2 [01-15, 02-14), [03-31, 04-30) · M3 [02-06, 03-07), [04-01, 05-01) · M4 none.
    const churn = ['churn_rate', 'churned_members', 'reactivation_rate', 'reactivated_members']
    const r = await runMetrics(s.db.driver, {
      metrics: churn,
      from: '2024-01',
      to: '2024-03',
      settings: { churnDays: 30 },
    })
    const expected: Record<string, (number | null)[]> = {
      churn_rate: [n, 2 / 3, 2 / 2], // Feb 1: M1 M2 M5, M2 and M5 churn · Mar 1: M1 M3, both churn
      churned_members: [0, 2, 2],
      reactivation_rate: [1, n, 1 / 2], // churned at Jan 1: M5 (back 01-25) · Mar 1: M2 (back 03-31), M5
      reactivated_members: [1, 0, 1],
    }
    for (const [id, e] of Object.entries(expected))
      e.forEach((v, i) => close(r.rows[i]?.values[id], v, `${id} ${r.rows[i]?.label}`))
    const flows = await getChurnFlows(s.db.driver, {
      from: '2024-01-01',
      to: '2024-03-31',
      grain: 'month',
      config: { churnDays: 30 },
    })
    expect(flows.map((f) => f.churnRate)).toEqual(r.rows.map((x) => x.values['churn_rate']))
    expect(flows.map((f) => f.reactivated)).toEqual(
      r.rows.map((x) => x.values['reactivated_members']),
    )
  })

  it('counts a churn falling exactly on a period start in the period it opens', async () => {
    const b = await scratch()
    try {
      await b.ingest(
        'orders',
        await b.file(
          'o.csv',
          [
            'order_id,phone,ordered_at,channel,net_amount,status',
            // Churn moment with 30 days: 2024-02-01 00:00:00, the first instant of February.
            'B1,13900000001,2024-01-02 00:00:00,app,10,paid',
            'B2,13900000002,2024-03-15 00:00:00,app,10,paid',
          ].join('\n'),
        ),
      )
      const r = await runMetrics(b.db.driver, {
        metrics: ['churn_rate', 'churned_members'],
        from: '2024-01',
        to: '2024-02',
        settings: { churnDays: 30 },
      })
      expect(r.rows.map((x) => [x.values['churned_members'], x.values['churn_rate']])).toEqual([
        [0, null],
        [1, 1],
      ])
      const flows = await getChurnFlows(b.db.driver, {
        from: '2024-01-01',
        to: '2024-02-29',
        grain: 'month',
        config: { churnDays: 30 },
      })
      expect(flows.map((f) => [f.churned, f.churnRate])).toEqual([
        [0, null],
        [1, 1],
      ])
    } finally {
      await b.cleanup()
    }
  })

  it('refuses what it cannot compute', async () => {
    await expect(
      runMetrics(s.db.driver, {
        metrics: ['nps'],
        from: '2024-01',
        to: '2024-01',
        by: ['order_channel'],
      }),
    ).rejects.toThrow('can be split by')
    await expect(
      runMetrics(s.db.driver, {
        metrics: ['mau'],
        from: '2024-01-01',
        to: '2024-01-07',
        grain: 'day',
      }),
    ).rejects.toThrow('is read at grain')
    await expect(
      runMetrics(s.db.driver, { metrics: ['nope'], from: '2024-01', to: '2024-01' }),
    ).rejects.toThrow('unknown metric')
    await expect(
      runMetrics(s.db.driver, {
        metrics: ['cost_per_new_member'],
        from: '2024-01',
        to: '2024-01',
        where: ['region=x'],
      }),
    ).rejects.toThrow('spend')
    await expect(
      runMetrics(s.db.driver, { metrics: ['orders'], from: '2024-02-30', to: '2024-03' }),
    ).rejects.toThrow('expected a date')
  })
})
