/**
 * Statistical checks on a medium run (5 000 persons × 12 months): the raw files, resolved with an
 * independent union–find, must show the ground truth's numbers within sampling error.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bgNbdExpectedPurchases } from './bg-nbd-expectation.js'
import { buildCalendar } from './calendar.js'
import type { GroundTruth } from './ground-truth.js'
import { simulate } from './simulate.js'
import { IdentityResolver, identityKey, readCsv, seconds, type Csv } from './simulate.test-util.js'

const MEDIUM = { members: 5000, months: 12, end: '2026-10-31', seed: 7 }
const DAY = 86_400
const WEEK = 7 * DAY

let root: string
let truth: GroundTruth
let files: Record<string, Csv>
const ids = new IdentityResolver()

/** Orders of each resolved person: their whole-second times. */
const ordersOf = new Map<string, number[]>()

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'memberlens-sim-stats-'))
  const res = await simulate(root, MEDIUM)
  truth = res.truth
  files = {}
  for (const t of [
    'members',
    'orders',
    'events',
    'feedback',
    'touches',
    'experiments',
    'subscriptions',
  ]) {
    const c = readCsv(join(root, `${t}.csv`))
    files[t] = c
    ids.addRows(c)
  }
  const orders = file('orders')
  const at = orders.col('ordered_at')
  for (const row of orders.rows) {
    const who = ids.personOf(orders, row)
    const list = ordersOf.get(who) ?? []
    list.push(seconds(row[at] ?? ''))
    ordersOf.set(who, list)
  }
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

function file(t: string): Csv {
  const c = files[t]
  if (!c) throw new Error(`not loaded: ${t}`)
  return c
}

/** Two-proportion difference and its standard error. */
function diff(c: { n: number; x: number }, t: { n: number; x: number }): { d: number; se: number } {
  const pc = c.x / c.n
  const pt = t.x / t.n
  return { d: pt - pc, se: Math.sqrt((pc * (1 - pc)) / c.n + (pt * (1 - pt)) / t.n) }
}

describe('simulated identities', () => {
  it('resolve to exactly the true number of persons', () => {
    expect(truth.persons).toBe(MEDIUM.members)
    expect(file('members').rows.length).toBe(truth.persons + truth.duplicates.registrations)
    expect(truth.duplicates.registrations / truth.persons).toBeGreaterThan(0.06)
    expect(truth.duplicates.registrations / truth.persons).toBeLessThan(0.1)
    expect(ids.components()).toBe(truth.persons)
  })

  it('keep every sampled person in one component of their own', () => {
    const roots = new Set<string>()
    for (const person of truth.sample) {
      const keys = Object.entries(person.identities).map(([k, v]) => identityKey(k, v))
      const r = new Set(keys.map((k) => ids.find(k)))
      expect(r.size, `person ${person.index}`).toBe(1)
      const [only = ''] = r
      expect(roots.has(only), `person ${person.index} shares a component`).toBe(false)
      roots.add(only)
    }
    expect(truth.sample.filter((p) => p.duplicate).length).toBeGreaterThan(5)
  })

  it('write phones differently across sources, with offline orders carrying only a phone', () => {
    const members = file('members')
    const rawByPhone = new Map<string, string>()
    for (const row of members.rows) {
      const v = row[members.col('phone')] ?? ''
      if (v) rawByPhone.set(identityKey('phone', v), v)
    }
    const orders = file('orders')
    let phoneOnlyReformatted = 0
    for (const row of orders.rows) {
      const keys = ids.keysOf(orders, row)
      const phone = row[orders.col('phone')] ?? ''
      if (keys.length === 1 && phone !== '' && row[orders.col('channel')] === 'store') {
        const raw = rawByPhone.get(identityKey('phone', phone))
        if (raw !== undefined && raw !== phone) phoneOnlyReformatted++
      }
    }
    expect(phoneOnlyReformatted).toBeGreaterThan(100)
    const formats = new Set(
      members.rows.map((r) => (r[members.col('phone')] ?? '').replace(/\d/g, '9')),
    )
    expect(formats).toEqual(new Set(['', '99999999999', '+99 999-9999-9999', '999 9999 9999']))
  })
})

