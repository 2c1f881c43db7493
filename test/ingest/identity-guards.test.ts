/**
 * Placeholder and shared identifiers do not merge strangers. Regression: a shared placeholder e-mail
 * (`null@null.com`) or a store hotline (`4008123123`) on two people's records merged them into one member.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InputError } from '../../src/core/errors.js'
import { listSharedIdentities } from '../../src/duckdb/members/member-profile.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
beforeEach(async () => {
  s = await scratch()
})
afterEach(async () => {
  await s.cleanup()
})
const q = (text: string) => s.db.driver.all({ sql: text, parameters: [] })
const members = async () => Number((await q(`SELECT count(*) AS n FROM members`))[0]?.['n'])

/** `n` members, phones 1390000000k, registered in January. */
async function loadMembers(n: number): Promise<void> {
  const lines = Array.from({ length: n }, (_, i) => `1390000000${i + 1},2024-01-0${i + 1}`)
  await s.ingest('members', await s.file('m.csv', ['phone,registered_at', ...lines].join('\n')))
}

describe('deny list', () => {
  it('two strangers sharing null@null.com stay two members; the e-mail is kept on both', async () => {
    const r = await s.ingest(
      'members',
      await s.file(
        'm.csv',
        'phone,email,registered_at\n13900000001,null@null.com,2024-01-01\n13900000002,NULL@null.com ,2024-01-02\n',
      ),
    )
    expect(r).toMatchObject({ membersCreated: 2, membersMerged: 0, identitiesHeldBack: 1 })
    expect(r.heldBack).toEqual([
      { identityType: 'email', identityValue: 'null@null.com', members: 2, reason: 'deny list' },
    ])
    expect(
      await q(
        `SELECT identity_value, member_id, reason, source_file, source_line FROM shared_identities ORDER BY member_id`,
      ),
    ).toEqual([
      {
        identityValue: 'null@null.com',
        memberId: 1n,
        reason: 'deny list',
        sourceFile: 'm.csv',
        sourceLine: 2n,
      },
      {
        identityValue: 'null@null.com',
        memberId: 2n,
        reason: 'deny list',
        sourceFile: 'm.csv',
        sourceLine: 3n,
      },
    ])
    expect(await q(`SELECT count(*) AS n FROM identities WHERE identity_type = 'email'`)).toEqual([
      { n: 0n },
    ])
    // The merge log shows what was held back.
    expect(await listSharedIdentities(s.db.driver)).toEqual([
      expect.objectContaining({ identityValue: 'null@null.com', members: 2n, reason: 'deny list' }),
    ])
  })

  it('a store hotline 4008123123 on two orders of two members merges nothing', async () => {
    await loadMembers(2)
    const r = await s.ingest(
      'orders',
      await s.file(
        'o.csv',
        'order_id,phone,customer_id,ordered_at,channel,net_amount\nO1,4008123123,,2024-02-01,store,10\nO2,13900000001,C-1,2024-02-01,store,10\nO3,400 812 3123,C-1,2024-02-02,store,10\nO4,400-812-3123,C-2,2024-02-03,store,10\nO5,13900000002,C-2,2024-02-03,store,10\n',
      ),
    )
    expect(r).toMatchObject({ membersMerged: 0, identitiesHeldBack: 1 })
    expect(r.heldBack[0]).toMatchObject({
      identityType: 'phone',
      identityValue: '864008123123',
      reason: expect.stringContaining('shared-cost service number'),
    })
    expect(await q(`SELECT order_id, member_id FROM orders ORDER BY 1`)).toEqual([
      // O1 carries only the hotline: it is found through it (a member of its own), joining no one.
      { orderId: 'O1', memberId: 3n },
      { orderId: 'O2', memberId: 1n },
      { orderId: 'O3', memberId: 1n },
      { orderId: 'O4', memberId: 2n },
      { orderId: 'O5', memberId: 2n },
    ])
  })

  it('built-in patterns: a no-reply address and a customer id of 0 join no one', async () => {
    const r = await s.ingest(
      'members',
      await s.file(
        'm.csv',
        'phone,email,customer_id,registered_at\n13900000001,NoReply@shop.cn,0,2024-01-01\n13900000002,noreply@shop.cn,000,2024-01-02\n13900000003,,0,2024-01-03\n',
      ),
    )
    expect(r).toMatchObject({ membersCreated: 3, membersMerged: 0, identitiesHeldBack: 3 })
    expect(r.heldBack.map((h) => `${h.identityType}:${h.identityValue}`).sort()).toEqual([
      'customer_id:0',
      'customer_id:000',
      'email:noreply@shop.cn',
    ])
  })

  it('a user value (normalised like the data) and a user pattern; the built-in list can be switched off', async () => {
    const text =
      'phone,email,registered_at\n13900000001,shop@mall.cn,2024-01-01\n13900000002,SHOP@mall.cn,2024-01-02\n13900000003,info@mall.cn,2024-01-03\n13900000004,Info@Mall.cn,2024-01-04\n'
    const r = await s.ingest('members', await s.file('m.csv', text), {
      identityGuards: { deny: ['email: Shop@Mall.CN'], denyPatterns: ['email:info@.*'] },
    })
    expect(r).toMatchObject({ membersCreated: 4, membersMerged: 0, identitiesHeldBack: 2 })
    expect(r.heldBack.map((h) => h.reason).sort()).toEqual([
      'deny list',
      'deny pattern email:info@.*',
    ])
    const off = await scratch()
    try {
      const r2 = await off.ingest(
        'members',
        await off.file(
          'm.csv',
          'phone,email,registered_at\n13900000001,null@null.com,2024-01-01\n13900000002,null@null.com,2024-01-02\n',
        ),
        { identityGuards: { builtinDenyList: false } },
      )
      expect(r2).toMatchObject({ membersCreated: 1, identitiesHeldBack: 0 })
    } finally {
      await off.cleanup()
    }
  })

  it('a held-back identity stays held back in later loads, even below the threshold', async () => {
    await loadMembers(3)
    const file = (name: string, lines: string[]) =>
      s.file(name, ['order_id,phone,email,ordered_at,channel,net_amount', ...lines].join('\n'))
    const guards = { maxMembersPerIdentity: 2 }
    const r1 = await s.ingest(
      'orders',
      await file('o1.csv', [
        'O1,13900000001,desk@shop.cn,2024-02-01,app,1',
        'O2,13900000002,desk@shop.cn,2024-02-01,app,1',
        'O3,13900000003,desk@shop.cn,2024-02-01,app,1',
      ]),
      { identityGuards: guards },
    )
    expect(r1).toMatchObject({ membersMerged: 0, identitiesHeldBack: 1 })
    // Two members only this time, but the address was already found to be shared.
    const r2 = await s.ingest(
      'orders',
      await file('o2.csv', [
        'O4,13900000001,desk@shop.cn,2024-02-02,app,1',
        'O5,13900000002,desk@shop.cn,2024-02-02,app,1',
      ]),
      { identityGuards: guards },
    )
    expect(r2).toMatchObject({ membersMerged: 0, identitiesHeldBack: 1 })
    expect(await members()).toBe(3)
  })

  it('refuses a pattern that is not a regular expression, naming it', async () => {
    const f = await s.file('m.csv', 'phone,email,registered_at\n13900000001,a@b.cn,2024-01-01\n')
    const e = await s
      .ingest('members', f, { identityGuards: { denyPatterns: ['email:(unclosed'] } })
      .catch((x: unknown) => x)
    expect(e).toBeInstanceOf(InputError)
    expect((e as InputError).issues[0]).toMatchObject({
      field: 'deny-pattern',
      value: 'email:(unclosed',
    })
  })
})

