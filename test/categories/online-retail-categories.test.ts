/**
 * The UCI Online Retail file has no category: the preset derives one from StockCode and Description
 * (docs/mappings/online-retail.md). On every line of 300 customers, cut from the repository's copy of the file,
 * the category rules apply as documented and the category paths total the members exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  getCategoryPaths,
  getCategoryShares,
} from '../../src/engine/categories/category-analysis.js'
import {
  ONLINE_RETAIL_CATEGORY_RULES,
  onlineRetailPreset,
} from '../../src/duckdb/ingest/presets/online-retail.js'
import { ONLINE_RETAIL } from '../helpers/data.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let slice: string
const AS_OF = '2012-01-01'

beforeAll(async () => {
  s = await scratch()
  slice = `${s.dir}/online_retail_300.csv`
  // Every line of the first 300 customers by id, in file order.
  await s.db.driver.execute({
    sql: `COPY (
      SELECT * FROM read_csv('${ONLINE_RETAIL}', all_varchar = true)
      WHERE CustomerID IN (
        SELECT DISTINCT CustomerID FROM read_csv('${ONLINE_RETAIL}', all_varchar = true)
        WHERE CustomerID IS NOT NULL ORDER BY CustomerID LIMIT 300)
    ) TO '${slice}' (HEADER, DELIMITER ',')`,
    parameters: [],
  })
  const report = await onlineRetailPreset.load(s.db.driver, slice, { clock: TEST_CLOCK })
  expect(report.tables.find((t) => t.table === 'members')?.rowsInserted).toBe(300)
})
afterAll(async () => s.cleanup())

const categoryOf = async (sku: string): Promise<string | null> => {
  const r = await s.db.driver.first<{ category: string | null }>({
    sql: 'SELECT min(category) AS category FROM order_items WHERE sku = ?',
    parameters: [sku],
  })
  return r?.category ?? null
}

describe('Online Retail categories', () => {
  it('derives the category from the item by the first matching rule', async () => {
    // POSTAGE is a charge, not a product; a T-light holder is lighting before it is home decor.
    expect(await categoryOf('POST')).toBe('non_product')
    expect(await categoryOf('85123A')).toBe('candles_lighting') // WHITE HANGING HEART T-LIGHT HOLDER
    expect(await categoryOf('22423')).toBe('kitchen_dining') // REGENCY CAKESTAND 3 TIER
    const cats = await s.db.driver.all<{ category: string }>({
      sql: 'SELECT DISTINCT category FROM order_items WHERE category IS NOT NULL',
      parameters: [],
    })
    const allowed = new Set([...ONLINE_RETAIL_CATEGORY_RULES.map((r) => r.category), 'other_gifts'])
    for (const c of cats) expect(allowed.has(c.category), c.category).toBe(true)
    expect(cats.length).toBeGreaterThan(8)
  })

  it('runs the category paths with every column totalling the members', async () => {
    const p = await getCategoryPaths(s.db.driver, { asOf: AS_OF, top: 6 })
    expect(p.categories.members).toBe(300)
    for (const step of [1, 2, 3]) {
      const total = p.categories.nodes
        .filter((n) => n.step === step)
        .reduce((t, n) => t + n.members, 0)
      expect(total).toBe(300)
    }
    // Customers with only cancellations in the file have no first purchase.
    const none = await s.db.driver.first<{ n: bigint }>({
      sql: 'SELECT count(*) AS n FROM members WHERE member_id NOT IN (SELECT member_id FROM orders)',
      parameters: [],
    })
    expect(Number(none?.n)).toBeGreaterThan(0)
    expect(p.categories.nodes.find((n) => n.id === '1#none')?.members).toBe(Number(none?.n))
    const shares = await getCategoryShares(s.db.driver, { asOf: AS_OF })
    expect(shares.categories.reduce((t, c) => t + c.revenueShare, 0)).toBeCloseTo(1)
  })
})
