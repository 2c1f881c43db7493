/**
 * Category analysis on a hand-checked fixture: every figure below was worked out by hand from the rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  buildSankey,
  getCategoryMix,
  getCategoryPaths,
  getCategoryShares,
  getNextCategories,
} from '../../src/engine/categories/category-analysis.js'
import { fixedClock } from '../../src/core/clock.js'
import { saveSegment } from '../../src/engine/segments/segment-store.js'
import type { Database } from '../../src/store/database.js'
import { memoryDb } from '../cohorts/fixture-db.js'
import { categoryFixture } from './fixture.js'

const AS_OF = '2026-06-01'
let db: Database
beforeAll(async () => {
  db = await memoryDb()
  await categoryFixture(db)
})
afterAll(async () => db.close())

describe('category shares', () => {
  it('gives revenue share, penetration and repurchase per category', async () => {
    const s = await getCategoryShares(db.driver, { asOf: AS_OF })
    expect(s.buyers).toBe(5)
    expect(s.buyersWithItems).toBe(5)
    expect(s.ordersWithoutItems).toBe(1)
    expect(s.revenue).toBe(169)
    const by = Object.fromEntries(s.categories.map((c) => [c.category, c]))
    expect(s.categories.map((c) => c.category)).toEqual([
      'dairy',
      'snacks',
      'bakery',
      'fruit',
      'unknown',
    ])
    expect(by.dairy).toMatchObject({ revenue: 68, orders: 4, buyers: 3, repeatBuyers: 1 })
    expect(by.dairy?.penetration).toBeCloseTo(0.6)
    expect(by.dairy?.repurchaseRate).toBeCloseTo(1 / 3)
    expect(by.dairy?.revenueShare).toBeCloseTo(68 / 169)
    expect(by.bakery).toMatchObject({ revenue: 35, orders: 2, buyers: 1, repurchaseRate: 1 })
    expect(by.snacks).toMatchObject({ revenue: 50, orders: 1, buyers: 1, repurchaseRate: 0 })
    expect(by.unknown).toMatchObject({ revenue: 4, orders: 1, buyers: 1 })
  })
})

describe('category paths', () => {
  it('keeps the top categories, buckets the rest, and every column totals the members', async () => {
    const p = await getCategoryPaths(db.driver, { asOf: AS_OF, top: 2 })
    const c = p.categories
    expect(c.kept).toEqual(['dairy', 'snacks'])
    expect(c.members).toBe(6)
    const node = Object.fromEntries(c.nodes.map((n) => [n.id, n.members]))
    expect(node).toEqual({
      '1:dairy': 2,
      '1:snacks': 1,
      '1#other': 2,
      '1#none': 1,
      '2:dairy': 1,
      '2#other': 2,
      '2#none': 3,
      '3:dairy': 1,
      '3#none': 5,
    })
    const link = Object.fromEntries(c.links.map((l) => [`${l.source}>${l.target}`, l.members]))
    expect(link).toEqual({
      '1:dairy>2#other': 1,
      '1:dairy>2#none': 1,
      '1:snacks>2:dairy': 1,
      '1#other>2#none': 1,
      '1#other>2#other': 1,
      '1#none>2#none': 1,
      '2#other>3:dairy': 1,
      '2#other>3#none': 1,
      '2:dairy>3#none': 1,
      '2#none>3#none': 3,
    })
    for (const step of [1, 2, 3]) {
      const total = c.nodes.filter((n) => n.step === step).reduce((s, n) => s + n.members, 0)
      expect(total).toBe(6)
    }
  })

  it('migrates channels from the first order to the second', async () => {
    const p = await getCategoryPaths(db.driver, { asOf: AS_OF, top: 2 })
    expect(p.channels.kept).toEqual(['app', 'store'])
    const link = Object.fromEntries(
      p.channels.links.map((l) => [`${l.source}>${l.target}`, l.members]),
    )
    expect(link).toEqual({
      '1:app>2#other': 1,
      '1:app>2:app': 1,
      '1:store>2#none': 1,
      '1:app>2#none': 1,
      '1:store>2:store': 1,
      '1#none>2#none': 1,
    })
  })

  it('names a kept category "other" apart from the other bucket', () => {
    const s = buildSankey(['other'], [{ ranks: [0, 1], members: 2 }])
    expect(s.nodes.map((n) => n.id)).toEqual(['1:other', '2#other'])
  })

  it('refuses a top outside 1 … 30', async () => {
    await expect(getCategoryPaths(db.driver, { asOf: AS_OF, top: 0 })).rejects.toThrow(/top/)
  })
})

describe('next-category propensity', () => {
  it('counts the next purchase after the first purchase of each category', async () => {
    const n = await getNextCategories(db.driver, { asOf: AS_OF, minBase: 1 })
    const pairs = Object.fromEntries(n.pairs.map((p) => [`${p.from}>${p.to}`, p]))
    expect(Object.keys(pairs).sort()).toEqual(['bakery>bakery', 'dairy>bakery', 'snacks>dairy'])
    expect(pairs['dairy>bakery']).toMatchObject({ base: 1, hits: 1, probability: 1 })
    expect(pairs['dairy>bakery']?.baseline).toBeCloseTo(1 / 3)
    expect(pairs['dairy>bakery']?.lift).toBeCloseTo(3)
    const high = await getNextCategories(db.driver, { asOf: AS_OF, minBase: 2 })
    expect(high.pairs).toEqual([])
  })
})

describe('category mix', () => {
  it('splits each stage’s revenue over the categories', async () => {
    const m = await getCategoryMix(db.driver, { asOf: AS_OF, top: 2, by: 'lifecycle_stage' })
    expect(m.rows).not.toBeNull()
    const rows = m.rows ?? []
    expect(rows.reduce((s, r) => s + r.revenue, 0)).toBe(169)
    const groups = new Set(rows.map((r) => r.group))
    for (const g of groups) {
      const share = rows.filter((r) => r.group === g).reduce((s, r) => s + r.share, 0)
      expect(share).toBeCloseTo(1)
    }
    expect(new Set(rows.map((r) => r.category))).toEqual(new Set(['dairy', 'snacks', 'other']))
  })

  it('splits a saved segment’s revenue against the other buyers’ (worked out by hand)', async () => {
    await saveSegment(
      db.driver,
      { name: 'm12', filter: { memberIds: [1, 2] } },
      fixedClock('2026-05-01T00:00:00Z'),
    )
    const m = await getCategoryMix(db.driver, {
      asOf: AS_OF,
      top: 2,
      by: 'segment',
      segment: 'm12',
    })
    expect(m).toMatchObject({ by: 'segment', segment: 'm12' })
    // M1: dairy 20 + 10, bakery 5 + 30; M2: snacks 50, dairy 8 → dairy 38, snacks 50, other (bakery) 35 of 123.
    // Others: M3 dairy 30 (its snacks order is cancelled); M4 fruit 12 (D2 is after the instant); M5 a line
    // without a category 4 → dairy 30, other 16 of 46.
    expect(m.rows?.map((r) => [r.group, r.category, r.revenue, r.buyers])).toEqual([
      ['m12', 'dairy', 38, 2],
      ['m12', 'snacks', 50, 1],
      ['m12', 'other', 35, 1],
      [null, 'dairy', 30, 1],
      [null, 'other', 16, 2],
    ])
    expect(m.rows?.[0]?.share).toBeCloseTo(38 / 123)
    expect(m.rows?.[4]?.share).toBeCloseTo(16 / 46)
  })

  it('by segment needs the name of a saved segment', async () => {
    await expect(getCategoryMix(db.driver, { asOf: AS_OF, by: 'segment' })).rejects.toThrow(
      /segment/,
    )
    await expect(
      getCategoryMix(db.driver, { asOf: AS_OF, by: 'segment', segment: 'nosuch' }),
    ).rejects.toThrow(/no segment named "nosuch"/)
  })

  it('gives no tier mix before a ledger sync, and says why', async () => {
    const m = await getCategoryMix(db.driver, { asOf: AS_OF, by: 'tier' })
    expect(m.rows).toBeNull()
    expect(m.note).toMatch(/loyalty sync/)
  })
})
