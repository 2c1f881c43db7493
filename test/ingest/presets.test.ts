/**
 * Loads the whole public files (the repository's data/ folder) through the presets and checks the result against figures
 * computed independently from the raw file, and against the counts published for these data sets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cdnowPreset } from '../../src/duckdb/ingest/presets/cdnow.js'
import { getCategoryPaths } from '../../src/engine/categories/category-analysis.js'
import { onlineRetailPreset } from '../../src/duckdb/ingest/presets/online-retail.js'
import { CDNOW_MASTER as CDNOW, CDNOW_SAMPLE, ONLINE_RETAIL as RETAIL } from '../helpers/data.js'
import { TEST_CLOCK, scratch, snapshot } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
const one = async (s: Scratch, text: string) =>
  (await s.db.driver.all({ sql: text, parameters: [] }))[0] as Record<string, unknown>

describe('Online Retail preset (UCI data set 352)', () => {
  let s: Scratch
  beforeAll(async () => {
    s = await scratch()
  })
  afterAll(async () => {
    await s.cleanup()
  })

  it('loads every invoice line by the documented rules', async () => {
    const report = await onlineRetailPreset.load(s.db.driver, RETAIL, { clock: TEST_CLOCK })
    expect(report.rowsRead).toBe(541_909)
    expect(report.skipped).toEqual({ no_customer: 135_080 })
    expect(report.tables.map((t) => [t.table, t.rowsInserted])).toEqual([
      ['members', 4_372],
      ['orders', 18_536],
      ['order_items', 397_924],
      ['returns', 3_654],
    ])
    // The same figures straight from the raw file, by another route.
    const raw = await one(
      s,
      `SELECT count(DISTINCT CustomerID) AS customers,
         count(DISTINCT InvoiceNo) FILTER (WHERE InvoiceNo NOT LIKE 'C%') AS invoices,
         sum(Quantity * UnitPrice) FILTER (WHERE InvoiceNo NOT LIKE 'C%')::DECIMAL(18,4)::VARCHAR AS revenue,
         (-sum(Quantity * UnitPrice) FILTER (WHERE InvoiceNo LIKE 'C%'))::DECIMAL(18,4)::VARCHAR AS cancelled
       FROM read_csv('${RETAIL}', types = {'CustomerID': 'VARCHAR', 'UnitPrice': 'DECIMAL(18,4)', 'Quantity': 'INTEGER', 'InvoiceNo': 'VARCHAR'})
       WHERE CustomerID IS NOT NULL`,
    )
    const loaded = await one(
      s,
      `SELECT (SELECT count(*) FROM members) AS customers, (SELECT count(*) FROM orders) AS invoices,
         (SELECT sum(net_amount)::VARCHAR FROM orders) AS revenue, (SELECT sum(amount)::VARCHAR FROM returns) AS cancelled`,
    )
    expect(loaded).toEqual(raw)
    expect(raw['revenue']).toBe('8911407.9040')
    // Cancellations are linked to an earlier invoice of the same customer holding the same product when one exists.
    const linked = await one(
      s,
      `SELECT count(*) FILTER (WHERE r.order_id IS NOT NULL) AS linked, count(*) FILTER (WHERE o.member_id <> r.member_id) AS wrong_member FROM returns r LEFT JOIN orders o USING (order_id)`,
    )
    expect(linked).toEqual({ linked: 3_041n, wrongMember: 0n })
  })

  it('the category path Sankeys of the whole file total its 4,372 customers in every column', async () => {
    // Categories derived from StockCode and Description by the preset (docs/mappings/online-retail.md).
    const members = Number((await one(s, 'SELECT count(*) AS n FROM members'))['n'])
    expect(members).toBe(4_372)
    const p = await getCategoryPaths(s.db.driver, { asOf: '2012-01-01', top: 8 })
    for (const sankey of [p.categories, p.channels]) {
      expect(sankey.members).toBe(members)
      const steps = [...new Set(sankey.nodes.map((n) => n.step))]
      expect(steps.length).toBeGreaterThanOrEqual(2)
      for (const step of steps)
        expect(
          sankey.nodes.filter((n) => n.step === step).reduce((t, n) => t + n.members, 0),
          `step ${step}`,
        ).toBe(members)
      for (const step of steps.slice(1))
        expect(
          sankey.links
            .filter((l) => l.target.startsWith(`${step}`))
            .reduce((t, l) => t + l.members, 0),
        ).toBe(members)
    }
    expect(p.categories.nodes.some((n) => n.kind === 'other')).toBe(true)
  })

  it('is idempotent on a second load of the same file', async () => {
    const before = (await snapshot(s.db)).replace(/"loads":.*$/, '')
    const report = await onlineRetailPreset.load(s.db.driver, RETAIL, { clock: TEST_CLOCK })
    expect(report.tables.every((t) => t.rowsInserted === 0 && t.rowsUpdated === 0)).toBe(true)
    expect((await snapshot(s.db)).replace(/"loads":.*$/, '')).toBe(before)
  })
})

describe('CDNOW preset (Fader, Hardie & Lee 2005)', () => {
  let s: Scratch
  beforeAll(async () => {
    s = await scratch()
  })
  afterAll(async () => {
    await s.cleanup()
  })

  it('loads the 69,659 transactions of the 23,570 customers', async () => {
    const report = await cdnowPreset.load(s.db.driver, CDNOW, { clock: TEST_CLOCK })
    expect(report.tables.map((t) => [t.table, t.rowsInserted])).toEqual([
      ['members', 23_570],
      ['orders', 69_659],
    ])
    const raw = await one(
      s,
      `SELECT sum(TRY_CAST(string_split_regex(trim(line), '\\s+')[4] AS DECIMAL(18,4)))::VARCHAR AS dollars
       FROM read_csv('${CDNOW}', header = true, columns = {'line': 'VARCHAR'}, delim = '|', quote = '', auto_detect = false)`,
    )
    const loaded = await one(
      s,
      `SELECT sum(net_amount)::VARCHAR AS dollars, strftime(min(ordered_at), '%Y-%m-%d') AS first, strftime(max(ordered_at), '%Y-%m-%d') AS last,
         (SELECT count(*) FROM members WHERE registered_at < DATE '1997-04-01') AS q1_cohort FROM orders`,
    )
    expect(loaded).toEqual({
      dollars: raw['dollars'],
      first: '1997-01-01',
      last: '1998-06-30',
      q1Cohort: 23_570n,
    })
  })

  it('the 2,357-customer sample resolves to the same customers and orders', async () => {
    const report = await cdnowPreset.load(s.db.driver, CDNOW_SAMPLE, { clock: TEST_CLOCK })
    expect(report.rowsRead).toBe(6_919)
    expect(
      report.tables.map((t) => [t.table, t.rowsRead, t.rowsInserted, t.membersCreated]),
    ).toEqual([
      ['members', 2_357, 0, 0],
      ['orders', 6_919, 0, 0],
    ])
  })
})
