/**
 * Evidence against a phone link on a registration: a number reassigned after its member fell silent, and a
 * family member whose birthday or gender says they are someone else, do not merge two people.
 */
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  identityGuardOptions,
  ingestFlagsSchema,
  mappingFileSchema,
} from '../../src/cli/validations/ingest.js'
import { heldBackReason } from '../../src/cli/render/members.js'
import { CONFLICT_REASON, recycledReason } from '../../src/duckdb/ingest/identity-evidence.js'
import { listSharedIdentities } from '../../src/duckdb/members/member-profile.js'
import { runCli } from '../helpers/cli.js'
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

const HEAD = 'phone,card_no,app_user_id,wechat_unionid,birthday,gender,registered_at'
const ORDERS = 'order_id,card_no,ordered_at,channel,net_amount'

/** A card holder known by card and phone, registered on 2024-01-01, last buying on `lastOrder`. */
async function cardHolder(lastOrder: string, profile = ','): Promise<void> {
  await s.ingest(
    'members',
    await s.file('m.csv', `${HEAD}\n13900000001,C-1,,,${profile},2024-01-01\n`),
  )
  await s.ingest('orders', await s.file('o.csv', `${ORDERS}\nO1,C-1,${lastOrder},store,10\n`))
}

describe('recycled numbers', () => {
  it('a new app account on the phone of a member silent for more than 180 days is someone else', async () => {
    await cardHolder('2024-02-01')
    const r = await s.ingest(
      'members',
      await s.file('m2.csv', `${HEAD}\n139 0000 0001,,u-new,,,,2024-08-15\n`),
    )
    // 2024-02-01 → 2024-08-15 is 196 days without a registration, order or event.
    expect(r).toMatchObject({ membersCreated: 1, membersMerged: 0, identitiesHeldBack: 1 })
    expect(r.heldBack[0]).toMatchObject({
      identityType: 'phone',
      identityValue: '8613900000001',
      reason: 'member inactive for more than 180 days before this registration',
    })
    expect(await holder('app_user_id', 'u-new')).toBe(2n)
    expect(await holder('phone', '8613900000001')).toBe(1n)
    // Flagged for review on both members.
    expect(await listSharedIdentities(s.db.driver)).toEqual([
      expect.objectContaining({ identityValue: '8613900000001', members: 2n }),
    ])
  })

  it('within the days, or with a recent order, the registration is the member’s own', async () => {
    await cardHolder('2024-02-01')
    const r = await s.ingest(
      'members',
      await s.file('m2.csv', `${HEAD}\n13900000001,,u-new,,,,2024-07-30\n`),
    )
    // 180 days exactly: not more than 180.
    expect(r).toMatchObject({ membersCreated: 0, identitiesHeldBack: 0 })
    expect(await holder('app_user_id', 'u-new')).toBe(1n)
    await s.ingest('orders', await s.file('o2.csv', `${ORDERS}\nO2,C-1,2025-01-10,store,10\n`))
    const later = await s.ingest(
      'members',
      await s.file('m3.csv', `${HEAD}\n13900000001,,,oW-1,,,2025-03-01\n`),
    )
    expect(later).toMatchObject({ membersCreated: 0, identitiesHeldBack: 0 })
    expect(await members()).toBe(1)
  })

  it('a registration with nothing but the phone is still found through it', async () => {
    await cardHolder('2024-02-01')
    const r = await s.ingest(
      'members',
      await s.file('m2.csv', `${HEAD}\n13900000001,,,,,,2025-06-01\n`),
    )
    expect(r).toMatchObject({ membersCreated: 0, identitiesHeldBack: 0 })
    expect(await members()).toBe(1)
  })

  it('the days are configurable, and none switches the rule off', async () => {
    await cardHolder('2024-02-01')
    const file = await s.file('m2.csv', `${HEAD}\n13900000001,,u-new,,,,2024-08-15\n`)
    const longer = await s.ingest('members', file, {
      identityGuards: { recycledAfterDays: 365 },
      dryRun: true,
    })
    expect(longer).toMatchObject({ membersCreated: 0, identitiesHeldBack: 0 })
    const shorter = await s.ingest('members', file, {
      identityGuards: { recycledAfterDays: 30 },
      dryRun: true,
    })
    expect(shorter).toMatchObject({ membersCreated: 1 })
    expect(shorter.heldBack[0]?.reason).toBe(
      'member inactive for more than 30 days before this registration',
    )
    const off = await s.ingest('members', file, { identityGuards: { recycledAfterDays: null } })
    expect(off).toMatchObject({ membersCreated: 0, identitiesHeldBack: 0 })
    expect(await members()).toBe(1)
  })
})

