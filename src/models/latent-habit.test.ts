import { describe, expect, it } from 'vitest'
import { fitLatentHabit } from './latent-habit.js'

/** mulberry32: a small seeded generator, so the tests are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function poisson(u: () => number, mean: number): number {
  let k = 0
  let p = Math.exp(-mean)
  let s = p
  const x = u()
  while (x > s && k < 1000) {
    k++
    p *= mean / k
    s += p
  }
  return k
}

/**
 * 25 % of persons have the habit: each order carries a coupon with probability 0.55 (else 0.08), and
 * complaints come at 0.03 a week (else 0.005), over 1–30 orders and 10–100 weeks.
 */
function persons(n: number, seed: number) {
  const u = rng(seed)
  const habit = new Uint8Array(n)
  const orders = new Float64Array(n)
  const coupons = new Float64Array(n)
  const weeks = new Float64Array(n)
  const complaints = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    habit[i] = u() < 0.25 ? 1 : 0
    orders[i] = 1 + Math.floor(u() * 30)
    for (let k = 0; k < orders[i]!; k++) if (u() < (habit[i] ? 0.55 : 0.08)) coupons[i]!++
    weeks[i] = 10 + u() * 90
    complaints[i] = poisson(u, (habit[i] ? 0.03 : 0.005) * weeks[i]!)
  }
  return { habit, orders, coupons, weeks, complaints }
}

describe('two-class latent habit model', () => {
  const d = persons(8000, 11)
  const fit = fitLatentHabit([
    { kind: 'binomial', name: 'coupon orders', successes: d.coupons, trials: d.orders },
    { kind: 'poisson', name: 'complaints', count: d.complaints, exposure: d.weeks },
  ])

  it('recovers the share and the rates of each class', () => {
    expect(fit.share).toBeCloseTo(0.25, 1)
    expect(fit.rates[0]?.habit).toBeCloseTo(0.55, 1)
    expect(fit.rates[0]?.other).toBeCloseTo(0.08, 1)
    expect(fit.rates[1]?.habit).toBeCloseTo(0.03, 2)
    expect(fit.rates[1]?.other).toBeCloseTo(0.005, 2)
  })

  it('the posterior separates the classes and weighs the evidence', () => {
    let right = 0
    for (let i = 0; i < d.habit.length; i++)
      if (fit.posterior[i]! > 0.5 === (d.habit[i] === 1)) right++
    expect(right / d.habit.length).toBeGreaterThan(0.9)
    // Same coupon share, more orders: more certain.
    const f = fitLatentHabit([
      {
        kind: 'binomial',
        name: 'coupon orders',
        successes: Float64Array.from([...d.coupons, 1, 10]),
        trials: Float64Array.from([...d.orders, 2, 20]),
      },
    ])
    const n = d.habit.length
    expect(f.posterior[n + 1]!).toBeGreaterThan(f.posterior[n]!)
    expect(f.posterior[n + 1]!).toBeGreaterThan(0.99)
  })

  it('names the habit class by the first indicator, whatever the start', () => {
    // Flipped coupon counts: the habit class is still the one using more coupons.
    const flipped = fitLatentHabit([
      {
        kind: 'binomial',
        name: 'full-price orders',
        successes: d.orders.map((o, i) => o - d.coupons[i]!),
        trials: d.orders,
      },
    ])
    expect(flipped.rates[0]!.habit).toBeGreaterThan(flipped.rates[0]!.other)
    expect(flipped.share).toBeGreaterThan(0.5)
  })

  it('refuses indicators of different lengths or without evidence', () => {
    expect(() =>
      fitLatentHabit([
        { kind: 'binomial', name: 'a', successes: [1, 2], trials: [3, 4] },
        { kind: 'poisson', name: 'b', count: [1], exposure: [1] },
      ]),
    ).toThrow(/indicator b/)
    expect(() =>
      fitLatentHabit([{ kind: 'binomial', name: 'empty', successes: [0, 0], trials: [0, 0] }]),
    ).toThrow(/empty has no trials/)
    expect(() => fitLatentHabit([])).toThrow(/no indicators/)
  })
})
