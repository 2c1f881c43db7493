/**
 * The member × day rollup: ingest keeps it equal to a rebuild (in one load, in two loads split by date with
 * changed and cancelled orders, across member merges), and every catalog metric and the metric tree give the
 * same results reading it as reading the raw tables.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INGEST_TABLES } from '../../src/core/schema.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { rebuildRollups, rollupStatus } from '../../src/duckdb/rollups/member-days.js'
import { getCohortRetention } from '../../src/engine/cohorts/cohort-retention.js'
import { CATALOG } from '../../src/engine/metrics/catalog.js'
import { monthRollupServes, rollupIsCurrent } from '../../src/engine/metrics/rollups.js'
import { DEFAULT_SETTINGS } from '../../src/engine/metrics/context.js'
import {
  purchaseSummaryCovers,
  purchaseSummaryIsCurrent,
  readPurchaseSummaryState,
} from '../../src/engine/lifecycle/purchase-summary.js'
import { getMemberStages, getStageCounts } from '../../src/engine/lifecycle/lifecycle-stages.js'
import { getRfmGrid } from '../../src/engine/rfm/rfm-grid.js'
import { getRfmScores, getRfmSummary } from '../../src/engine/rfm/rfm-scores.js'
import { runMetrics, type MetricRequest } from '../../src/engine/metrics/run.js'
import { DEFAULT_TREE, evaluateTree } from '../../src/engine/metrics/tree.js'
import { sql } from '../../src/engine/sql/fragment.js'
import type { Driver } from '../../src/engine/drivers/driver.js'
import type { DuckDbDriver } from '../../src/duckdb/driver.js'
import { simulate } from '../../src/simulate/simulate.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { scratch, TEST_CLOCK, ingestSimulated } from '../helpers/db.js'

const TZ = 'Asia/Shanghai'
let dir: string
let files: Record<string, string>
let whole: Database

/** The rollup's rows, in order. */
async function rollupRows(driver: DuckDbDriver): Promise<string> {
  const rows = await driver.all(
    sql`SELECT member_id, CAST(day AS VARCHAR) AS day, fact, event_type, n, CAST(amount AS VARCHAR) AS amount,
      CAST(last_ts AS VARCHAR) AS last_ts FROM member_day_activity ORDER BY ALL`,
  )
  const months = await driver.all(
    sql`SELECT member_id, CAST(month AS VARCHAR) AS month, active, engaged, prev_active, orders,
        CAST(amount AS VARCHAR) AS amount, CAST(last_ts AS VARCHAR) AS last_ts,
        CAST(last_order_ts AS VARCHAR) AS last_order_ts FROM member_month_activity ORDER BY ALL`,
  )
  const state = await driver.all(sql`SELECT * FROM rollup_month_state`)
  return JSON.stringify([rows, months, state], (_, v) => (typeof v === 'bigint' ? v.toString() : v))
}

/** The per-member purchase summary's rows and its state (but the time it was written), in order. */
async function summaryRows(driver: DuckDbDriver): Promise<string> {
  const rows = await driver.all(
    sql`SELECT member_id, purchases, CAST(first_ts AS VARCHAR) AS first_ts, CAST(last_ts AS VARCHAR) AS last_ts,
      median_gap_days, CAST(net_amount AS VARCHAR) AS net_amount, CAST(reactivated_at AS VARCHAR) AS reactivated_at
      FROM member_purchase_summary ORDER BY ALL`,
  )
  const state = await readPurchaseSummaryState(driver)
  return JSON.stringify([rows, { ...state, updatedAt: undefined }], (_, v) =>
    typeof v === 'bigint' ? v.toString() : v,
  )
}

