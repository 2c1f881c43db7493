/**
 * Identity types a person has at most one of (WeChat unionid, app account by default) are never joined in one
 * member: a phone shared in a family or reassigned by the carrier, beside another person's own account, does not
 * merge the two people.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { listSharedIdentities } from '../../src/duckdb/members/member-profile.js'
import {
  identityGuardOptions,
  ingestFlagsSchema,
  mappingFileSchema,
} from '../../src/cli/validations/ingest.js'
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
const holder = async (type: string, value: string) =>
  (
    await q(
      `SELECT member_id FROM identities WHERE identity_type = '${type}' AND identity_value = '${value}'`,
    )
  )[0]?.['memberId']

const HEAD = 'phone,wechat_unionid,app_user_id,card_no,email,registered_at'

describe('exclusive identity types', () => {
  it('a family member with the parent’s phone and their own unionid stays a member of their own', async () => {
    await s.ingest('members', await s.file('m.csv', `${HEAD}\n13900000001,oPARENT,,,,2024-01-01\n`))
    const r = await s.ingest(
      'members',
      await s.file('m2.csv', `${HEAD}\n139 0000 0001,oCHILD,,,,2024-03-01\n`),
    )
    expect(r).toMatchObject({ membersCreated: 1, membersMerged: 0, identitiesHeldBack: 1 })
    expect(r.heldBack).toEqual([
      {
        identityType: 'phone',
        identityValue: '8613900000001',
        members: 2,
        reason: 'carried by members with different wechat_unionid',
      },
    ])
    expect(await members()).toBe(2)
    // The phone stays with the parent; the child's unionid is the child's member.
    expect(await holder('phone', '8613900000001')).toBe(1n)
    expect(await holder('wechat_unionid', 'oCHILD')).toBe(2n)
    expect(
      await q(
        `SELECT member_id, source_file, source_line FROM shared_identities ORDER BY member_id`,
      ),
    ).toEqual([
      { memberId: 1n, sourceFile: 'm2.csv', sourceLine: 2n },
      { memberId: 2n, sourceFile: 'm2.csv', sourceLine: 2n },
    ])
    expect(await listSharedIdentities(s.db.driver)).toEqual([
      expect.objectContaining({ identityValue: '8613900000001', members: 2n }),
    ])
    // Later, the phone links no one: an order with it and the child's unionid is the child's, with no merge;
    // an order with the phone alone is found through it (the parent, who holds it).
    const o = await s.ingest(
      'orders',
      await s.file(
        'o.csv',
        'order_id,phone,wechat_unionid,ordered_at,channel,net_amount\nO1,13900000001,oCHILD,2024-04-01,mini_program,10\nO2,13900000001,,2024-04-02,store,20\n',
      ),
    )
    expect(o).toMatchObject({ membersMerged: 0, membersCreated: 0 })
    expect(await q(`SELECT order_id, member_id FROM orders ORDER BY order_id`)).toEqual([
      { orderId: 'O1', memberId: 2n },
      { orderId: 'O2', memberId: 1n },
    ])
  })

  it('in one file, the earlier record keeps the phone and the later one its own app account', async () => {
    const r = await s.ingest(
      'members',
      await s.file(
        'm.csv',
        `${HEAD}\n13900000001,,u-old,,,2024-01-01\n13900000001,,u-new,,,2024-06-01\n`,
      ),
    )
    expect(r).toMatchObject({ membersCreated: 2, membersMerged: 0, identitiesHeldBack: 1 })
    expect(r.heldBack[0]?.reason).toBe('carried by members with different app_user_id')
    expect(await holder('phone', '8613900000001')).toBe(1n)
    expect(await holder('app_user_id', 'u-new')).toBe(2n)
    expect(await q(`SELECT member_id, registered_at FROM members ORDER BY member_id`)).toEqual([
      { memberId: 1n, registeredAt: '2024-01-01 00:00:00' },
      { memberId: 2n, registeredAt: '2024-06-01 00:00:00' },
    ])
  })

  it('accounts of different types, and a second e-mail, still merge through a shared phone', async () => {
    await s.ingest(
      'members',
      await s.file('m.csv', `${HEAD}\n13900000001,,,8800123,zoe@qq.com,2024-01-01\n`),
    )
    const r = await s.ingest(
      'members',
      await s.file(
        'm2.csv',
        `${HEAD}\n13900000001,,u-1,,,2024-02-01\n13900000001,,,,zeo@qq.com,2024-02-02\n`,
      ),
    )
    expect(r).toMatchObject({ membersCreated: 0, identitiesHeldBack: 0 })
    expect(await members()).toBe(1)
  })

  it('two members already holding unionids are not merged by an order carrying both', async () => {
    await s.ingest(
      'members',
      await s.file(
        'm.csv',
        `${HEAD}\n13900000001,oA,,,,2024-01-01\n13900000002,oB,,,,2024-01-02\n`,
      ),
    )
    const r = await s.ingest(
      'orders',
      await s.file(
        'o.csv',
        'order_id,phone,wechat_unionid,ordered_at,channel,net_amount\nO1,13900000002,oA,2024-04-01,store,10\n',
      ),
    )
    // The order goes with its unionid (member 1); the phone of member 2 beside it is ambiguous.
    expect(r).toMatchObject({ membersMerged: 0, identitiesHeldBack: 1 })
    expect(await q(`SELECT member_id FROM orders`)).toEqual([{ memberId: 1n }])
    expect(await members()).toBe(2)
  })

  it('switched off (no exclusive types), a shared phone merges as before', async () => {
    await s.ingest('members', await s.file('m.csv', `${HEAD}\n13900000001,oPARENT,,,,2024-01-01\n`))
    const r = await s.ingest(
      'members',
      await s.file('m2.csv', `${HEAD}\n13900000001,oCHILD,,,,2024-03-01\n`),
      { identityGuards: { exclusiveTypes: [] } },
    )
    expect(r).toMatchObject({ membersCreated: 0, identitiesHeldBack: 0 })
    expect(await members()).toBe(1)
    expect(await holder('wechat_unionid', 'oCHILD')).toBe(1n)
  })

  it('a chosen type (card_no) is exclusive when named', async () => {
    await s.ingest('members', await s.file('m.csv', `${HEAD}\n13900000001,,,CARD-1,,2024-01-01\n`))
    const r = await s.ingest(
      'members',
      await s.file('m2.csv', `${HEAD}\n13900000001,,,CARD-2,,2024-03-01\n`),
      { identityGuards: { exclusiveTypes: ['card_no'] } },
    )
    expect(r).toMatchObject({ membersCreated: 1, identitiesHeldBack: 1 })
    expect(r.heldBack[0]?.reason).toBe('carried by members with different card_no')
  })
})

describe('exclusive identity types: configuration', () => {
  const flags = (extra: Record<string, unknown>) =>
    ingestFlagsSchema.parse({ db: 'x.duckdb', ...extra })
  it('reads --exclusive-identity-types and the mapping file’s exclusive_types; the flag wins', () => {
    const file = mappingFileSchema.parse({ identity_guards: { exclusive_types: ['card_no'] } })
    expect(identityGuardOptions(file, flags({})).exclusiveTypes).toEqual(['card_no'])
    expect(
      identityGuardOptions(file, flags({ exclusiveIdentityTypes: 'wechat_unionid, customer_id' }))
        .exclusiveTypes,
    ).toEqual(['wechat_unionid', 'customer_id'])
    expect(
      identityGuardOptions(file, flags({ exclusiveIdentityTypes: 'none' })).exclusiveTypes,
    ).toEqual([])
    expect(identityGuardOptions({}, flags({})).exclusiveTypes).toBeUndefined()
  })
  it('refuses an unknown type, naming it', () => {
    const r = ingestFlagsSchema.safeParse({
      db: 'x.duckdb',
      exclusiveIdentityTypes: 'phone,unionid',
    })
    expect(r.success).toBe(false)
    expect(JSON.stringify(r.error?.issues)).toContain('not an identity type: unionid')
  })
})
