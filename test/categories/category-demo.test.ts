/**
 * Category paths on a simulated member base loaded through ingest: every Sankey column totals the member
 * count, counted by an independent query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INGEST_TABLES } from '../../src/core/schema.js'
import {
  getCategoryPaths,
  getCategoryShares,
} from '../../src/engine/categories/category-analysis.js'
import { simulate } from '../../src/simulate/simulate.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
const AS_OF = '2026-11-01'
beforeAll(async () => {
  s = await scratch()
  const sim = await simulate(`${s.dir}/data`, {
    members: 1500,
    months: 12,
    seed: 5,
    end: '2026-10-31',
  })
  for (const t of INGEST_TABLES) await s.ingest(t, sim.files[t] as string)
})
afterAll(async () => s.cleanup())

describe('category paths on simulated data', () => {
  it('totals the member count exactly in every column of both Sankeys', async () => {
    const row = await s.db.driver.first<{ n: bigint }>({
      sql: `SELECT count(*) AS n FROM members WHERE registered_at < TIMESTAMP '${AS_OF}'
              OR member_id IN (SELECT member_id FROM orders WHERE status <> 'cancelled' AND ordered_at < TIMESTAMP '${AS_OF}')`,
      parameters: [],
    })
    const members = Number(row?.n)
    expect(members).toBeGreaterThan(1000)
    const p = await getCategoryPaths(s.db.driver, { asOf: AS_OF, top: 4 })
    for (const sankey of [p.categories, p.channels]) {
      expect(sankey.members).toBe(members)
      const steps = new Set(sankey.nodes.map((n) => n.step))
      for (const step of steps) {
        const nodes = sankey.nodes.filter((n) => n.step === step)
        expect(nodes.reduce((t, n) => t + n.members, 0)).toBe(members)
      }
      for (const step of [...steps].slice(1)) {
        const links = sankey.links.filter((l) => l.target.startsWith(`${step}`))
        expect(links.reduce((t, l) => t + l.members, 0)).toBe(members)
      }
    }
    expect(p.categories.kept).toHaveLength(4)
    expect(p.categories.nodes.some((n) => n.kind === 'other')).toBe(true)
  })

  it('splits the line revenue over the categories without loss', async () => {
    const row = await s.db.driver.first<{ r: number }>({
      sql: `SELECT sum(i.quantity * i.unit_price)::DOUBLE AS r FROM order_items i JOIN orders o USING (order_id)
            WHERE o.status <> 'cancelled' AND o.member_id IS NOT NULL AND o.ordered_at < TIMESTAMP '${AS_OF}'`,
      parameters: [],
    })
    const shares = await getCategoryShares(s.db.driver, { asOf: AS_OF })
    expect(shares.revenue).toBeCloseTo(Number(row?.r), 4)
    expect(shares.categories.reduce((t, c) => t + c.revenueShare, 0)).toBeCloseTo(1)
    for (const c of shares.categories) expect(c.penetration).toBeLessThanOrEqual(1)
  })
})