/** The rollup and the purchase summary as ingest left them equal a rebuild from scratch, and are not empty. */
async function expectSameAsRebuild(driver: DuckDbDriver, minRows = 100): Promise<void> {
  expect(await rollupIsCurrent(driver, TZ)).toBe(true)
  expect(await purchaseSummaryIsCurrent(driver)).toBe(true)
  expect(await monthRollupServes(driver, DEFAULT_SETTINGS)).toBe(true)
  const kept = await rollupRows(driver)
  const keptSummary = await summaryRows(driver)
  const [days, months] = JSON.parse(kept) as unknown[][]
  expect(days?.length).toBeGreaterThanOrEqual(minRows)
  expect(months?.length).toBeGreaterThanOrEqual(1)
  expect((JSON.parse(keptSummary) as unknown[][])[0]?.length).toBeGreaterThanOrEqual(1)
  await rebuildRollups(driver, { clock: TEST_CLOCK })
  expect(await rollupRows(driver)).toBe(kept)
  expect(await summaryRows(driver)).toBe(keptSummary)
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-rollups-'))
  const sim = await simulate(dir, { members: 250, months: 13, seed: 5, end: '2026-10-31' })
  files = sim.files as Record<string, string>
  whole = await openDatabase(':memory:', { threads: 1 })
  await ingestSimulated(whole.driver, files)
})
afterAll(async () => {
  await whole?.close()
  await rm(dir, { recursive: true, force: true })
})

/** Every catalog metric readable at `grain`, over the last year, by registration channel. */
function catalogRequest(grain: 'month' | 'week' | 'day'): MetricRequest {
  const metrics = CATALOG.filter(
    (m) => (m.grains === undefined || m.grains.includes(grain)) && m.family !== 'loyalty',
  ).map((m) => m.id)
  const range =
    grain === 'month'
      ? { from: '2025-10', to: '2026-10' }
      : grain === 'week'
        ? { from: '2026-07-01', to: '2026-10-31' }
        : { from: '2026-09-20', to: '2026-10-31' }
  return { metrics, grain, ...range, timezone: TZ }
}

/** Metrics refused on this database (tables another command fills) are left out. */
async function readable(driver: Driver, request: MetricRequest): Promise<MetricRequest> {
  const ok: string[] = []
  for (const id of request.metrics) {
    const one = { ...request, metrics: [id], rollups: 'off' as const }
    if (
      await runMetrics(driver, one).then(
        () => true,
        () => false,
      )
    )
      ok.push(id)
  }
  return { ...request, metrics: ok }
}