describe('conflicting birthday or gender', () => {
  it('a family member with the holder’s phone and another birthday is someone else', async () => {
    await cardHolder('2024-05-01', '1980-05-01,female')
    const r = await s.ingest(
      'members',
      await s.file('m2.csv', `${HEAD}\n13900000001,,,oCHILD,2008-03-03,,2024-06-01\n`),
    )
    expect(r).toMatchObject({ membersCreated: 1, membersMerged: 0, identitiesHeldBack: 1 })
    expect(r.heldBack[0]?.reason).toBe('different birthday or gender on this registration')
    expect(await holder('wechat_unionid', 'oCHILD')).toBe(2n)
    expect(await q(`SELECT member_id, birthday, gender FROM members ORDER BY member_id`)).toEqual([
      { memberId: 1n, birthday: '1980-05-01', gender: 'female' },
      { memberId: 2n, birthday: '2008-03-03', gender: null },
    ])
  })

  it('another gender (female/male) is someone else; the same birthday, or none given, is not', async () => {
    await cardHolder('2024-05-01', '1980-05-01,female')
    const spouse = await s.ingest(
      'members',
      await s.file('m2.csv', `${HEAD}\n13900000001,,,oSPOUSE,,male,2024-06-01\n`),
      { dryRun: true },
    )
    expect(spouse).toMatchObject({ membersCreated: 1, identitiesHeldBack: 1 })
    const same = await s.ingest(
      'members',
      await s.file(
        'm3.csv',
        `${HEAD}\n13900000001,,,oSELF,1980-05-01,unknown,2024-06-01\n13900000001,,u-1,,,,2024-06-02\n`,
      ),
    )
    expect(same).toMatchObject({ membersCreated: 0, identitiesHeldBack: 0 })
    expect(await members()).toBe(1)
  })

  it('switched off, a shared phone merges whatever the birthday', async () => {
    await cardHolder('2024-05-01', '1980-05-01,female')
    const r = await s.ingest(
      'members',
      await s.file('m2.csv', `${HEAD}\n13900000001,,,oCHILD,2008-03-03,male,2024-06-01\n`),
      { identityGuards: { attributeConflicts: false } },
    )
    expect(r).toMatchObject({ membersCreated: 0, identitiesHeldBack: 0 })
    expect(await holder('wechat_unionid', 'oCHILD')).toBe(1n)
  })

  it('applies to registrations only: an order with the phone and a new account merges', async () => {
    await cardHolder('2024-01-02', '1980-05-01,female')
    const r = await s.ingest(
      'orders',
      await s.file(
        'o2.csv',
        'order_id,phone,app_user_id,ordered_at,channel,net_amount\nO2,13900000001,u-9,2025-06-01,app,10\n',
      ),
    )
    expect(r).toMatchObject({ membersCreated: 0, identitiesHeldBack: 0 })
    expect(await holder('app_user_id', 'u-9')).toBe(1n)
  })
})

describe('evidence rules: configuration', () => {
  it('reads --recycled-phone-days, --no-attribute-conflicts and the mapping file; the flag wins', () => {
    const file = mappingFileSchema.parse({
      identity_guards: { recycled_phone_days: 90, attribute_conflicts: false },
    })
    const none = ingestFlagsSchema.parse({ db: 'x', recycledPhoneDays: 'none' })
    expect(identityGuardOptions(file, none)).toMatchObject({
      recycledAfterDays: null,
      attributeConflicts: false,
    })
    const plain = ingestFlagsSchema.parse({ db: 'x' })
    expect(identityGuardOptions(file, plain)).toMatchObject({ recycledAfterDays: 90 })
    expect(identityGuardOptions({}, plain)).not.toHaveProperty('recycledAfterDays')
    expect(identityGuardOptions({}, plain).attributeConflicts).toBe(true)
    const off = ingestFlagsSchema.parse({ db: 'x', attributeConflicts: false })
    expect(identityGuardOptions({}, off).attributeConflicts).toBe(false)
  })

  it('memberlens ingest takes --recycled-phone-days and --no-attribute-conflicts', async () => {
    const db = join(s.dir, 'cli.duckdb')
    const first = await s.file(
      'c1.csv',
      'phone,card_no,birthday,registered_at\n13900000001,C-1,1980-05-01,2024-01-01\n',
    )
    const later = await s.file(
      'c2.csv',
      'phone,app_user_id,birthday,registered_at\n13900000001,u-1,2008-03-03,2024-12-01\n',
    )
    expect((await runCli(['ingest', 'members', first, '--db', db, '--quiet'])).code).toBe(0)
    const json = async (...flags: string[]) => {
      const r = await runCli([
        'ingest',
        'members',
        later,
        '--db',
        db,
        '--dry-run',
        '--json',
        ...flags,
      ])
      expect(r.err).toBe('')
      return (
        JSON.parse(r.out) as { loads: { membersCreated: number; heldBack: { reason: string }[] }[] }
      ).loads[0]
    }
    expect(await json()).toMatchObject({
      membersCreated: 1,
      heldBack: [{ reason: recycledReason(180) }],
    })
    expect(await json('--recycled-phone-days', 'none')).toMatchObject({
      membersCreated: 1,
      heldBack: [{ reason: CONFLICT_REASON }],
    })
    expect(await json('--recycled-phone-days', 'none', '--no-attribute-conflicts')).toMatchObject({
      membersCreated: 0,
      heldBack: [],
    })
    const bad = await runCli(['ingest', 'members', later, '--db', db, '--recycled-phone-days', '0'])
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('--recycled-phone-days')
  })

  it('refuses days that are not a whole positive number', () => {
    const r = ingestFlagsSchema.safeParse({ db: 'x', recycledPhoneDays: '-3' })
    expect(r.success).toBe(false)
    expect(JSON.stringify(r.error?.issues)).toContain('a whole number of days above 0, or none')
  })

  it('names the reasons in Chinese', () => {
    expect(heldBackReason(recycledReason(180), 'zh')).toBe(
      '会员在此次注册前已超过 180 天无活动（疑似二次放号）',
    )
    expect(heldBackReason(CONFLICT_REASON, 'zh')).toBe('此次注册的生日或性别与会员不同')
    expect(heldBackReason('carried by members with different wechat_unionid', 'zh')).toMatch(
      /^由.+不同的会员共用$/,
    )
    expect(heldBackReason(recycledReason(180), 'en')).toBe(recycledReason(180))
  })
})
