/**
 * The simulator's planted drop-out must show in the survival curve.
 *
 * The simulator draws purchases by BG/NBD on a seasonal exposure clock starting at registration: λ ~
 * Gamma(r, α) per exposure week, and after every purchase the person drops out for good with probability
 * p ~ Beta(a, b). With churn after D days without a purchase, dated at the last purchase, the curve measured
 * from the first purchase has its first step at day 0: the members who never bought again within D days. For one member with first
 * purchase after t₁ exposure weeks and τ exposure weeks in the D days that follow, BG/NBD gives
 *   P(no repurchase within D) = E[p] + (1 − E[p]) · ((α + t₁) / (α + t₁ + τ))^(r+1),
 * because p is independent of λ, and λ given a first purchase at t₁ is Gamma(r + 1, α + t₁). So the step's
 * hazard must equal the mean of these probabilities over the members at risk at 0 (first purchase at least D
 * days before the data's end, so that the churn can be seen), within sampling error:
 * the standard error is √(Σ q(1 − q)) / n for independent Bernoulli(q) members (4 SE allowed). On top, the
 * allowance includes the cancel rate: cancelled orders are purchases of the BG/NBD process but not for the
 * lifecycle rules, which can turn a repurchase into none (bounded by the share of orders cancelled).
 * Members of the A/B experiment are left out (its coupon moves some first purchases). D = 60 days is below the
 * win-back campaign's 90 days of inactivity, so the campaign cannot add a repurchase within D.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { getSurvival } from '../../src/analytics/lifetime/survival.js'
import { fixedClock } from '../../src/core/clock.js'
import { sql } from '../../src/engine/sql/fragment.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { buildCalendar } from '../../src/simulate/calendar.js'
import { simulate, type GroundTruth } from '../../src/simulate/simulate.js'
import { openDatabase, type Database } from '../../src/store/database.js'

const OPTIONS = { members: 4000, months: 24, end: '2026-10-31', seed: 11 }
const D = 60
let dir: string
let db: Database
let truth: GroundTruth

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-dropout-'))
  const sim = await simulate(dir, { ...OPTIONS, tables: ['members', 'orders', 'experiments'] })
  truth = sim.truth
  db = await openDatabase(':memory:', { threads: 1 })
  for (const t of ['members', 'orders', 'experiments'] as const) {
    const file = sim.files[t]
    if (file === undefined) throw new Error(`no ${t} file`)
    await ingestFile(db.driver, file, { table: t, clock: fixedClock('2026-11-01T00:00:00Z') })
  }
  await db.driver.execute(
    sql`DELETE FROM members WHERE member_id IN (SELECT member_id FROM experiments)`,
  )
})
afterAll(async () => {
  await db.close()
  await rm(dir, { recursive: true, force: true })
})

it('shows the planted drop-out at the first step of the curve, within sampling error', async () => {
  const asOf = '2026-11-01'
  const [curve] = await getSurvival(db.driver, { asOf, config: { churnDays: D } })
  const first = curve?.curve.steps[0]
  if (first === undefined) throw new Error('no step')
  expect(first.time).toBe(0)
  const observed = first.events / first.atRisk

  const cal = buildCalendar(OPTIONS.end, OPTIONS.months)
  const { r, alpha, a, b } = truth.parameters.purchase
  const meanP = a / (a + b)
  // At risk at 0: first purchase at least D days before asOf.
  const atRiskBy = new Date(Date.parse(`${asOf}T00:00:00Z`) - D * 86_400_000)
    .toISOString()
    .slice(0, 19)
  const rows = await db.driver.all<{ reg: number; first: number }>(sql`
    SELECT epoch(m.registered_at) AS reg, epoch(min(o.ordered_at)) AS first
    FROM members m JOIN orders o ON o.member_id = m.member_id AND o.status <> 'cancelled'
    GROUP BY m.member_id, m.registered_at
    HAVING min(o.ordered_at) <= CAST(${atRiskBy} AS TIMESTAMP)`)
  expect(rows.length).toBe(first.atRisk)
  let expected = 0
  let variance = 0
  for (const row of rows) {
    const t1 = cal.purchase.between(row.reg, row.first)
    const tau = cal.purchase.between(row.first, row.first + D * 86_400)
    const q = meanP + (1 - meanP) * ((alpha + t1) / (alpha + t1 + tau)) ** (r + 1)
    expected += q
    variance += q * (1 - q)
  }
  const n = rows.length
  const se = Math.sqrt(variance) / n
  expect(n).toBeGreaterThan(1000)
  expect(Math.abs(observed - expected / n)).toBeLessThan(
    4 * se + truth.parameters.orders.cancelRate,
  )
  // The drop-out is what makes the step: without it (E[p] = 0) the expected hazard is far lower.
  const withoutDropout = rows.reduce((s, row) => {
    const t1 = cal.purchase.between(row.reg, row.first)
    const tau = cal.purchase.between(row.first, row.first + D * 86_400)
    return s + ((alpha + t1) / (alpha + t1 + tau)) ** (r + 1)
  }, 0)
  expect(observed - withoutDropout / n).toBeGreaterThan(8 * se)
})