describe('ingest keeps the rollup', () => {
  it('creates it on the first load, keyed by the project zone, equal to a rebuild', async () => {
    const status = await rollupStatus(whole.driver)
    expect(status).toMatchObject({ timezone: TZ, current: true })
    await expectSameAsRebuild(whole.driver)
  })

  it('loaded in two parts split by date, with orders changed and cancelled in the second, equals a rebuild', async () => {
    const s = await scratch()
    try {
      const d = s.db.driver
      const cutoff = '2026-04-15'
      const timeColumn: Record<string, string> = {
        members: 'registered_at',
        orders: 'ordered_at',
        events: 'ts',
        feedback: 'ts',
        returns: 'returned_at',
      }
      // Each part is written by DuckDB from the simulated file read as text, so that values pass unchanged.
      const part = async (t: string, where: string, name: string): Promise<string> => {
        const out = join(s.dir, name)
        await d.execute({
          sql: `COPY (SELECT * FROM read_csv(?, all_varchar = true, header = true) WHERE ${where}) TO '${out.replaceAll("'", "''")}' (HEADER, DELIMITER ',')`,
          parameters: [files[t] as string],
        })
        return out
      }
      for (const [n, cmp] of [
        [1, '<'],
        [2, '>='],
      ] as const) {
        for (const t of INGEST_TABLES) {
          const f = files[t]
          if (f === undefined) continue
          const col = timeColumn[t]
          if (col === undefined) {
            if (n === 2) await s.ingest(t, f)
            continue
          }
          const file = await part(t, `${col} ${cmp} '${cutoff}'`, `${t}-${n}.csv`)
          await s.ingest(t, file)
          if (n === 2) await expectSameAsRebuild(d)
        }
      }
      // Orders of the first part again: every fifth cancelled, every seventh moved three days later.
      const again = join(s.dir, 'orders-again.csv')
      await d.execute({
        sql: `COPY (SELECT * REPLACE (
            CASE WHEN hash(order_id) % 5 = 0 THEN 'cancelled' ELSE status END AS status,
            CASE WHEN hash(order_id) % 7 = 0 THEN strftime(CAST(ordered_at AS TIMESTAMP) + INTERVAL 3 DAY, '%Y-%m-%d %H:%M:%S') ELSE ordered_at END AS ordered_at)
          FROM read_csv(?, all_varchar = true, header = true) WHERE ordered_at < '${cutoff}')
          TO '${again.replaceAll("'", "''")}' (HEADER, DELIMITER ',')`,
        parameters: [files['orders'] as string],
      })
      const before = await rollupRows(d)
      const r = await s.ingest('orders', again)
      expect(r.rowsUpdated).toBeGreaterThan(10)
      expect(await rollupRows(d)).not.toBe(before)
      await expectSameAsRebuild(d)
    } finally {
      await s.cleanup()
    }
  })

  it('lands with the load or not at all: a dry run and a rejected file leave it as it was', async () => {
    const s = await scratch()
    try {
      const d = s.db.driver
      await s.ingest(
        'orders',
        await s.file(
          'o.csv',
          'order_id,phone,ordered_at,channel,net_amount\nA1,13800000001,2024-03-01 10:00:00,app,10\n',
        ),
      )
      const before = await rollupRows(d)
      const state = await rollupStatus(d)
      const next = await s.file(
        'o2.csv',
        'order_id,phone,ordered_at,channel,net_amount\nA2,13800000002,2024-03-02 10:00:00,app,20\n',
      )
      const dry = await s.ingest('orders', next, { dryRun: true })
      expect(dry.rowsInserted).toBe(1)
      // Unknown members refused after identity resolution, inside the load's transaction.
      await expect(s.ingest('orders', next, { unknownIdentity: 'reject' })).rejects.toThrow(
        /unknown members/,
      )
      expect(await rollupRows(d)).toBe(before)
      expect(await rollupStatus(d)).toEqual(state)
      await s.ingest('orders', next)
      expect(await rollupRows(d)).not.toBe(before)
      await expectSameAsRebuild(d, 1)
    } finally {
      await s.cleanup()
    }
  })

  it('recomputes both members when a load merges them', async () => {
    const s = await scratch()
    try {
      await s.ingest(
        'members',
        await s.file(
          'm.csv',
          'card_no,app_user_id,registered_at\nvip1,,2024-01-01 09:00:00\n,u-1,2024-02-01 09:00:00\n',
        ),
      )
      await s.ingest(
        'events',
        await s.file(
          'e.csv',
          'event_id,app_user_id,ts,event_type\nE1,u-1,2024-03-01 10:00:00,login\nE2,u-1,2024-03-01 20:00:00,check_in\n',
        ),
      )
      await s.ingest(
        'orders',
        await s.file(
          'o1.csv',
          'order_id,card_no,ordered_at,channel,net_amount\nA1,vip1,2024-03-01 11:00:00,store,10\n',
        ),
      )
      const before = await s.db.driver.all(sql`SELECT DISTINCT member_id FROM member_day_activity`)
      expect(before).toHaveLength(2)
      // An order carrying both identities: one person; the survivor holds every fact.
      const r = await s.ingest(
        'orders',
        await s.file(
          'o2.csv',
          'order_id,card_no,app_user_id,ordered_at,channel,net_amount\nS1,vip1,u-1,2024-03-02 10:00:00,store,99\n',
        ),
      )
      expect(r.membersMerged).toBe(1)
      const after = await s.db.driver.all<{ memberId: bigint; n: bigint }>(
        sql`SELECT member_id, sum(n) AS n FROM member_day_activity GROUP BY 1`,
      )
      expect(after).toEqual([{ memberId: 1n, n: 4n }])
      await expectSameAsRebuild(s.db.driver, 3)
    } finally {
      await s.cleanup()
    }
  })
})

