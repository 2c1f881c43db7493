import { readFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { simulate, type SimulateResult } from './simulate.js'
import { UPLIFT_OFFERS, type UpliftPersonTruth } from './uplift-campaign.js'

const TABLES = ['members', 'orders', 'touches', 'experiments', 'subscriptions'] as const
let dir: string
let off: SimulateResult
let on: SimulateResult

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-uplift-sim-'))
  const opts = { members: 6000, months: 24, seed: 11, tables: [...TABLES] }
  off = await simulate(join(dir, 'off'), opts)
  on = await simulate(join(dir, 'on'), { ...opts, upliftCampaign: true })
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Difference of two proportions and its standard error. */
function diff(a: readonly boolean[], b: readonly boolean[]): { d: number; se: number } {
  const pa = a.filter(Boolean).length / a.length
  const pb = b.filter(Boolean).length / b.length
  return { d: pa - pb, se: Math.sqrt((pa * (1 - pa)) / a.length + (pb * (1 - pb)) / b.length) }
}

describe('the randomised retention campaign (off by default)', () => {
  it('is absent by default and leaves the other tables as they were', async () => {
    expect(off.truth.uplift).toBeUndefined()
    expect(await readFile(off.files.touches as string, 'utf8')).not.toContain('retention_test_')
    for (const t of ['members', 'experiments', 'subscriptions'] as const) {
      expect(await readFile(on.files[t] as string, 'utf8'), t).toBe(
        await readFile(off.files[t] as string, 'utf8'),
      )
    }
    const u = on.truth.uplift
    if (!u) throw new Error('no campaign truth')
    const extra = Object.values(u.arms).reduce((s, a) => s + a.extraOrders, 0)
    expect(extra).toBeGreaterThan(0)
    // The natural orders are the same draws; a campaign coupon that lowers an order's net amount can
    // still, rarely, change a later return or gold-tier draw of that person.
    const natural = (on.rows.orders ?? 0) - extra
    expect(Math.abs(natural - (off.rows.orders ?? 0))).toBeLessThanOrEqual(
      0.001 * (off.rows.orders ?? 0),
    )
    // One touch row per eligible person, holdout rows marked as such.
    const touches = (await readFile(on.files.touches as string, 'utf8')).split('\n')
    const rows = touches.filter((l) => l.startsWith(u.campaignId))
    expect(rows.length).toBe(u.persons.length)
    expect(rows.filter((l) => l.includes(',holdout,')).length).toBe(u.arms.holdout.n)
    expect(on.rows.touches).toBe((off.rows.touches ?? 0) + u.persons.length)
  })

  it('plants effects that depend on the hidden type, within 4 standard errors', () => {
    const u = on.truth.uplift
    if (!u) throw new Error('no campaign truth')
    const persons = u.persons
    const check = (
      offer: (typeof UPLIFT_OFFERS)[number],
      who: (p: UpliftPersonTruth) => boolean,
    ) => {
      const k = UPLIFT_OFFERS.indexOf(offer)
      const treated = persons.filter((p) => p.arm === offer && who(p))
      const holdout = persons.filter((p) => p.arm === 'holdout' && who(p))
      const { d, se } = diff(
        treated.map((p) => p.bought),
        holdout.map((p) => p.bought),
      )
      // The expected effect over the group: mean π · (1 − q), the truth each person carries.
      const all = persons.filter(who)
      const expected =
        all.reduce((s, p) => s + (p.induced[k] ?? 0) * (1 - p.naturalAtCampaign), 0) / all.length
      expect(Math.abs(d - expected), `${offer}: ${d} vs ${expected} ± ${se}`).toBeLessThan(4 * se)
      return expected
    }
    const price = (p: UpliftPersonTruth) => p.priceSensitive && !p.serviceDissatisfied
    expect(check('coupon_20', price)).toBeGreaterThan(0.15)
    expect(check('service_call', (p) => p.serviceDissatisfied)).toBeGreaterThan(0.2)
    // Coupons do not move the service-dissatisfied.
    expect(check('coupon_20', (p) => p.serviceDissatisfied)).toBe(0)
    check('points_x2', (p) => p.highValue)
  })

  it('cannibalises: people who buy anyway redeem the coupon with probability ρ', () => {
    const u = on.truth.uplift
    if (!u) throw new Error('no campaign truth')
    const k = UPLIFT_OFFERS.indexOf('coupon_20')
    const anyway = u.persons.filter((p) => p.arm === 'coupon_20' && p.bought && !p.extraOrder)
    const full = anyway.filter((p) => !p.priceSensitive)
    const rate = full.filter((p) => p.couponRedeemed).length / full.length
    const rho = full[0]?.redemption[k] ?? NaN
    expect(Math.abs(rate - rho)).toBeLessThan(4 * Math.sqrt((rho * (1 - rho)) / full.length))
    // Every planted extra order carries the coupon.
    expect(
      u.persons
        .filter((p) => p.extraOrder && p.arm.startsWith('coupon'))
        .every((p) => p.couponRedeemed),
    ).toBe(true)
  })
})
