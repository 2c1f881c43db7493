/**
 * Every written form of one phone number is one identity: with or without the country code, with `+` or `00`,
 * with spaces or dashes. Regression for the stored `868613600136000` (country code without `+` read as a
 * national number) and for `members show phone:8613600136000` finding another member than the one storing it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InputError } from '../../src/core/errors.js'
import { phoneE164, phoneReader } from '../../src/core/phone.js'
import { findMemberId } from '../../src/duckdb/members/member-profile.js'
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

const FORMS = ['8613600136000', '+86 136 0013 6000', '0086-136-0013-6000', '13600136000']

describe('phone reader', () => {
  it.each(FORMS)('reads %s as 8613600136000 (default country code 86)', (form) => {
    expect(phoneReader('86')(form)).toEqual({ ok: true, value: '8613600136000' })
  })

  it('keeps a number of another country apart and writes it back in E.164', () => {
    const read = phoneReader('86')
    expect(read('+1 (415) 555-2671')).toEqual({ ok: true, value: '14155552671' })
    expect(read(phoneE164('14155552671'))).toEqual({ ok: true, value: '14155552671' })
    // The same digits without + are a (national) Chinese number, so files must carry the +.
    expect(read('14155552671')).toMatchObject({ ok: true, value: '8614155552671' })
  })

  it('uses the default country of the calling code: trunk 0 and the international prefix', () => {
    expect(phoneReader('44')('020 7946 0958')).toEqual({ ok: true, value: '442079460958' })
    expect(phoneReader('44')('00 86 136 0013 6000')).toEqual({ ok: true, value: '8613600136000' })
  })

  it('refuses what is not a phone number, with a reason', () => {
    const read = phoneReader('86')
    expect(read('12345')).toEqual({ ok: false, reason: 'not a phone number: too short for +86' })
    expect(read('13800138000abc')).toMatchObject({ ok: false })
    expect(read('+999 1234567')).toEqual({
      ok: false,
      reason: 'not a phone number: unknown country calling code',
    })
  })

  it('flags service numbers and runs of one digit as not personal', () => {
    const read = phoneReader('86')
    expect(read('4008123123')).toMatchObject({ ok: true, value: '864008123123' })
    expect(read('4008123123')).toHaveProperty('notPersonal')
    expect(read('00000000000')).toHaveProperty('notPersonal')
    expect(read('13600136000')).not.toHaveProperty('notPersonal')
  })

  it('refuses an unknown default calling code as input', () => {
    expect(() => phoneReader('999')).toThrow(InputError)
  })
})

describe('phone identities in ingest and look-up', () => {
  it('loads four forms of one number as one member, stored once, found by every form', async () => {
    const lines = FORMS.map((p, i) => `O${i},${p},2024-01-0${i + 1},app,10`)
    const r = await s.ingest(
      'orders',
      await s.file('o.csv', ['order_id,phone,ordered_at,channel,net_amount', ...lines].join('\n')),
    )
    expect(r).toMatchObject({ rowsInserted: 4, membersCreated: 1, identitiesAdded: 1 })
    expect(await q(`SELECT identity_value FROM identities`)).toEqual([
      { identityValue: '8613600136000' },
    ])
    for (const form of FORMS) {
      expect(await findMemberId(s.db.driver, `phone:${form}`)).toBe(1n)
      expect(await findMemberId(s.db.driver, form)).toBe(1n)
    }
  })

  it('reads identity_type/identity_value pairs the same way', async () => {
    await s.ingest(
      'members',
      await s.file('m.csv', 'phone,registered_at\n13600136000,2024-01-01\n'),
    )
    const r = await s.ingest(
      'events',
      await s.file(
        'e.csv',
        'event_id,identity_type,identity_value,ts,event_type\nE1,phone,+86 136 0013 6000,2024-01-02,login\nE2,PHONE,0086 13600136000,2024-01-03,login\n',
      ),
    )
    expect(r).toMatchObject({ membersCreated: 0, rowsInserted: 2 })
    expect(await q(`SELECT DISTINCT member_id FROM events`)).toEqual([{ memberId: 1n }])
  })

  it('names file, line, field and reason for a bad phone, also in a pair', async () => {
    const bad = await s.file(
      'bad.csv',
      'event_id,identity_type,identity_value,ts,event_type\nE1,phone,13600136000,2024-01-02,login\nE2,phone,12345,2024-01-03,login\n',
    )
    const e = (await s.ingest('events', bad).catch((x: unknown) => x)) as InputError
    expect(e).toBeInstanceOf(InputError)
    expect(e.issues).toEqual([
      {
        file: bad,
        line: 3,
        field: 'identity_value',
        value: '12345',
        reason: 'not a phone number: too short for +86',
      },
    ])
    expect(await q(`SELECT count(*) AS n FROM events`)).toEqual([{ n: 0n }])
  })

  it('refuses an unknown --country-code before reading anything', async () => {
    const f = await s.file('m.csv', 'phone,registered_at\n13600136000,2024-01-01\n')
    await expect(s.ingest('members', f, { defaultCountryCode: '999' })).rejects.toThrow(
      /not a country calling code/,
    )
  })
})
