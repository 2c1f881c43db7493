/**
 * The read endpoints behind the dashboard pages (lifecycle, segments, value, loyalty, voice and experiments),
 * in-process over a small simulated member base: what they answer, which roles may read them, and input
 * they refuse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/api/app.js'
import { KeyStore, type Role } from '../../src/api/keys.js'
import { DEMO_LOAD_ORDER } from '../../src/cli/commands/demo.js'
import { fixedClock } from '../../src/core/clock.js'
import { ingestFile } from '../../src/ingest/ingest.js'
import { simulate } from '../../src/simulate/simulate.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
const secret: Partial<Record<Role, string>> = {}
let app: ReturnType<typeof createApp>

beforeAll(async () => {
  s = await scratch()
  const sim = await simulate(`${s.dir}/data`, { members: 400, months: 18, seed: 11 })
  for (const t of DEMO_LOAD_ORDER) {
    const file = (sim.files as Record<string, string | undefined>)[t]
    if (file !== undefined) await ingestFile(s.db.driver, file, { table: t, clock: TEST_CLOCK })
  }
  const keys = new KeyStore(`${s.dir}/keys.json`, fixedClock('2026-11-01T00:00:00Z'))
  for (const role of ['viewer', 'analyst', 'operator', 'admin'] as const)
    secret[role] = (await keys.create(`${role} test`, role)).secret
  app = createApp({
    driver: s.db.driver,
    keys,
    clock: TEST_CLOCK,
    rate: { perSecond: 1000, burst: 1000 },
    log: () => {},
  })
}, 120_000)
afterAll(async () => {
  await s.cleanup()
})

const get = (path: string, role?: Role) =>
  app.request(path, { headers: role ? { authorization: `Bearer ${secret[role]}` } : {} })
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = async (r: Response) => (await r.json()) as any

describe('lifecycle page endpoints', () => {
  it('stage sizes per period: every stage, sizes summing to the members registered by then', async () => {
    const r = await get('/api/v1/lifecycle/sizes?from=2026-01&to=2026-06&grain=month', 'viewer')
    expect(r.status).toBe(200)
    const b = await body(r)
    expect(b.periods).toHaveLength(6)
    expect(b.stages.map((x: { stage: string }) => x.stage)).toContain('loyal')
    expect(b.stages[0].name.zh).not.toBe('')
    const totals = b.periods.map((p: { sizes: Record<string, number> }) =>
      Object.values(p.sizes).reduce((a, x) => a + x, 0),
    )
    // Members only join: the base never shrinks, and it grows over six months of simulated sign-ups.
    for (let i = 1; i < totals.length; i++) expect(totals[i]).toBeGreaterThanOrEqual(totals[i - 1])
    expect(totals[5]).toBeGreaterThan(totals[0])
    const quarters = await body(
      await get('/api/v1/lifecycle/sizes?from=2026-01&to=2026-06&grain=quarter', 'viewer'),
    )
    expect(quarters.periods).toHaveLength(2)
  })

  it('flows between two dates: the to-side totals equal the stage sizes at the later date', async () => {
    const f = await body(
      await get('/api/v1/lifecycle/flows?from=2026-03-01&to=2026-06-01', 'analyst'),
    )
    expect(f.from).toBe('2026-03-01')
    expect(f.flows.length).toBeGreaterThan(3)
    const sizes = await body(await get('/api/v1/lifecycle/sizes?from=2026-05&to=2026-05', 'viewer'))
    const at = sizes.periods[0]
    expect(at.asOf).toBe('2026-06-01')
    const into: Record<string, number> = {}
    for (const x of f.flows) into[x.to] = (into[x.to] ?? 0) + x.members
    for (const [stage, n] of Object.entries(at.sizes as Record<string, number>))
      expect(into[stage] ?? 0).toBe(n)
    // Without dates: the three months up to the day after the last activity.
    const d = await body(await get('/api/v1/lifecycle/flows', 'viewer'))
    expect(d.to > d.from).toBe(true)
  })

  it('refuses reversed ranges, too many periods and malformed dates', async () => {
    expect(
      (await get('/api/v1/lifecycle/flows?from=2026-06-01&to=2026-03-01', 'viewer')).status,
    ).toBe(400)
    expect((await get('/api/v1/lifecycle/sizes?from=2016-01&to=2026-06', 'viewer')).status).toBe(
      400,
    )
    expect(
      (await get("/api/v1/lifecycle/sizes?from=2026-01';--&to=2026-06", 'viewer')).status,
    ).toBe(400)
    expect((await get('/api/v1/lifecycle/sizes?from=2026-01&to=2026-06')).status).toBe(401)
  })
})
