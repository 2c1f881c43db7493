/**
 * The API's CLV validation fits on a worker thread with a time limit: other requests are answered while it
 * runs, the answer is the same as a fit on the server's own thread, and a fit that runs out of time is a
 * ModelFitError naming the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  clvValidationReport,
  fitClvSummaries,
  resolveClvOptions,
  type ResolvedClvOptions,
} from '../../src/analytics/clv/clv.js'
import { fitClvSummariesOffThread } from '../../src/analytics/clv/fit-off-thread.js'
import { createApp } from '../../src/api/app.js'
import { KeyStore } from '../../src/api/keys.js'
import { fixedClock } from '../../src/core/clock.js'
import { ModelFitError } from '../../src/core/errors.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import {
  repeatBuyingSummaries,
  type RepeatBuyingSummaries,
} from '../../src/engine/summaries/repeat-buying.js'
import { simulate } from '../../src/simulate/simulate.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

let s: Awaited<ReturnType<typeof scratch>>
let viewer = ''
let app: ReturnType<typeof createApp>
let summaries: RepeatBuyingSummaries
let options: ResolvedClvOptions
const CAL = '2026-04-30'
const HOLDOUT = '2026-09-30'
const LIMIT_MS = 1500

beforeAll(async () => {
  s = await scratch()
  const sim = await simulate(`${s.dir}/data`, {
    members: 400,
    months: 18,
    seed: 11,
    tables: ['orders'],
  })
  await ingestFile(s.db.driver, sim.files['orders'] as string, {
    table: 'orders',
    clock: TEST_CLOCK,
  })
  const keys = new KeyStore(`${s.dir}/keys.json`, fixedClock('2026-11-01T00:00:00Z'))
  viewer = (await keys.create('viewer test', 'viewer')).secret
  app = createApp({
    driver: s.db.driver,
    keys,
    clock: TEST_CLOCK,
    rate: { perSecond: 1000, burst: 1000 },
    log: () => {},
    // On these 400 members Pareto/NBD's likelihood has no interior maximum and the fit crawls towards
    // the edge of the parameter space for minutes: the limit stops it.
    fitTimeLimitMs: LIMIT_MS,
  })
  options = await resolveClvOptions(s.db.driver, { calibrationEnd: CAL, model: 'pareto-nbd' })
  summaries = await repeatBuyingSummaries(s.db.driver, options)
}, 120_000)
afterAll(async () => {
  await s.cleanup()
})

const get = async (path: string): Promise<Response> =>
  await app.request(path, { headers: { authorization: `Bearer ${viewer}` } })

/** The summaries repeated `copies` times with T and t_x moved by up to a day, so the fit has work to do. */
function enlarged(copies: number): RepeatBuyingSummaries {
  const n = summaries.x.length
  const grow = (a: Float64Array) => {
    const out = new Float64Array(n * copies)
    for (let c = 0; c < copies; c++) out.set(a, c * n)
    return out
  }
  const T = grow(summaries.T)
  const tx = grow(summaries.tx)
  const x = grow(summaries.x)
  for (let i = n; i < T.length; i++) {
    const shift = ((i * 7919) % 97) / 97 / 7 // up to a day, in weeks
    T[i] = (T[i] as number) + shift
    if ((x[i] as number) > 0) tx[i] = (tx[i] as number) + shift
  }
  return {
    ...summaries,
    memberId: Float64Array.from({ length: n * copies }, (_, i) => i + 1),
    x,
    tx,
    T,
    zbar: grow(summaries.zbar),
    holdoutPurchases: grow(summaries.holdoutPurchases),
    holdoutValue: grow(summaries.holdoutValue),
  }
}

describe('CLV fit off the event loop', () => {
  it('validation through the API is fitted on the worker and equals the fit on this thread', async () => {
    const direct = await clvValidationReport(s.db.driver, {
      calibrationEnd: CAL,
      holdoutEnd: HOLDOUT,
      model: 'bg-nbd',
    })
    const r = await get(`/api/v1/value/validation?calibrationEnd=${CAL}&holdoutEnd=${HOLDOUT}`)
    expect(r.status).toBe(200)
    const b = (await r.json()) as {
      model: string
      members: number
      totals: { predicted: number; actual: number }
    }
    expect(b.model).toBe('bg-nbd')
    expect(b.members).toBe(direct.members)
    expect(b.totals.actual).toBe(direct.totals.actual)
    expect(b.totals.predicted).toBeCloseTo(direct.totals.predicted, 9)
  }, 60_000)

  it('a Pareto/NBD fit that cannot converge answers 422 naming the time limit, and other requests are answered meanwhile', async () => {
    let settled = false
    const started = performance.now()
    const pending = get(
      `/api/v1/value/validation?calibrationEnd=${CAL}&holdoutEnd=${HOLDOUT}&model=pareto-nbd`,
    ).then((r) => {
      settled = true
      return r
    })
    // Requests sent while the fit runs are answered before it ends.
    for (let k = 0; k < 3; k++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      const other = await get('/api/v1/whoami')
      expect(other.status).toBe(200)
      expect(settled).toBe(false)
    }
    const r = await pending
    expect(performance.now() - started).toBeGreaterThanOrEqual(LIMIT_MS - 50)
    expect(r.status).toBe(422)
    const b = (await r.json()) as { error: { message: string } }
    expect(JSON.stringify(b)).toMatch(
      /Pareto\/NBD fit did not converge within its time limit of 1\.5 s/,
    )
  }, 60_000)

  it('the event loop keeps turning while a fit runs on the worker', async () => {
    let last = performance.now()
    let longestGap = 0
    const timer = setInterval(() => {
      const now = performance.now()
      longestGap = Math.max(longestGap, now - last)
      last = now
    }, 5)
    const started = performance.now()
    const run = fitClvSummariesOffThread(enlarged(3), options, { timeLimitMs: LIMIT_MS })
    await expect(run).rejects.toBeInstanceOf(ModelFitError)
    const took = performance.now() - started
    clearInterval(timer)
    // The fit ran to its limit on the worker; this thread never paused for a good part of that.
    expect(took).toBeGreaterThanOrEqual(LIMIT_MS - 50)
    expect(longestGap).toBeLessThan(LIMIT_MS / 3)
  }, 60_000)

  it('the worker’s fit equals the fit on this thread', async () => {
    const bg = { ...options, model: 'bg-nbd' as const }
    const big = enlarged(5)
    const fit = await fitClvSummariesOffThread(big, bg)
    const here = fitClvSummaries(big, bg)
    expect(fit.purchase.params).toEqual(here.purchase.params)
    expect(fit.spend.params).toEqual(here.spend.params)
    expect(Array.from(fit.groups.groupOf)).toEqual(Array.from(here.groups.groupOf))
  }, 60_000)

  it('a fit that runs out of its time limit is a ModelFitError naming the limit', async () => {
    const run = fitClvSummariesOffThread(enlarged(2), options, { timeLimitMs: 1 })
    await expect(run).rejects.toBeInstanceOf(ModelFitError)
    await expect(run).rejects.toThrow(
      /Pareto\/NBD fit did not converge within its time limit of 0.001 s/,
    )
  }, 60_000)
})