describe('sharing threshold', () => {
  // One shared e-mail on the orders of k existing members.
  async function shareAcross(k: number, max: number) {
    await loadMembers(k)
    const lines = Array.from(
      { length: k },
      (_, i) => `O${i + 1},1390000000${i + 1},family@home.cn,2024-02-0${i + 1},app,1`,
    )
    return s.ingest(
      'orders',
      await s.file(
        'o.csv',
        ['order_id,phone,email,ordered_at,channel,net_amount', ...lines].join('\n'),
      ),
      { identityGuards: { maxMembersPerIdentity: max } },
    )
  }

  it('an identifier shared by exactly N members merges them', async () => {
    const r = await shareAcross(3, 3)
    expect(r).toMatchObject({ membersMerged: 2, identitiesHeldBack: 0 })
    expect(await members()).toBe(1)
  })

  it('an identifier shared by N + 1 members is not used to merge, and says why', async () => {
    const r = await shareAcross(4, 3)
    expect(r).toMatchObject({ membersMerged: 0, identitiesHeldBack: 1 })
    expect(r.heldBack).toEqual([
      {
        identityType: 'email',
        identityValue: 'family@home.cn',
        members: 4,
        reason: 'shared by 4 members (more than 3)',
      },
    ])
    expect(await members()).toBe(4)
    expect(await q(`SELECT count(*) AS n FROM shared_identities`)).toEqual([{ n: 4n }])
  })

  it('counts the member already holding the identifier', async () => {
    await loadMembers(3)
    // Member 1 holds the address already.
    await s.ingest(
      'events',
      await s.file(
        'e.csv',
        'event_id,phone,email,ts,event_type\nE1,13900000001,family@home.cn,2024-02-01,login\n',
      ),
      { identityGuards: { maxMembersPerIdentity: 2 } },
    )
    const r = await s.ingest(
      'events',
      await s.file(
        'e2.csv',
        'event_id,phone,email,ts,event_type\nE2,13900000002,family@home.cn,2024-02-02,login\nE3,13900000003,family@home.cn,2024-02-02,login\n',
      ),
      { identityGuards: { maxMembersPerIdentity: 2 } },
    )
    expect(r).toMatchObject({ membersMerged: 0, identitiesHeldBack: 1 })
    expect(r.heldBack[0]?.reason).toBe('shared by 3 members (more than 2)')
  })

  it('a person with many records is not mistaken for a shared identifier', async () => {
    // One person's card and phone on four orders: the card is beside one other link only.
    const lines = Array.from(
      { length: 4 },
      (_, i) => `O${i + 1},13900000001,CARD-9,2024-02-0${i + 1},app,1`,
    )
    const r = await s.ingest(
      'orders',
      await s.file(
        'o.csv',
        ['order_id,phone,card_no,ordered_at,channel,net_amount', ...lines].join('\n'),
      ),
      { identityGuards: { maxMembersPerIdentity: 1 } },
    )
    expect(r).toMatchObject({ membersCreated: 1, identitiesHeldBack: 0, identitiesAdded: 2 })
  })
})
