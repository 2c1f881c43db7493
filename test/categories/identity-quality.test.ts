/**
 * Identity resolution measured against the simulator's truth, with the hard cases planted: placeholder store
 * numbers, mistyped e-mails, shared family phones and recycled numbers.
 */
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INGEST_TABLES } from '../../src/core/schema.js'
import type { IdentityGuardOptions } from '../../src/duckdb/ingest/identity-guards.js'
import {
  getLinkedChannels,
  measureIdentityQuality,
  type LabelledRecord,
} from '../../src/duckdb/members/identity-quality.js'
import { simulate, type SimulateResult } from '../../src/simulate/simulate.js'
import { runCli } from '../helpers/cli.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let sim: SimulateResult
let records: LabelledRecord[]
beforeAll(async () => {
  s = await scratch()
  sim = await simulate(`${s.dir}/data`, {
    members: 2000,
    months: 12,
    seed: 11,
    identityCases: true,
  })
  for (const t of INGEST_TABLES) await s.ingest(t, sim.files[t] as string)
  await s.ingest('members', sim.files['identity_cases'] as string)
  records = [...(sim.truth.identityCases?.records ?? [])]
})
afterAll(async () => s.cleanup())

describe('identity resolution quality', () => {
  it('plants the hard cases only on request and leaves the other files unchanged', async () => {
    const plain = await simulate(`${s.dir}/plain`, { members: 2000, months: 12, seed: 11 })
    expect(plain.truth.identityCases).toBeUndefined()
    expect(plain.files['identity_cases']).toBeUndefined()
    for (const t of INGEST_TABLES)
      expect(await readFile(plain.files[t] as string, 'utf8'), t).toBe(
        await readFile(sim.files[t] as string, 'utf8'),
      )
    expect(sim.truth.identityCases?.planted).toMatchObject({
      placeholder_phone: 8,
      email_typo: 2,
      shared_family_phone: 2,
      recycled_phone: 2,
    })
  })

  it('is measured pairwise against the truth', async () => {
    const q = await measureIdentityQuality(s.db.driver, records)
    expect(q.records).toBe(sim.truth.memberRows + 14)
    expect(q.unresolved).toBe(0)
    // Every duplicate registration and every mistyped e-mail is merged into its person.
    expect(q.recall).toBeGreaterThanOrEqual(0.95)
    // The true pairs, counted from the truth by another route: persons with k records give k(k−1)/2.
    const perPerson = new Map<number, number>()
    for (const r of records) perPerson.set(r.person, (perPerson.get(r.person) ?? 0) + 1)
    const truePairs = [...perPerson.values()].reduce((t, k) => t + (k * (k - 1)) / 2, 0)
    expect(q.truePairs).toBe(truePairs)
    expect(truePairs).toBeGreaterThanOrEqual(sim.truth.duplicates.registrations + 2)
    const byCase = Object.fromEntries(q.cases.map((c) => [c.case, c]))
    // The store placeholder number is shared by more than 5 members: the guard keeps it from merging them.
    expect(byCase['placeholder_phone']).toEqual({
      case: 'placeholder_phone',
      records: 8,
      correct: 8,
    })
    // A mistyped e-mail beside the person's own phone is merged into them.
    expect(byCase['email_typo']?.correct).toBe(2)
    // A phone shared in a family or reassigned by the carrier, beside the newcomer's own WeChat unionid or app
    // account: refused where the phone's member already has one of that type, where the newcomer's birthday
    // or gender differs from the member's, or where the member fell silent more than 180 days before.
    expect(byCase['shared_family_phone']?.correct).toBe(2)
    expect(byCase['recycled_phone']?.correct).toBe(2)
  })

  it('plants recycled numbers on members silent for at least 180 days, newcomers with their own profile', async () => {
    const text = await readFile(sim.files['identity_cases'] as string, 'utf8')
    const rows = text.trim().split('\n')
    const recycled = records.filter((r) => r.case === 'recycled_phone')
    expect(recycled.length).toBe(2)
    for (const r of recycled) {
      const cols = (rows[r.line - 1] ?? '').split(',')
      // The owner's last registration, order or event in the loaded database, against the row's time.
      const gap = await s.db.driver.first<{ days: bigint }>({
        sql: `WITH owner AS (SELECT member_id FROM identities WHERE identity_type = 'phone' AND identity_value = ?)
          SELECT date_diff('day', max(t), ?::TIMESTAMP) AS days FROM (
            SELECT registered_at AS t FROM members WHERE member_id IN (SELECT member_id FROM owner)
            UNION ALL SELECT ordered_at FROM orders WHERE member_id IN (SELECT member_id FROM owner)
            UNION ALL SELECT ts FROM events WHERE member_id IN (SELECT member_id FROM owner))`,
        parameters: [`86${r.identities.phone ?? ''}`, cols[0] ?? ''],
      })
      expect(Number(gap?.days)).toBeGreaterThanOrEqual(180)
      // The newcomer's own birthday or gender is on the row (both are blank only by chance).
      expect(cols[5]).toMatch(/^(female|male|other|unknown|)$/)
    }
    // Family members carry their own birthday: never the holder's.
    for (const r of records.filter((x) => x.case === 'shared_family_phone')) {
      const birthday = (rows[r.line - 1] ?? '').split(',')[4] ?? ''
      const holder = records.find(
        (x) => x.file === 'members.csv' && x.identities.phone === r.identities.phone,
      )
      expect(holder).toBeDefined()
      const holderRow = await s.db.driver.first<{ birthday: string | null }>({
        sql: `SELECT m.birthday::VARCHAR AS birthday FROM members m JOIN identities e USING (member_id)
          WHERE e.identity_type = 'phone' AND e.identity_value = ?`,
        parameters: [`86${r.identities.phone ?? ''}`],
      })
      if (birthday !== '' && holderRow?.birthday != null)
        expect(birthday).not.toBe(holderRow.birthday)
    }
  })

  it('keeps precision ≥ 0.99 and recall ≥ 0.95 with every hard case planted', async () => {
    const q = await measureIdentityQuality(s.db.driver, records)
    expect(q.precision).toBeGreaterThanOrEqual(0.99)
    expect(q.recall).toBeGreaterThanOrEqual(0.95)
    // Without the family and recycled phones, every merge is right.
    const guardable = records.filter(
      (r) => r.case !== 'shared_family_phone' && r.case !== 'recycled_phone',
    )
    const g = await measureIdentityQuality(s.db.driver, guardable)
    expect(g.precision).toBe(1)
    expect(g.recall).toBe(1)
  })

  /** Loads the base and the planted rows with `identityGuards`, and measures the result. */
  async function measureWith(identityGuards: IdentityGuardOptions) {
    const p = await scratch()
    try {
      for (const t of INGEST_TABLES) await p.ingest(t, sim.files[t] as string)
      await p.ingest('members', sim.files['identity_cases'] as string, { identityGuards })
      const q = await measureIdentityQuality(p.db.driver, records)
      return { ...q, byCase: Object.fromEntries(q.cases.map((c) => [c.case, c.correct])) }
    } finally {
      await p.cleanup()
    }
  }

  it('without exclusive identity types, family and recycled phones merge different people', async () => {
    // Every rule off: exclusive types and the evidence rules (recycled numbers, birthday/gender).
    const q = await measureWith({
      exclusiveTypes: [],
      recycledAfterDays: null,
      attributeConflicts: false,
    })
    expect(q.precision).toBeLessThan(0.99)
    expect(q.recall).toBe(1)
    expect(q.byCase).toMatchObject({ shared_family_phone: 0, recycled_phone: 0 })
  })

  it('with exclusive types alone, a card holder’s family and recycled phones still merge different people', async () => {
    const q = await measureWith({ recycledAfterDays: null, attributeConflicts: false })
    expect(q.precision).toBeLessThan(0.99)
    expect(q.recall).toBe(1)
    expect(q.byCase['shared_family_phone']).toBe(0)
    expect(q.byCase['recycled_phone']).toBeLessThan(2)
  })

  it('memberlens members quality prints precision and recall, in Chinese too', async () => {
    const file = `${s.dir}/q.duckdb`
    await s.db.driver.execute({ sql: `ATTACH '${file}' AS q`, parameters: [] })
    await s.db.driver.execute({ sql: 'COPY FROM DATABASE memory TO q', parameters: [] })
    await s.db.driver.execute({ sql: 'DETACH q', parameters: [] })
    const j = await runCli(['members', 'quality', '--db', file, '--truth', sim.truthFile, '--json'])
    expect(j.err).toBe('')
    const out = JSON.parse(j.out) as { quality: { precision: number; recall: number } }
    const direct = await measureIdentityQuality(s.db.driver, records)
    expect(out.quality.precision).toBeCloseTo(direct.precision ?? NaN)
    expect(out.quality.recall).toBeCloseTo(direct.recall ?? NaN)
    const zh = await runCli([
      'members',
      'quality',
      '--db',
      file,
      '--truth',
      sim.truthFile,
      '--lang',
      'zh',
    ])
    expect(zh.out).toContain('精确率')
    expect(zh.out).toContain('门店占位号码')
    const bad = await runCli([
      'members',
      'quality',
      '--db',
      file,
      '--truth',
      sim.files['members'] as string,
    ])
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('members.csv')
  })

  it('counts members known in one, two, three or more channels', async () => {
    const l = await getLinkedChannels(s.db.driver)
    expect(l.one + l.two + l.threeOrMore).toBe(l.members)
    const n = await s.db.driver.first<{ n: bigint }>({
      sql: 'SELECT count(*) AS n FROM members',
      parameters: [],
    })
    expect(l.members).toBe(Number(n?.n))
    expect(l.two + l.threeOrMore).toBeGreaterThan(0)
  })
})
