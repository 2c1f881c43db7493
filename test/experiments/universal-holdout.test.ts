/**
 * The programme's incrementality against a universal holdout: the simulator holds 10 % of the members out
 * of every member campaign from t0 on (`universalHoldout`), and `experiments report` reads the programme's
 * effect on purchases, conversion and predicted CLV against that holdout with CUPED.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { experimentReport, planExperiment } from '../../src/analytics/experiments/experiments.js'
import { programEffect } from '../../src/analytics/experiments/effects.js'
import { runClv } from '../../src/analytics/clv/clv.js'
import { renderReport } from '../../src/cli/commands/experiments.js'
import { InputError, NotFoundError } from '../../src/core/errors.js'
import { INGEST_TABLES } from '../../src/core/schema.js'
import { sql } from '../../src/engine/sql/fragment.js'
import { simulate, type SimulateResult } from '../../src/simulate/simulate.js'
import type { UniversalHoldoutTruth } from '../../src/simulate/universal-holdout.js'
import { runCli } from '../helpers/cli.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let sim: SimulateResult
let truth: UniversalHoldoutTruth
const SIM = { members: 4000, months: 24, seed: 19, end: '2026-10-31' }

beforeAll(async () => {
  s = await scratch()
  sim = await simulate(join(s.dir, 'data'), {
    ...SIM,
    universalHoldout: true,
    upliftCampaign: true,
  })
  const t = sim.truth.universalHoldout
  if (!t) throw new Error('no universal holdout in the truth')
  truth = t
  for (const table of INGEST_TABLES) await s.ingest(table, sim.files[table] as string)
})
afterAll(async () => {
  await s.cleanup()
})

const count = async (q: ReturnType<typeof sql>): Promise<number> =>
  Number((await s.db.driver.first<{ n: number | bigint }>(q))?.n ?? NaN)

/** The report the docs give: the whole window from t0 to the data end, a 180-day pre-period for CUPED. */
const report = (metric: 'orders' | 'conversion' | 'predicted_clv') =>
  experimentReport(s.db.driver, truth.experimentId, {
    metric,
    windowDays: truth.windowDays,
    preDays: 180,
    control: 'holdout',
    guardrails: [],
    // Variants in alphabetical order: holdout, program (the intended 1 : 9 split).
    weights: [1, 9],
  })

describe('simulator: universal holdout', () => {
  it('records the assignment as experiment rows, about 10 % held out', async () => {
    const rows = await s.db.driver.all<{ variant: string; n: number | bigint; at: string }>(
      sql`SELECT variant, count(*) AS n, strftime(min(assigned_at), '%Y-%m-%dT%H:%M:%SZ') AS at
        FROM experiments WHERE experiment_id = ${truth.experimentId} GROUP BY variant ORDER BY variant`,
    )
    expect(rows.map((r) => [r.variant, Number(r.n)])).toEqual([
      ['holdout', truth.variants.holdout.n],
      ['program', truth.variants.program.n],
    ])
    expect(rows[0]?.at).toBe(truth.assignedAt.replace('.000', ''))
    const share = truth.variants.holdout.n / (truth.variants.holdout.n + truth.variants.program.n)
    expect(share).toBeGreaterThan(0.07)
    expect(share).toBeLessThan(0.13)
    expect(truth.trueEffect.plantedExtraOrders).toBeGreaterThan(0)
  })

  it('holdout members get no touch from t0 on (no win-back, retention campaign, promo or birthday row); programme members do', async () => {
    const after = (variant: string, extra = sql`TRUE`) =>
      count(sql`SELECT count(*) AS n FROM touches t
        JOIN experiments e ON e.member_id = t.member_id AND e.experiment_id = ${truth.experimentId}
        WHERE e.variant = ${variant} AND t.sent_at >= e.assigned_at AND ${extra}`)
    const campaigns = sql`(t.campaign_id LIKE 'winback_%' OR t.campaign_id LIKE 'retention_test_%')`
    expect(await after('holdout')).toBe(0)
    expect(await after('holdout', campaigns)).toBe(0)
    expect(await after('program', campaigns)).toBeGreaterThan(100)
    expect(await after('program')).toBeGreaterThan(1000)
    // Before t0 the holdout is treated like everyone.
    expect(
      await count(sql`SELECT count(*) AS n FROM touches t
        JOIN experiments e ON e.member_id = t.member_id AND e.experiment_id = ${truth.experimentId}
        WHERE e.variant = 'holdout' AND t.sent_at < e.assigned_at AND t.kind = 'promo'`),
    ).toBeGreaterThan(0)
  })

  it('leaves the data without the option as it was: no holdout rows, and the touches of a run with it are that run’s minus the holdout’s after t0', async () => {
    const small = { ...SIM, members: 800 }
    const a = await simulate(join(s.dir, 'off'), { ...small, tables: ['touches', 'experiments'] })
    const b = await simulate(join(s.dir, 'on'), {
      ...small,
      tables: ['touches', 'experiments'],
      universalHoldout: true,
    })
    expect(a.truth.universalHoldout).toBeUndefined()
    const off = await readFile(a.files['experiments'] as string, 'utf8')
    expect(off).not.toContain('universal_holdout')
    const lines = async (r: SimulateResult) =>
      (await readFile(r.files['touches'] as string, 'utf8')).trim().split('\n').slice(1)
    const withOption = await lines(b)
    const without = new Map<string, number>()
    for (const l of await lines(a)) without.set(l, (without.get(l) ?? 0) + 1)
    for (const l of withOption) {
      const n = without.get(l) ?? 0
      expect(n, l).toBeGreaterThan(0)
      without.set(l, n - 1)
    }
    const t0 = b.truth.universalHoldout?.assignedAt.replace('.000', '') ?? ''
    const dropped = [...without].flatMap(([l, n]) => Array<string>(n).fill(l))
    expect(dropped.length).toBeGreaterThan(0)
    // sent_at is the fourth column of touches.csv.
    for (const l of dropped) expect(l.split(',')[3]! >= t0, l).toBe(true)
  })
})