describe('metrics read from the rollup equal the raw tables', () => {
  for (const grain of ['month', 'week', 'day'] as const) {
    it(`every catalog metric at the ${grain} grain, with trends`, async () => {
      const base = await readable(whole.driver, catalogRequest(grain))
      expect(base.metrics.length).toBeGreaterThan(30)
      const request = {
        ...base,
        metrics: base.metrics.flatMap((m) => [m, `${m}:pop`]),
        by: ['registration_channel'],
      }
      const raw = await runMetrics(whole.driver, { ...request, rollups: 'off' })
      const rolled = await runMetrics(whole.driver, request)
      expect(rolled).toEqual(raw)
      expect(raw.rows.some((r) => (r.values['active_members'] ?? 0) > 0)).toBe(true)
    })
  }

  it('with other qualifying and engagement events, and a member filter', async () => {
    const request: MetricRequest = {
      metrics: [
        'active_members',
        'engagement_rate',
        'period_retention',
        'dau',
        'churn_rate',
        'winback_rate',
      ].filter((id) => CATALOG.some((m) => m.id === id)),
      from: '2025-11',
      to: '2026-10',
      timezone: TZ,
      where: ['registration_channel=app'],
      settings: { qualifyingEvents: ['login', 'check_in'], engagementEvents: ['share'] },
    }
    expect(request.metrics.length).toBeGreaterThan(2)
    expect(await runMetrics(whole.driver, request)).toEqual(
      await runMetrics(whole.driver, { ...request, rollups: 'off' }),
    )
  })

  it('the cohort retention matrix, for every kind of activity, both forms, by month, quarter and week, as of a month start and mid-month', async () => {
    let filled = 0
    for (const activity of ['any', 'event', 'purchase', 'event:login'] as const) {
      for (const form of ['n-period', 'unbounded'] as const) {
        for (const [grain, asOf] of [
          ['month', '2026-10-01'],
          ['month', '2026-10-16'],
          ['quarter', '2026-08-20'],
          ['week', '2026-10-01'],
        ] as const) {
          const spec = {
            activity,
            grain,
            anchor: grain === 'week' ? ('first-purchase' as const) : ('registration' as const),
            periods: grain === 'week' ? 20 : grain === 'quarter' ? 4 : 12,
            asOf,
            timezone: TZ,
          }
          const raw = await getCohortRetention(whole.driver, spec, form, 'off')
          expect(
            await getCohortRetention(whole.driver, spec, form),
            `${activity} ${form} ${grain} ${asOf}`,
          ).toEqual(raw)
          filled += raw.cohorts.filter((c) =>
            c.cells.some((x) => x.period > 0 && x.active > 0),
          ).length
        }
      }
    }
    expect(filled).toBeGreaterThan(50)
  })

  it('the metric tree', async () => {
    const options = { timezone: TZ, period: '2026-09' }
    const raw = await evaluateTree(whole.driver, DEFAULT_TREE, { ...options, rollups: 'off' })
    expect(await evaluateTree(whole.driver, DEFAULT_TREE, options)).toEqual(raw)
  })

  it('is read when current: a damaged rollup changes the answer, a stale one is passed over', async () => {
    const d = whole.driver
    const request: MetricRequest = {
      metrics: ['active_members', 'engagement_rate'],
      from: '2026-08',
      to: '2026-10',
      timezone: TZ,
    }
    const raw = await runMetrics(d, { ...request, rollups: 'off' })
    await d.execute(sql`CREATE TABLE kept_rollup AS SELECT * FROM member_day_activity`)
    await d.execute(sql`CREATE TABLE kept_events AS SELECT * FROM events`)
    try {
      await d.execute(sql`DELETE FROM member_day_activity WHERE fact = 'event'`)
      expect(await runMetrics(d, request)).not.toEqual(raw)
      const cohorts = { activity: 'event', asOf: '2026-10-01', timezone: TZ }
      expect(await getCohortRetention(d, cohorts)).not.toEqual(
        await getCohortRetention(d, cohorts, 'n-period', 'off'),
      )
      // In another reporting zone the raw tables are read.
      expect(await runMetrics(d, { ...request, timezone: 'UTC' })).toEqual(
        await runMetrics(d, { ...request, timezone: 'UTC', rollups: 'off' }),
      )
      // A raw table changed outside ingest: the rollup is no longer current and is passed over.
      await d.execute(sql`DELETE FROM events WHERE event_id = (SELECT min(event_id) FROM events)`)
      expect(await rollupIsCurrent(d, TZ)).toBe(false)
      expect(await runMetrics(d, request)).toEqual(
        await runMetrics(d, { ...request, rollups: 'off' }),
      )
    } finally {
      await d.execute(sql`DELETE FROM events`)
      await d.execute(sql`INSERT INTO events SELECT * FROM kept_events`)
      await d.execute(sql`DELETE FROM member_day_activity`)
      await d.execute(sql`INSERT INTO member_day_activity SELECT * FROM kept_rollup`)
      await d.execute(sql`DROP TABLE kept_rollup`)
      await d.execute(sql`DROP TABLE kept_events`)
    }
    expect(await rollupIsCurrent(d, TZ)).toBe(true)
  })
})