describe('simulated purchases', () => {
  it('follow BG/NBD: orders net of planted extras match E[X(τ)] within 4 standard errors', () => {
    const cal = buildCalendar(MEDIUM.end, MEDIUM.months)
    const { r, alpha, a, b } = truth.parameters.purchase
    const members = file('members')
    const reg = new Map<string, number>()
    for (const row of members.rows) {
      const who = ids.personOf(members, row)
      const s = seconds(row[members.col('registered_at')] ?? '')
      reg.set(who, Math.min(reg.get(who) ?? Infinity, s))
    }
    expect(reg.size).toBe(truth.persons)
    let expected = 0
    let sq = 0
    let observed = 0
    for (const [who, s] of reg) {
      const e = bgNbdExpectedPurchases(r, alpha, a, b, cal.purchase.between(s, cal.endSec))
      const x = ordersOf.get(who)?.length ?? 0
      expected += e
      observed += x
      sq += (x - e) ** 2
    }
    expect(observed).toBe(truth.purchases.orders)
    expect(expected).toBeCloseTo(truth.purchases.expectedBaseProcess, 1)
    const p = truth.purchases
    const base = observed - p.tierExtra - p.experimentCoupon - p.winback
    expect(base).toBe(p.baseProcess)
    expect(Math.abs(base - expected)).toBeLessThan(4 * Math.sqrt(sq))
    // The tier effect is real but modest.
    expect(p.tierExtra).toBeGreaterThan(0)
    expect(p.tierExtra / p.natural).toBeLessThan(0.1)
  })

  it('draws λ and p from their priors (first 200 persons)', () => {
    const { r, alpha, a, b } = truth.parameters.purchase
    const n = truth.sample.length
    const meanL = truth.sample.reduce((s, x) => s + x.lambda, 0) / n
    const meanP = truth.sample.reduce((s, x) => s + x.p, 0) / n
    expect(Math.abs(meanL - r / alpha)).toBeLessThan((4 * Math.sqrt(r)) / alpha / Math.sqrt(n))
    const varP = (a * b) / ((a + b) ** 2 * (a + b + 1))
    expect(Math.abs(meanP - a / (a + b))).toBeLessThan(4 * Math.sqrt(varP / n))
  })

  it('has Gamma–Gamma order values: mean of persons’ mean gross ≈ pγ/(q − 1)', () => {
    const orders = file('orders')
    const gross = orders.col('gross_amount')
    const perPerson = new Map<string, [number, number]>()
    for (const row of orders.rows) {
      const who = ids.personOf(orders, row)
      const acc = perPerson.get(who) ?? [0, 0]
      acc[0] += Number(row[gross])
      acc[1]++
      perPerson.set(who, acc)
    }
    const means = [...perPerson.values()].map(([s, n]) => s / n)
    const m = means.reduce((s, x) => s + x, 0) / means.length
    const sd = Math.sqrt(means.reduce((s, x) => s + (x - m) ** 2, 0) / (means.length - 1))
    const { p, q, gamma } = truth.parameters.spend
    const expected = (p * gamma) / (q - 1)
    expect(expected).toBe(truth.purchases.expectedMeanOrderValue)
    expect(Math.abs(m - expected)).toBeLessThan((4 * sd) / Math.sqrt(means.length))
    expect(m).toBeGreaterThan(80)
    expect(m).toBeLessThan(300)
  })
})

