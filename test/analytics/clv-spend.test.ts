/**
 * Gamma–Gamma on gross spend recovers the simulator's spend parameters: the simulator draws each order's gross
 * amount (before discounts) from Gamma(p, ν) with ν ~ Gamma(q, γ), p = 6, q = 4, γ = 80 (truth.json's model
 * parameters), so a fit on gross amounts must find them within its confidence intervals, while the default fit
 * on net amounts (after coupons) estimates the value a member pays, with a smaller shape.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fitClv } from '../../src/analytics/clv/clv.js'
import { MODEL_PARAMETERS } from '../../src/simulate/model-parameters.js'
import type { Database } from '../../src/store/database.js'
import { simulatedDuckDb } from '../clickhouse/engines.js'

let dir: string
let db: Database

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-spend-'))
  db = await simulatedDuckDb(dir, 2500, 24)
}, 120_000)
afterAll(async () => {
  await db?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('Gamma–Gamma on gross or net spend', () => {
  it('recovers the simulated spend parameters within their 95% intervals on gross amounts', async () => {
    const gross = await fitClv(db.driver, { calibrationEnd: '2026-10-31', spend: 'gross' })
    const net = await fitClv(db.driver, { calibrationEnd: '2026-10-31' })
    const truth = MODEL_PARAMETERS.spend
    const report = (f: typeof gross) =>
      (['p', 'q', 'gamma'] as const)
        .map(
          (k) => `${k} ${f.spend.params[k].toFixed(2)} ± ${f.spend.standardErrors[k]?.toFixed(2)}`,
        )
        .join(', ')
    console.log(`gross: ${report(gross)}; net: ${report(net)}`)
    expect(gross.options.spend).toBe('gross')
    expect(net.options.spend).toBeUndefined()
    for (const k of ['p', 'q', 'gamma'] as const) {
      const se = gross.spend.standardErrors[k] as number
      expect(Number.isFinite(se) && se > 0, k).toBe(true)
      expect(Math.abs(gross.spend.params[k] - truth[k]), `${k}: ${report(gross)}`).toBeLessThan(
        1.96 * se,
      )
    }
  })

  it('refuses a spend basis it does not know, naming the field', async () => {
    await expect(
      fitClv(db.driver, { calibrationEnd: '2026-10-31', spend: 'list' as never }),
    ).rejects.toThrow(/spend "list": one of net, gross/)
  })
})
