/**
 * `ids` on the API's per-member lists: the early-warning list carries each member's source identities of
 * the requested types (masked below the pii scope), the risk and segment exports keep only those identity
 * columns, and an unknown type is a 400 naming `ids`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/api/app.js'
import { KeyStore, type Role } from '../../src/api/keys.js'
import { runDemoModels } from '../../src/cli/demo-models.js'
import { fixedClock } from '../../src/core/clock.js'
import { INGEST_TABLES } from '../../src/core/schema.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { memberIdentityColumns } from '../../src/engine/segments/identity-columns.js'
import { saveSegment } from '../../src/engine/segments/segment-store.js'
import { simulate } from '../../src/simulate/simulate.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

let s: Awaited<ReturnType<typeof scratch>>
const secret: Partial<Record<Role, string>> = {}
let app: ReturnType<typeof createApp>

beforeAll(async () => {
  s = await scratch()
  const sim = await simulate(`${s.dir}/data`, { members: 300, months: 18, seed: 11 })
  for (const t of INGEST_TABLES) {
    const file = (sim.files as Record<string, string | undefined>)[t]
    if (file !== undefined) await ingestFile(s.db.driver, file, { table: t, clock: TEST_CLOCK })
  }
  await saveSegment(s.db.driver, { name: 'zhejiang', filter: { region: ['浙江'] } }, TEST_CLOCK)
  await runDemoModels(s.db.driver, TEST_CLOCK)
  const keys = new KeyStore(`${s.dir}/keys.json`, fixedClock('2026-11-01T00:00:00Z'))
  for (const role of ['analyst', 'operator'] as const)
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

const get = async (path: string, role: Role): Promise<Response> =>
  await app.request(path, { headers: { authorization: `Bearer ${secret[role]}` } })

interface RiskList {
  members: { memberId: number; identities?: Record<string, string | null> }[]
}

describe('ids on the API member lists', () => {
  it('the early-warning list carries the requested identities, in the order asked, as the CLI exports them', async () => {
    const r = await get('/api/v1/risk?limit=20&ids=customer_id,phone', 'operator')
    expect(r.status).toBe(200)
    const b = (await r.json()) as RiskList
    expect(b.members.length).toBeGreaterThan(0)
    const ids = b.members.map((m) => m.memberId)
    const direct = await memberIdentityColumns(s.db.driver, ids, ['customer_id', 'phone'])
    let found = 0
    for (const m of b.members) {
      expect(Object.keys(m.identities ?? {})).toEqual(['customer_id', 'phone'])
      const want = direct.get(m.memberId)
      expect(m.identities?.['customer_id']).toBe(want?.customer_id ?? null)
      expect(m.identities?.['phone']).toBe(want?.phone ?? null)
      if (m.identities?.['phone'] !== null) found++
    }
    expect(found).toBeGreaterThan(0)
    // Without ids the rows carry no identities.
    const plain = (await (await get('/api/v1/risk?limit=5', 'operator')).json()) as RiskList
    for (const m of plain.members) expect(m.identities).toBeUndefined()
  })

  it('the CLV predictions list pages the run’s scores, highest CLV first, with the requested identities', async () => {
    const r = await get('/api/v1/value/members?limit=10&ids=phone,customer_id', 'operator')
    expect(r.status).toBe(200)
    const b = (await r.json()) as {
      runId: string
      hasMore: boolean
      members: { memberId: number; clv: number; identities?: Record<string, string | null> }[]
    }
    expect(b.members).toHaveLength(10)
    expect(b.hasMore).toBe(true)
    for (let i = 1; i < b.members.length; i++)
      expect(b.members[i]?.clv).toBeLessThanOrEqual(b.members[i - 1]?.clv as number)
    const direct = await memberIdentityColumns(
      s.db.driver,
      b.members.map((m) => m.memberId),
      ['phone', 'customer_id'],
    )
    for (const m of b.members) {
      expect(Object.keys(m.identities ?? {})).toEqual(['phone', 'customer_id'])
      expect(m.identities?.['phone']).toBe(direct.get(m.memberId)?.phone ?? null)
    }
    // The next page starts where this one ended.
    const next = (await (
      await get('/api/v1/value/members?limit=5&offset=9', 'operator')
    ).json()) as typeof b
    expect(next.members[0]?.memberId).toBe(b.members[9]?.memberId)
    expect(next.members[0]?.identities).toBeUndefined()
    expect((await get('/api/v1/value/members?ids=shoe_size', 'operator')).status).toBe(400)
  })

  it('below the pii scope the identities are masked', async () => {
    const open = (await (
      await get('/api/v1/risk?limit=20&ids=phone', 'operator')
    ).json()) as RiskList
    const masked = (await (
      await get('/api/v1/risk?limit=20&ids=phone', 'analyst')
    ).json()) as RiskList
    let compared = 0
    masked.members.forEach((m, i) => {
      const raw = open.members[i]?.identities?.['phone'] ?? null
      const shown = m.identities?.['phone'] ?? null
      if (raw === null) expect(shown).toBeNull()
      else {
        expect(shown).not.toBe(raw)
        expect(shown).toContain('*')
        compared++
      }
    })
    expect(compared).toBeGreaterThan(0)
  })

  it('the risk and segment exports keep only the identity columns asked for', async () => {
    const risk = await get(
      '/api/v1/risk-export?churnClass=high-value-at-risk&ids=customer_id,phone',
      'operator',
    )
    expect(risk.status).toBe(200)
    const riskHeader = (await risk.text()).split('\r\n')[0]?.split(',') ?? []
    expect(riskHeader).toContain('customer_id')
    expect(riskHeader.indexOf('customer_id')).toBeLessThan(riskHeader.indexOf('phone'))
    expect(riskHeader).not.toContain('email')
    const seg = await get('/api/v1/segments/zhejiang/export?ids=phone', 'operator')
    expect(seg.status).toBe(200)
    const segHeader = (await seg.text()).split('\r\n')[0]?.split(',') ?? []
    expect(segHeader).toContain('phone')
    expect(segHeader).not.toContain('email')
    expect(segHeader).toContain('member_id')
  })

  it('an unknown or repeated identity type is a 400 naming ids', async () => {
    for (const path of [
      '/api/v1/risk?ids=customer_id,shoe_size',
      '/api/v1/risk?ids=phone,phone',
      '/api/v1/risk-export?churnClass=high-value-at-risk&ids=shoe_size',
      '/api/v1/segments/zhejiang/export?ids=shoe_size',
    ]) {
      const r = await get(path, 'operator')
      expect(r.status).toBe(400)
      const text = await r.text()
      expect(text).toMatch(/\bids\b/)
    }
  })
})