describe('planted effects', () => {
  it('the A/B experiment shows the true first-purchase lift in the raw rows', () => {
    const exp = truth.experiment
    if (!exp) throw new Error('no experiment in the truth')
    const rows = file('experiments')
    const arms = { control: { n: 0, x: 0 }, treatment: { n: 0, x: 0 } }
    for (const row of rows.rows) {
      const arm = row[rows.col('variant')] === 'treatment' ? arms.treatment : arms.control
      const t0 = seconds(row[rows.col('assigned_at')] ?? '')
      const orders = ordersOf.get(ids.personOf(rows, row)) ?? []
      arm.n++
      if (orders.some((t) => t >= t0 && t <= t0 + 30 * DAY)) arm.x++
    }
    expect(arms.control).toEqual({ n: exp.control.n, x: exp.control.converted })
    expect(arms.treatment).toEqual({ n: exp.treatment.n, x: exp.treatment.converted })
    expect(Math.abs(arms.control.n - arms.treatment.n)).toBeLessThan(
      4 * Math.sqrt(rows.rows.length / 4),
    )
    const { d, se } = diff(arms.control, arms.treatment)
    expect(Math.abs(d - exp.deltaPp / 100)).toBeLessThan(4 * se)
    expect(d / se).toBeGreaterThan(2)
    expect(Math.abs(arms.control.x / arms.control.n - exp.baselineRate)).toBeLessThan(
      4 * Math.sqrt((exp.baselineRate * (1 - exp.baselineRate)) / arms.control.n),
    )
  })

  it('the win-back campaign lifts 30-day purchases over the holdout by the true amount', () => {
    const wb = truth.winback
    if (!wb) throw new Error('no win-back campaign in the truth')
    const touches = file('touches')
    const W = seconds(wb.campaignAt)
    const arms = { holdout: { n: 0, x: 0 }, treatment: { n: 0, x: 0 } }
    for (const row of touches.rows) {
      if (row[touches.col('kind')] !== 'winback') continue
      const group = row[touches.col('treatment_group')]
      const arm = group === 'treatment' ? arms.treatment : arms.holdout
      arm.n++
      const orders = ordersOf.get(ids.personOf(touches, row)) ?? []
      if (orders.some((t) => t > W && t <= W + 30 * DAY)) arm.x++
    }
    expect(arms.holdout).toEqual({ n: wb.holdout.n, x: wb.holdout.converted })
    expect(arms.treatment).toEqual({ n: wb.treatment.n, x: wb.treatment.converted })
    const { d, se } = diff(arms.holdout, arms.treatment)
    expect(Math.abs(d - wb.upliftPp / 100)).toBeLessThan(4 * se)
    expect(d / se).toBeGreaterThan(2)
  })

  it('events fade in the weeks before drop-out and nearly stop after it', () => {
    const events = file('events')
    const end = seconds(truth.window.end)
    type Window = {
      d: number
      early: number
      late: number
      after: number
      earlyBrowse: number
      lateBrowse: number
    }
    const windows = new Map<string, Window>()
    for (const person of truth.sample) {
      if (person.dropoutAt === null) continue
      const d = seconds(person.dropoutAt)
      if (d - 12 * WEEK < seconds(person.registeredAt) || d + 4 * WEEK > end) continue
      const [kind = '', value = ''] = Object.entries(person.identities)[0] ?? []
      windows.set(ids.find(identityKey(kind, value)), {
        d,
        early: 0,
        late: 0,
        after: 0,
        earlyBrowse: 0,
        lateBrowse: 0,
      })
    }
    expect(windows.size).toBeGreaterThan(30)
    const [ts, type, session] = [
      events.col('ts'),
      events.col('event_type'),
      events.col('session_id'),
    ]
    // Browse sessions are the ones without a checkout: checkout sessions come with orders, which keep
    // happening until the drop-out moment by construction of BG/NBD.
    const checkout = new Set(
      events.rows.filter((r) => r[type] === 'checkout_step').map((r) => r[session]),
    )
    for (const row of events.rows) {
      const w = windows.get(ids.personOf(events, row))
      if (!w) continue
      const t = seconds(row[ts] ?? '')
      const browse = row[type] === 'session_start' && !checkout.has(row[session]) ? 1 : 0
      if (t >= w.d - 12 * WEEK && t < w.d - 8 * WEEK) {
        w.early++
        w.earlyBrowse += browse
      } else if (t >= w.d - 4 * WEEK && t < w.d) {
        w.late++
        w.lateBrowse += browse
      } else if (t >= w.d && t < w.d + 4 * WEEK) {
        w.after++
      }
    }
    const sum = (k: keyof Window): number => [...windows.values()].reduce((s, w) => s + w[k], 0)
    expect(sum('early')).toBeGreaterThan(200)
    expect(sum('earlyBrowse')).toBeGreaterThan(50)
    // A linear fade over 8 weeks leaves 1/4 of the sessions in the last 4 weeks.
    expect(sum('lateBrowse')).toBeLessThan(0.5 * sum('earlyBrowse'))
    expect(sum('late')).toBeLessThan(sum('early'))
    expect(sum('after')).toBeLessThan(0.15 * sum('early'))
  })

  it('paid memberships churn at the sBG mean E[θ] = α/(α+β) in their first term', () => {
    const subs = file('subscriptions')
    const end = seconds(truth.window.end)
    const firstTerm = new Map<string, readonly string[]>()
    for (const row of subs.rows) {
      const who = ids.personOf(subs, row)
      const prev = firstTerm.get(who)
      const start = subs.col('started_at')
      if (!prev || (row[start] ?? '') < (prev[start] ?? '')) firstTerm.set(who, row)
    }
    const share = firstTerm.size / truth.persons
    expect(share).toBeGreaterThan(0.08)
    expect(share).toBeLessThan(0.18)
    const plan = truth.parameters.subscriptions.plans.plus_monthly
    let n = 0
    let churned = 0
    for (const row of firstTerm.values()) {
      if (row[subs.col('plan')] !== 'plus_monthly') continue
      const renewed = (row[subs.col('renewed_at')] ?? '') !== ''
      const ended = seconds(row[subs.col('ends_at')] ?? '') <= end
      if (!renewed && !ended) continue // decision after the end of the window
      n++
      if (!renewed) churned++
    }
    const mean = plan.alpha / (plan.alpha + plan.beta)
    expect(n).toBeGreaterThan(150)
    expect(Math.abs(churned / n - mean)).toBeLessThan(4 * Math.sqrt((mean * (1 - mean)) / n))
  })
})
