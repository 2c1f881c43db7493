import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { getMemberProfile, listMerges } from '../../src/duckdb/members/member-profile.js'
import { scratch, snapshot } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
beforeEach(async () => {
  s = await scratch()
})
afterEach(async () => {
  await s.cleanup()
})
const q = (text: string) => s.db.driver.all({ sql: text, parameters: [] })

// A store card registration and an app registration of the same person, with disjoint identities.
const MEMBERS = [
  'card_no,phone,app_user_id,email,registered_at,registration_channel,city,gender',
  'VIP 0001,,,,2023-03-01 09:00:00,store,杭州,female',
  ',,u-77,zoe@example.com,2023-06-01 12:00:00,app,,',
  ',13811112222,,,2023-07-01 12:00:00,web,,',
].join('\n')

describe('identity resolution', () => {
  it('merges two members when a record links them; the older one survives', async () => {
    await s.ingest('members', await s.file('m.csv', MEMBERS))
    await s.ingest(
      'events',
      await s.file(
        'e.csv',
        'event_id,app_user_id,ts,event_type\nE1,u-77,2023-06-02 10:00:00,login\n',
      ),
    )
    await s.ingest(
      'orders',
      await s.file(
        'o1.csv',
        'order_id,app_user_id,ordered_at,channel,net_amount\nA1,u-77,2023-06-05 10:00:00,app,10\n',
      ),
    )
    // An offline order carries the card and the app account: members 1 and 2 are one person.
    const r = await s.ingest(
      'orders',
      await s.file(
        'o2.csv',
        'order_id,card_no,app_user_id,ordered_at,channel,net_amount\nS1,vip0001,u-77,2023-08-01 10:00:00,store,99\n',
      ),
    )
    expect(r).toMatchObject({ membersMerged: 1, membersCreated: 0, identitiesAdded: 0 })
    expect(
      await q(
        `SELECT member_id, strftime(registered_at, '%Y-%m-%d') AS reg, registration_channel AS ch, city, gender FROM members ORDER BY 1`,
      ),
    ).toEqual([
      { memberId: 1n, reg: '2023-03-01', ch: 'store', city: '杭州', gender: 'female' },
      { memberId: 3n, reg: '2023-07-01', ch: 'web', city: null, gender: null },
    ])
    expect(
      await q(`SELECT identity_type, member_id FROM identities ORDER BY identity_type`),
    ).toEqual([
      { identityType: 'app_user_id', memberId: 1n },
      { identityType: 'card_no', memberId: 1n },
      { identityType: 'email', memberId: 1n },
      { identityType: 'phone', memberId: 3n },
    ])
    // Facts of the merged member follow it.
    expect(await q(`SELECT order_id, member_id FROM orders ORDER BY 1`)).toEqual([
      { orderId: 'A1', memberId: 1n },
      { orderId: 'S1', memberId: 1n },
    ])
    expect(await q(`SELECT member_id FROM events`)).toEqual([{ memberId: 1n }])
    const merges = await listMerges(s.db.driver)
    expect(merges).toEqual([
      expect.objectContaining({
        fromMemberId: 2n,
        intoMemberId: 1n,
        sourceFile: 'o2.csv',
        sourceLine: 2n,
        identityType: 'app_user_id',
        identityValue: 'u-77',
      }),
    ])
    const profile = await getMemberProfile(s.db.driver, 'zoe@EXAMPLE.com')
    expect(profile.member['memberId']).toBe(1n)
    expect(profile.identities.map((i) => i['identityType'])).toEqual([
      'card_no',
      'app_user_id',
      'email',
    ])
    expect(profile.purchases).toMatchObject({ orders: 2, netAmount: 109 })
    expect(profile.mergedFrom).toHaveLength(1)
  })

  it('joins a chain of records inside one file into one member', async () => {
    const r = await s.ingest(
      'members',
      await s.file(
        'm.csv',
        'phone,email,card_no,registered_at\n13800000001,a@x.com,,2024-01-03\n,b@x.com,C1,2024-01-02\n13800000001,,C1,2024-01-05\n13900000009,,,2024-01-01\n',
      ),
    )
    expect(r).toMatchObject({ membersCreated: 2, rowsInserted: 2 })
    // Numbered by first line: the chain (lines 2–4) is member 1, line 5 is member 2.
    expect(
      await q(
        `SELECT member_id, strftime(registered_at, '%Y-%m-%d') AS reg FROM members ORDER BY 1`,
      ),
    ).toEqual([
      { memberId: 1n, reg: '2024-01-02' },
      { memberId: 2n, reg: '2024-01-01' },
    ])
    expect(await q(`SELECT count(*) AS n FROM identities WHERE member_id = 1`)).toEqual([{ n: 4n }])
  })

  it('merges three existing members at once into the oldest, and the log lists both merges', async () => {
    await s.ingest(
      'members',
      await s.file(
        'm.csv',
        'phone,registered_at\n13800000001,2024-01-01\n13800000002,2024-01-02\n13800000003,2024-01-03\n',
      ),
    )
    await s.ingest(
      'feedback',
      await s.file('f.csv', 'feedback_id,phone,ts,kind,score\nF1,13800000003,2024-02-01,nps,9\n'),
    )
    const r = await s.ingest(
      'events',
      await s.file(
        'e.csv',
        'event_id,identity_type,identity_value,ts,event_type\nE1,phone,13800000003,2024-02-01,login\n',
      ),
    )
    expect(r.membersMerged).toBe(0)
    const r2 = await s.ingest(
      'members',
      await s.file(
        'link.csv',
        'phone,email,registered_at\n13800000003,z@x.com,2024-03-01\n13800000002,z@x.com,2024-03-01\n13800000001,Z@x.com,2024-03-01\n',
      ),
    )
    expect(r2.membersMerged).toBe(2)
    expect(await q(`SELECT member_id FROM members`)).toEqual([{ memberId: 1n }])
    expect(
      await q(`SELECT from_member_id, into_member_id FROM member_merges ORDER BY merge_id`),
    ).toEqual([
      { fromMemberId: 3n, intoMemberId: 1n },
      { fromMemberId: 2n, intoMemberId: 1n },
    ])
    expect(
      await q(`SELECT member_id FROM feedback UNION ALL SELECT member_id FROM events`),
    ).toEqual([{ memberId: 1n }, { memberId: 1n }])
  })

  it('is deterministic: the same loads in the same order give identical databases', async () => {
    const files = [
      await s.file('m.csv', MEMBERS),
      await s.file(
        'o.csv',
        'order_id,card_no,app_user_id,phone,ordered_at,channel,net_amount\nS1,VIP0001,u-77,,2023-08-01,store,1\nS2,,,13811112222,2023-08-02,web,2\nS3,,,13900000000,2023-08-03,web,3\n',
      ),
    ]
    const other = await scratch()
    try {
      for (const db of [s, other]) {
        await db.ingest('members', files[0] as string)
        await db.ingest('orders', files[1] as string)
      }
      expect(await snapshot(other.db)).toBe(await snapshot(s.db))
    } finally {
      await other.cleanup()
    }
  })

  it('finds members by member id, typed identity and bare value', async () => {
    await s.ingest('members', await s.file('m.csv', MEMBERS))
    expect((await getMemberProfile(s.db.driver, '3')).member['memberId']).toBe(3n)
    expect(
      (await getMemberProfile(s.db.driver, 'phone:+86 138-1111-2222')).member['memberId'],
    ).toBe(3n)
    expect((await getMemberProfile(s.db.driver, 'VIP0001')).member['memberId']).toBe(1n)
    await expect(getMemberProfile(s.db.driver, 'nobody@x.com')).rejects.toThrow('no member matches')
  })
})