describe('experiments report against the universal holdout', () => {
  it('orders: the CUPED interval contains the true programme effect and is narrower than the raw one', async () => {
    const r = await report('orders')
    expect(r.control).toBe('holdout')
    expect(r.goal.incomplete).toBe(0)
    const cmp = r.goal.comparisons[0]
    if (!cmp?.cuped) throw new Error('no CUPED comparison')
    expect(cmp.arm).toBe('program')
    const e = cmp.effect
    console.log(
      `orders: truth ${truth.trueEffect.ordersPerMember.toFixed(4)}; raw ${cmp.raw.difference.toFixed(4)} [${cmp.raw.ci[0].toFixed(4)}, ${cmp.raw.ci[1].toFixed(4)}] width ${cmp.cuped.widthRaw.toFixed(4)}; CUPED ${e.difference.toFixed(4)} [${e.ci[0].toFixed(4)}, ${e.ci[1].toFixed(4)}] width ${cmp.cuped.width.toFixed(4)} (${(100 * cmp.cuped.narrowing).toFixed(1)} % narrower); n = ${r.variants.map((v) => `${v.variant} ${v.members}`).join(', ')}`,
    )
    expect(e.ci[0]).toBeLessThan(truth.trueEffect.ordersPerMember)
    expect(e.ci[1]).toBeGreaterThan(truth.trueEffect.ordersPerMember)
    expect(cmp.cuped.width).toBeCloseTo(e.ci[1] - e.ci[0], 12)
    expect(cmp.cuped.widthRaw).toBeCloseTo(cmp.raw.ci[1] - cmp.raw.ci[0], 12)
    expect(cmp.cuped.width).toBeLessThan(cmp.cuped.widthRaw)
    expect(cmp.cuped.narrowing).toBeCloseTo(1 - cmp.cuped.width / cmp.cuped.widthRaw, 12)
    expect(cmp.cuped.narrowing).toBeGreaterThan(0.05)
    // No sample-ratio mismatch against the intended 1 : 9 split.
    const srm = await experimentReport(s.db.driver, truth.experimentId, {
      metric: 'orders',
      windowDays: truth.windowDays,
      weights: [1, 9],
      guardrails: [],
    })
    expect(srm.srm.mismatch).toBe(false)
  })

  it('conversion: the CUPED interval contains the true effect and is narrower than the raw one', async () => {
    const r = await report('conversion')
    const cmp = r.goal.comparisons[0]
    if (!cmp?.cuped) throw new Error('no CUPED comparison')
    const e = cmp.effect
    console.log(
      `conversion: truth ${(100 * truth.trueEffect.conversion).toFixed(2)} pp; raw [${(100 * cmp.raw.ci[0]).toFixed(2)}, ${(100 * cmp.raw.ci[1]).toFixed(2)}] pp; CUPED ${(100 * e.difference).toFixed(2)} [${(100 * e.ci[0]).toFixed(2)}, ${(100 * e.ci[1]).toFixed(2)}] pp (${(100 * cmp.cuped.narrowing).toFixed(1)} % narrower)`,
    )
    expect(e.ci[0]).toBeLessThan(truth.trueEffect.conversion)
    expect(e.ci[1]).toBeGreaterThan(truth.trueEffect.conversion)
    expect(cmp.cuped.width).toBeLessThan(cmp.cuped.widthRaw)
  })

  it('shows the width without and with CUPED in the text report (en, zh) and the JSON', async () => {
    const r = await report('orders')
    const cmp = r.goal.comparisons[0]
    if (!cmp?.cuped) throw new Error('no CUPED comparison')
    const en = renderReport(r, 'en')
    expect(en).toContain(
      `program: interval width ${cmp.cuped.widthRaw.toFixed(2)} without CUPED, ${cmp.cuped.width.toFixed(2)} with it`,
    )
    expect(en).toMatch(/\(\d+\.\d% narrower\)/)
    expect(r.srm.mismatch).toBe(false)
    expect(en).not.toContain('MISMATCH')
    const zh = renderReport(r, 'zh')
    expect(zh).toContain(`区间宽度 未经 CUPED ${cmp.cuped.widthRaw.toFixed(2)}`)
    expect(zh).toContain('对照组')
    const json = JSON.parse(JSON.stringify(r)) as typeof r
    expect(json.goal.comparisons[0]?.cuped?.widthRaw).toBe(cmp.cuped.widthRaw)
    expect(json.goal.comparisons[0]?.cuped?.narrowing).toBe(cmp.cuped.narrowing)
  })

  it('predicted_clv: a clear error before any CLV run, then the programme effect on the latest run’s scores', async () => {
    const before = await report('predicted_clv').catch((e: unknown) => e)
    expect(before).toBeInstanceOf(NotFoundError)
    expect((before as Error).message).toContain('predicted_clv')
    expect((before as Error).message).toContain('memberlens clv fit')

    await runClv(s.db.driver, { calibrationEnd: SIM.end, horizonMonths: 12 }, TEST_CLOCK)
    const r = await report('predicted_clv')
    const run = r.goal.clvRun
    if (!run) throw new Error('no CLV run in the result')
    expect(run.horizonMonths).toBe(12)
    expect(run.calibrationEnd).toBe(SIM.end)
    const unscored = await count(sql`SELECT count(*) AS n FROM experiments e
      WHERE e.experiment_id = ${truth.experimentId} AND e.member_id NOT IN
        (SELECT member_id FROM member_scores WHERE run_id = ${run.runId})`)
    expect(run.unscored).toBe(unscored)
    expect(unscored).toBeGreaterThan(0)
    const analysed = r.goal.arms.reduce((n, a) => n + a.members, 0)
    expect(analysed + unscored).toBe(truth.variants.holdout.n + truth.variants.program.n)
    // The arm means are the scores' means (no zero filled in for the unscored).
    const mean = await s.db.driver.first<{ m: number }>(sql`SELECT avg(ms.clv) AS m
      FROM experiments e JOIN member_scores ms ON ms.member_id = e.member_id AND ms.run_id = ${run.runId}
      WHERE e.experiment_id = ${truth.experimentId} AND e.variant = 'holdout'`)
    expect(r.goal.arms.find((a) => a.arm === 'holdout')?.value).toBeCloseTo(mean?.m ?? NaN, 6)
    const cmp = r.goal.comparisons[0]
    if (!cmp?.cuped) throw new Error('no CUPED comparison')
    console.log(
      `predicted CLV (12 months): raw ${cmp.raw.difference.toFixed(2)} [${cmp.raw.ci[0].toFixed(2)}, ${cmp.raw.ci[1].toFixed(2)}]; CUPED ${cmp.effect.difference.toFixed(2)} [${cmp.effect.ci[0].toFixed(2)}, ${cmp.effect.ci[1].toFixed(2)}] (${(100 * cmp.cuped.narrowing).toFixed(1)} % narrower), ${unscored} unscored`,
    )
    expect(cmp.cuped.width).toBeLessThan(cmp.cuped.widthRaw)
    expect(renderReport(r, 'en')).toContain(
      `predicted CLV of run ${run.runId}: 12-month horizon, scores as of ${SIM.end}; ${unscored} members without a score left out`,
    )
  })

  it('planning and campaign effects refuse predicted_clv with a reason', async () => {
    const plan = await planExperiment(s.db.driver, { metric: 'predicted_clv' }).catch(
      (e: unknown) => e,
    )
    expect(plan).toBeInstanceOf(InputError)
    expect((plan as InputError).issues[0]?.field).toBe('metric')
    expect((plan as InputError).issues[0]?.reason).toContain('latest CLV run')
    const campaign = await s.db.driver.first<{ id: string }>(
      sql`SELECT campaign_id AS id FROM touches WHERE campaign_id LIKE 'winback_%' LIMIT 1`,
    )
    const effect = await programEffect(s.db.driver, campaign?.id ?? '', {
      metrics: ['orders', 'predicted_clv'],
    }).catch((e: unknown) => e)
    expect(effect).toBeInstanceOf(InputError)
    expect((effect as InputError).issues[0]?.reason).toContain('a campaign effect cannot use it')
  })
})

describe('CLI', () => {
  it('simulate --universal-holdout writes the holdout section of truth.json; --help names the option and the report’s help the universal holdout and predicted_clv', async () => {
    const out = join(s.dir, 'cli')
    const run = await runCli([
      'simulate',
      '--out',
      out,
      '--members',
      '300',
      '--months',
      '12',
      '--universal-holdout',
      '--quiet',
    ])
    expect(run.code).toBe(0)
    const t = JSON.parse(await readFile(join(out, 'truth.json'), 'utf8')) as {
      universalHoldout?: UniversalHoldoutTruth
    }
    expect(t.universalHoldout?.holdoutShare).toBe(0.1)
    const help = await runCli(['simulate', '--help'])
    expect(help.out).toContain('--universal-holdout')
    const report = await runCli(['experiments', 'report', '--help'])
    expect(report.out).toContain('predicted_clv reads each member')
    expect(report.out).toContain('--control holdout')
  })
})
