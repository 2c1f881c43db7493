/**
 * The simulator's planted covariate effects (option plantedCovariates) must be recovered by the CLV
 * covariate model: registration channel `store` multiplies the purchase rate by e^γ, and the high-season
 * windows (年货节, 618, 双11) multiply everyone's purchase rate by e^γ_season; region and the drop-out carry
 * no planted effect. Summaries start at registration (the simulator's BG/NBD clock) and count days in Beijing
 * time (the simulator's local days). The simulator's default seed.
 *
 * Only region serves as the "no effect" check: the other channels carry none by design, but the ingested data
 * give app members a few per cent more purchase days than the simulated process (orders attributed across
 * members by identity resolution), which shows as a small negative effect of mini_program and web against app
 * and pulls the store estimate down by a similar amount (docs/models.md#covariates).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { clvCovariateFit, type ClvCovariateReport } from '../../src/analytics/clv/covariates.js'
import { fixedClock } from '../../src/core/clock.js'
import { highSeasonWindows } from '../../src/calendar/index.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { simulate, type GroundTruth } from '../../src/simulate/simulate.js'
import { openDatabase, type Database } from '../../src/store/database.js'

const OPTIONS = { members: 4000, months: 24, end: '2026-10-31', seed: 42, plantedCovariates: true }
let dir: string
let db: Database
let truth: GroundTruth
let fit: ClvCovariateReport

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-covariates-'))
  const sim = await simulate(dir, { ...OPTIONS, tables: ['members', 'orders'] })
  truth = sim.truth
  db = await openDatabase(':memory:', { threads: 1 })
  for (const t of ['members', 'orders'] as const) {
    const file = sim.files[t]
    if (file === undefined) throw new Error(`no ${t} file`)
    await ingestFile(db.driver, file, { table: t, clock: fixedClock('2026-11-01T00:00:00Z') })
  }
  fit = await clvCovariateFit(
    db.driver,
    {
      calibrationEnd: OPTIONS.end,
      origin: 'registration',
      unit: 'week',
      timezone: 'Asia/Shanghai',
    },
    ['channel', 'region', 'season'],
  )
}, 60_000)
afterAll(async () => {
  await db.close()
  await rm(dir, { recursive: true, force: true })
})

function effect(process: string, name: string) {
  const e = fit.effects.find((x) => x.process === process && x.name === name)
  if (e === undefined) throw new Error(`no ${process} effect ${name}`)
  return e
}

it('records the planted effects in truth.json', () => {
  const planted = truth.plantedCovariates
  expect(planted?.channel.level).toBe('store')
  expect(planted?.channel.gamma).toBeCloseTo(Math.log(1.6), 12)
  expect(planted?.season.gamma).toBeCloseTo(Math.log(1.8), 12)
  expect(planted?.season.windows.length).toBeGreaterThanOrEqual(6)
  expect(planted?.season.windows).toEqual(
    highSeasonWindows(truth.window.startDate, truth.window.endDate),
  )
  expect(truth.options.plantedCovariates).toBe(true)
})

it('recovers the planted channel and season effects within their 95% intervals', () => {
  const planted = truth.plantedCovariates
  if (planted === undefined) throw new Error('no planted effects')
  // The channel's reference level is the most common one (app); store is a dummy against it.
  expect(fit.coding.find((c) => c.covariate === 'channel')?.reference).toBe('app')
  const store = effect('purchase', `channel=${planted.channel.level}`)
  expect(store.lower).toBeLessThan(planted.channel.gamma)
  expect(store.upper).toBeGreaterThan(planted.channel.gamma)
  expect(store.lower).toBeGreaterThan(0)
  const season = effect('purchase', 'season')
  expect(season.lower).toBeLessThan(planted.season.gamma)
  expect(season.upper).toBeGreaterThan(planted.season.gamma)
  expect(season.lower).toBeGreaterThan(0)
  expect(fit.lrt.pValue).toBeLessThan(1e-6)
})

it('finds no effect of region, where none was planted', () => {
  const region = fit.effects.filter((e) => e.name.startsWith('region='))
  expect(region.length).toBeGreaterThan(2)
  // Several intervals: allow at most one of them to miss 0 by chance (5 % each).
  const misses = region.filter((e) => e.lower > 0 || e.upper < 0)
  expect(misses.length).toBeLessThanOrEqual(1)
})