describe('the member × month table', () => {
  const request: MetricRequest = {
    metrics: [
      'active_members',
      'period_retention',
      'engagement_rate',
      'orders',
      'buyers',
      'net_revenue',
      'purchase_frequency',
      'repurchase_rate',
    ],
    from: '2026-01',
    to: '2026-10',
    timezone: TZ,
  }

  it('answers month, quarter and year queries; week and day queries and other settings read the day rollup', async () => {
    const d = whole.driver
    expect(await monthRollupServes(d, DEFAULT_SETTINGS)).toBe(true)
    const reads = {
      month: request,
      quarter: { ...request, grain: 'quarter' as const, from: '2025-10-01', to: '2026-09-30' },
      year: { ...request, grain: 'year' as const, from: '2025-01-01', to: '2026-12-31' },
    }
    const others = {
      week: { ...request, grain: 'week' as const, from: '2026-08-03', to: '2026-10-25' },
      settings: { ...request, settings: { engagementEvents: ['share'] } },
    }
    const raw = async (r: MetricRequest) => runMetrics(d, { ...r, rollups: 'off' })
    await d.execute(sql`CREATE TABLE kept_months AS SELECT * FROM member_month_activity`)
    try {
      // Damaged behind its state's back: every read of it changes, the others do not.
      await d.execute(
        sql`DELETE FROM member_month_activity WHERE member_id % 3 = 0 AND month >= TIMESTAMP '2025-12-01'`,
      )
      expect(await monthRollupServes(d, DEFAULT_SETTINGS)).toBe(true)
      for (const [name, r] of Object.entries(reads))
        expect(await runMetrics(d, r), name).not.toEqual(await raw(r))
      for (const [name, r] of Object.entries(others))
        expect(await runMetrics(d, r), name).toEqual(await raw(r))
      // The cohort matrix by month reads its latest times; by week the day rollup.
      const cohorts = { activity: 'any', asOf: '2026-10-16', timezone: TZ }
      const cohortsRaw = (grain: 'month' | 'week') =>
        getCohortRetention(d, { ...cohorts, grain }, 'n-period', 'off')
      expect(await getCohortRetention(d, { ...cohorts, grain: 'month' })).not.toEqual(
        await cohortsRaw('month'),
      )
      expect(await getCohortRetention(d, { ...cohorts, grain: 'week' })).toEqual(
        await cohortsRaw('week'),
      )
      expect(await monthRollupServes(d, { ...DEFAULT_SETTINGS, qualifyingEvents: ['login'] })).toBe(
        false,
      )
      // By order channel, purchases are read from orders; the member periods still from the month table.
      const byChannel = {
        ...request,
        metrics: ['orders', 'buyers', 'purchase_frequency'],
        by: ['order_channel'],
      }
      expect(await runMetrics(d, byChannel)).toEqual(await raw(byChannel))
      // The day rollup changed without it (a day rollup written by another version): passed over.
      await d.execute(sql`UPDATE rollup_month_state SET day_rows = day_rows - 1`)
      expect(await monthRollupServes(d, DEFAULT_SETTINGS)).toBe(false)
      for (const [name, r] of Object.entries(reads))
        expect(await runMetrics(d, r), name).toEqual(await raw(r))
    } finally {
      await d.execute(sql`DELETE FROM member_month_activity`)
      await d.execute(sql`INSERT INTO member_month_activity SELECT * FROM kept_months`)
      await d.execute(sql`DROP TABLE kept_months`)
      await d.execute(
        sql`UPDATE rollup_month_state SET day_rows = (SELECT count(*) FROM member_day_activity)`,
      )
    }
    for (const [name, r] of Object.entries(reads))
      expect(await runMetrics(d, r), name).toEqual(await raw(r))
  })

  it('is rebuilt whole by the next load when it no longer matches the day rollup', async () => {
    const s = await scratch()
    try {
      const d = s.db.driver
      await ingestSimulated(d, files, ['members', 'orders'])
      await d.execute(sql`DELETE FROM member_month_activity WHERE member_id % 2 = 0`)
      await d.execute(sql`UPDATE rollup_month_state SET day_rows = -1`)
      const f = files['feedback']
      if (f === undefined) throw new Error('the simulation wrote no feedback')
      await ingestFile(d, f, { table: 'feedback', clock: TEST_CLOCK })
      await expectSameAsRebuild(d, 3)
    } finally {
      await s.cleanup()
    }
  })
})

