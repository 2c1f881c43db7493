/**
 * `clv fit --covariates` and `clv report --covariates`: names checked (errors name the option), the covariate
 * fit in --json and in text in English and Chinese, on BG/NBD (static and season) and Pareto/NBD (static).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { fixedClock } from '../../src/core/clock.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { simulate } from '../../src/simulate/simulate.js'
import { openDatabase } from '../../src/store/database.js'
import { runCli } from '../helpers/cli.js'

let dir: string
let dbPath: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-covariates-cli-'))
  const sim = await simulate(join(dir, 'sim'), {
    members: 1500,
    months: 24,
    end: '2026-10-31',
    seed: 3,
    plantedCovariates: true,
    tables: ['members', 'orders'],
  })
  dbPath = join(dir, 'covariates.duckdb')
  const db = await openDatabase(dbPath, { threads: 1 })
  try {
    for (const t of ['members', 'orders'] as const) {
      const file = sim.files[t]
      if (file === undefined) throw new Error(`no ${t} file`)
      await ingestFile(db.driver, file, { table: t, clock: fixedClock('2026-11-01T00:00:00Z') })
    }
  } finally {
    await db.close()
  }
}, 60_000)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const COMMON = ['--origin', 'registration', '--calibration-end', '2026-10-31']

it('fits the covariates and returns them with the run in --json', async () => {
  const r = await runCli([
    'clv',
    'fit',
    '--db',
    dbPath,
    ...COMMON,
    '--tz',
    'Asia/Shanghai',
    '--covariates',
    'channel,region,season',
    '--json',
  ])
  expect(r.err).toBe('')
  expect(r.code).toBe(0)
  const out = JSON.parse(r.out) as {
    runId: string
    covariates: {
      covariates: string[]
      coding: { covariate: string; reference: string }[]
      effects: { name: string; process: string; estimate: number; lower: number; upper: number }[]
      lrt: { df: number; pValue: number }
      windows: { event: string }[]
    }
  }
  expect(out.runId).toMatch(/\S/)
  expect(out.covariates.covariates).toEqual(['channel', 'region', 'season'])
  expect(out.covariates.coding.map((c) => c.covariate)).toEqual(['channel', 'region'])
  const season = out.covariates.effects.find((e) => e.name === 'season')
  expect(season?.process).toBe('purchase')
  expect(season?.lower).toBeGreaterThan(0)
  expect(out.covariates.windows.map((w) => w.event)).toContain('double_11')
  // df: one purchase and one drop-out effect per dummy, plus the season.
  const dummies = out.covariates.effects.filter((e) => e.process === 'dropout').length
  expect(out.covariates.lrt.df).toBe(2 * dummies + 1)
  expect(out.covariates.lrt.pValue).toBeLessThan(0.001)
})

it('prints the effects in English and in Chinese', async () => {
  const en = await runCli(['clv', 'fit', '--db', dbPath, ...COMMON, '--covariates', 'channel'])
  expect(en.code).toBe(0)
  expect(en.out).toContain('Covariates on BG/NBD (95% intervals)')
  expect(en.out).toMatch(/channel=store/)
  expect(en.out).toContain('LRT vs the model without covariates')
  const zh = await runCli([
    'clv',
    'fit',
    '--db',
    dbPath,
    ...COMMON,
    '--covariates',
    'season',
    '--lang',
    'zh',
  ])
  expect(zh.code).toBe(0)
  expect(zh.out).toContain('BG/NBD 协变量')
  expect(zh.out).toContain('旺季')
  expect(zh.out).toContain('购买率')
})

it('shows the covariates in clv report beside the holdout validation', async () => {
  const r = await runCli([
    'clv',
    'report',
    '--db',
    dbPath,
    '--origin',
    'registration',
    '--calibration-end',
    '2026-06-30',
    '--holdout-end',
    '2026-10-31',
    '--covariates',
    'channel,season',
    '--json',
  ])
  expect(r.err).toBe('')
  const out = JSON.parse(r.out) as {
    totals: { actual: number }
    covariates: { effects: { name: string }[]; lrt: { statistic: number } }
  }
  expect(out.totals.actual).toBeGreaterThan(0)
  expect(out.covariates.effects.map((e) => e.name)).toContain('channel=store')
  expect(out.covariates.lrt.statistic).toBeGreaterThan(0)
})

it('fits static covariates on Pareto/NBD with --model pareto-nbd', async () => {
  const r = await runCli([
    'clv',
    'fit',
    '--db',
    dbPath,
    ...COMMON,
    '--model',
    'pareto-nbd',
    '--covariates',
    'channel',
    '--json',
  ])
  expect(r.err).toBe('')
  const out = JSON.parse(r.out) as {
    purchase: { logLikelihood: number }
    covariates: {
      model: string
      params: Record<string, number>
      baseline: { logLikelihood: number }
      effects: { name: string; process: string }[]
    }
  }
  expect(out.covariates.model).toBe('pareto-nbd')
  expect(Object.keys(out.covariates.params)).toEqual(['r', 'alpha', 's', 'beta'])
  // The run's own Pareto/NBD fit is the LRT's null model.
  expect(out.covariates.baseline.logLikelihood).toBe(out.purchase.logLikelihood)
  expect(out.covariates.effects.filter((e) => e.process === 'dropout')).toHaveLength(3)
  const text = await runCli(['clv', 'fit', '--db', dbPath, ...COMMON, '--model', 'pareto-nbd', '--covariates', 'channel'])
  expect(text.out).toContain('Covariates on Pareto/NBD (95% intervals)')
  expect(text.out).toContain('drop-out rate')
})

it('rejects an unknown covariate, naming the option, and covariates on another model', async () => {
  const bad = await runCli(['clv', 'fit', '--db', dbPath, '--covariates', 'channel,regoin'])
  expect(bad.code).not.toBe(0)
  expect(bad.err).toContain('--covariates')
  expect(bad.err).toContain('regoin')
  expect(bad.err).toContain('region')
  const model = await runCli([
    'clv',
    'fit',
    '--db',
    dbPath,
    '--model',
    'pareto-nbd',
    '--covariates',
    'channel,season',
  ])
  expect(model.code).not.toBe(0)
  expect(model.err).toContain('--covariates')
  expect(model.err).toContain('BG/NBD only')
  const mbg = await runCli(['clv', 'fit', '--db', dbPath, '--model', 'mbg-nbd', '--covariates', 'channel'])
  expect(mbg.code).not.toBe(0)
  expect(mbg.err).toContain('--covariates')
})