describe('the per-member purchase summary keeps money exact', () => {
  it('keeps every decimal of the amounts, and a summary of the earlier type is computed again', async () => {
    const s = await scratch()
    try {
      const d = s.db.driver
      const header = 'order_id,phone,ordered_at,channel,net_amount\n'
      await s.ingest(
        'orders',
        await s.file(
          'o.csv',
          `${header}A1,13800000001,2024-03-01 10:00:00,app,10.1234\nA2,13800000001,2024-04-01 10:00:00,app,0.0011\nA3,13800000002,2024-04-02 10:00:00,app,7.5\n`,
        ),
      )
      const asOf = '2024-05-01'
      const monetary = async (summaries: 'auto' | 'off') =>
        (await getRfmScores(d, asOf, {}, summaries)).map((x) => x.monetary)
      expect(await purchaseSummaryCovers(d, asOf)).toBe(true)
      expect(await monetary('auto')).toEqual([10.1245, 7.5])
      expect(await monetary('off')).toEqual([10.1245, 7.5])
      // A summary written by an earlier version rounded to cents: the next load computes it again.
      await d.execute(sql`ALTER TABLE member_purchase_summary ALTER net_amount TYPE DECIMAL(38,2)`)
      await s.ingest(
        'orders',
        await s.file('o2.csv', `${header}A4,13800000002,2024-04-03 10:00:00,app,0.0001\n`),
      )
      const type = await d.first<{ t: string }>(
        sql`SELECT data_type AS t FROM information_schema.columns
          WHERE table_name = 'member_purchase_summary' AND column_name = 'net_amount'`,
      )
      expect(type?.t).toBe('DECIMAL(18,4)')
      expect(await purchaseSummaryCovers(d, asOf)).toBe(true)
      expect(await monetary('auto')).toEqual([10.1245, 7.5001])
      await expectSameAsRebuild(d, 3)
    } finally {
      await s.cleanup()
    }
  })
})

/** Every number to 12 significant digits: sums of doubles over members depend on the order they are added in. */
function rounded(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x), (_, v: unknown) =>
    typeof v === 'number' ? Number(v.toPrecision(12)) : v,
  )
}

describe('lifecycle stages and RFM read from the purchase summary equal every purchase', () => {
  /** The day after the last order: the default instant of both analyses. */
  const AS_OF = '2026-11-01'

  it('stage of every member and stage sizes, with the default rules and with other windows', async () => {
    const d = whole.driver
    expect(await purchaseSummaryCovers(d, `${AS_OF} 00:00:00`, 365)).toBe(true)
    for (const config of [{}, { loyalOrders: 2, loyalWindowDays: 120.5, reactivatedDays: 200 }]) {
      const raw = await getMemberStages(d, AS_OF, config, 'off')
      expect(await getMemberStages(d, AS_OF, config)).toEqual(raw)
      expect(await getStageCounts(d, AS_OF, config)).toEqual(
        await getStageCounts(d, AS_OF, config, 'off'),
      )
      // Every stage is reached, so the comparison covers every rule.
      const stages = new Set(raw.map((m) => m.stage))
      expect(stages.size, JSON.stringify([...stages])).toBeGreaterThanOrEqual(7)
    }
  })

  it('RFM scores, segment sizes and the grid', async () => {
    const d = whole.driver
    for (const config of [
      {},
      {
        scoring: {
          method: 'cuts' as const,
          recencyDays: [30, 60, 120, 240],
          frequency: [1, 2, 4, 8],
          monetary: [100, 300, 800, 2000],
        },
      },
    ]) {
      const raw = await getRfmScores(d, AS_OF, config, 'off')
      expect(raw.length).toBeGreaterThan(100)
      expect(await getRfmScores(d, AS_OF, config)).toEqual(raw)
      expect(rounded(await getRfmSummary(d, AS_OF, config))).toEqual(
        rounded(await getRfmSummary(d, AS_OF, config, 'off')),
      )
      expect(rounded(await getRfmGrid(d, AS_OF, config))).toEqual(
        rounded(await getRfmGrid(d, AS_OF, config, 'off')),
      )
    }
  })

  it('is read when it covers the question: a damaged summary changes the answer, else it is passed over', async () => {
    const d = whole.driver
    const rawStages = await getStageCounts(d, AS_OF, {}, 'off')
    const rawRfm = await getRfmSummary(d, AS_OF, {}, 'off')
    await d.execute(sql`CREATE TABLE kept_summary AS SELECT * FROM member_purchase_summary`)
    try {
      await d.execute(
        sql`UPDATE member_purchase_summary SET purchases = purchases + 3, last_ts = first_ts`,
      )
      expect(await getStageCounts(d, AS_OF)).not.toEqual(rawStages)
      expect(await getRfmSummary(d, AS_OF)).not.toEqual(rawRfm)
      // Another churn threshold, an instant before the last purchase, a lookback window: every purchase is read.
      expect(await getStageCounts(d, AS_OF, { churnDays: 300 })).toEqual(
        await getStageCounts(d, AS_OF, { churnDays: 300 }, 'off'),
      )
      expect(await getStageCounts(d, '2026-10-31')).toEqual(
        await getStageCounts(d, '2026-10-31', {}, 'off'),
      )
      expect(rounded(await getRfmSummary(d, AS_OF, { lookbackDays: 400 }))).toEqual(
        rounded(await getRfmSummary(d, AS_OF, { lookbackDays: 400 }, 'off')),
      )
      // Orders changed outside ingest: the summary is no longer current and is passed over.
      await d.execute(sql`CREATE TABLE kept_orders AS SELECT * FROM orders`)
      try {
        await d.execute(sql`DELETE FROM orders WHERE order_id = (SELECT min(order_id) FROM orders)`)
        expect(await purchaseSummaryIsCurrent(d)).toBe(false)
        expect(await getStageCounts(d, AS_OF)).toEqual(await getStageCounts(d, AS_OF, {}, 'off'))
      } finally {
        await d.execute(sql`DELETE FROM orders`)
        await d.execute(sql`INSERT INTO orders SELECT * FROM kept_orders`)
        await d.execute(sql`DROP TABLE kept_orders`)
      }
    } finally {
      await d.execute(sql`DELETE FROM member_purchase_summary`)
      await d.execute(sql`INSERT INTO member_purchase_summary SELECT * FROM kept_summary`)
      await d.execute(sql`DROP TABLE kept_summary`)
    }
    expect(await getStageCounts(d, AS_OF)).toEqual(rawStages)
  })
})
