import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/core/clock.js'
import { NotFoundError } from '../../src/core/errors.js'
import { formatExport, getSegmentExportRows } from '../../src/engine/segments/segment-export.js'
import { buildSegmentMembersQuery } from '../../src/engine/segments/segment-members.js'
import {
  segmentFilterSchema,
  type SegmentFilter,
} from '../../src/engine/segments/segment-schema.js'
import {
  deleteSegment,
  findSegment,
  getSegment,
  listSegments,
  saveSegment,
} from '../../src/engine/segments/segment-store.js'
import type { Database } from '../../src/store/database.js'
import { insert, member, memoryDb, order } from '../cohorts/fixture-db.js'

/*
 *   m1 app north {vip: gold} sms ✓ email ✗ wechat ✓ push –; phones …01 (seen 01-01) and …09 (02-01), email, wechat
 *      one order 2024-06-20 (50)  → new on 07-01; RFM R3 F1 M1 → about_to_sleep
 *   m2 store south {vip: silver} sms ✗; phone …02, card C2; one order 2023-01-01 (100) → churned; R1 F1 M3 → lost
 *   m3 app south; sms ✓; app user id "u,3" (a comma, quoted in CSV); no order → registered_not_purchased
 *   m4 app north, registered 2024-06-01; no consent recorded; no identity → registered_not_purchased
 * RFM with 2 buyers: ranks 1 → score 1, 2 → 3 (F ties: both 1).
 */
let db: Database
const AS_OF = '2024-07-01'
beforeAll(async () => {
  db = await memoryDb()
  await insert(db, 'members', [
    member(1, '2023-01-01 00:00:00', {
      registration_channel: 'app',
      region: 'north',
      attributes: '{"vip":"gold"}',
      consent_sms: true,
      consent_email: false,
      consent_wechat: true,
    }),
    member(2, '2023-01-01 00:00:00', {
      registration_channel: 'store',
      region: 'south',
      attributes: '{"vip":"silver"}',
      consent_sms: false,
    }),
    member(3, '2023-01-01 00:00:00', {
      registration_channel: 'app',
      region: 'south',
      consent_sms: true,
    }),
    member(4, '2024-06-01 00:00:00', { registration_channel: 'app', region: 'north' }),
  ])
  const id = (type: string, value: string, m: number, seen: string) => ({
    identity_type: type,
    identity_value: value,
    member_id: m,
    source_channel: null,
    first_seen_at: seen,
  })
  await insert(db, 'identities', [
    id('phone', '13800000009', 1, '2024-02-01 00:00:00'),
    id('phone', '13800000001', 1, '2024-01-01 00:00:00'),
    id('email', 'a@x.com', 1, '2024-01-01 00:00:00'),
    id('wechat_unionid', 'wx1', 1, '2024-01-01 00:00:00'),
    id('phone', '13800000002', 2, '2024-01-01 00:00:00'),
    id('card_no', 'C2', 2, '2024-01-01 00:00:00'),
    id('app_user_id', 'u,3', 3, '2024-01-01 00:00:00'),
  ])
  await insert(db, 'orders', [
    order(1, '2024-06-20 00:00:00', 50),
    order(2, '2023-01-01 00:00:00', 100),
  ])
})
afterAll(async () => {
  await db.close()
})

async function members(filter: object): Promise<number[]> {
  const parsed: SegmentFilter = segmentFilterSchema.parse(filter)
  const rows = await db.driver.all<{ memberId: bigint }>(
    buildSegmentMembersQuery(db.driver.dialect, parsed, AS_OF),
  )
  return rows.map((r) => Number(r.memberId)).sort()
}

describe('segment filters', () => {
  it('combine member attributes with AND, values within one with OR', async () => {
    expect(await members({})).toEqual([1, 2, 3, 4])
    expect(await members({ registrationChannel: ['app'] })).toEqual([1, 3, 4])
    expect(await members({ registrationChannel: ['app'], region: ['south'] })).toEqual([3])
    expect(await members({ region: ['south', 'north'], registeredFrom: '2024-01-01' })).toEqual([4])
    expect(await members({ attributes: { vip: 'gold' } })).toEqual([1])
    expect(await members({ memberIds: [1, 2], registrationChannel: ['app'] })).toEqual([1])
  })

  it('filter by consent, an unrecorded consent counting as none', async () => {
    expect(await members({ consent: { sms: true } })).toEqual([1, 3])
    expect(await members({ consent: { push: false } })).toEqual([1, 2, 3, 4])
    expect(await members({ consent: { sms: true, wechat: true } })).toEqual([1])
  })

  it('filter by lifecycle stage, RFM segment and cohort', async () => {
    expect(await members({ lifecycle: { stages: ['registered_not_purchased'] } })).toEqual([3, 4])
    expect(await members({ lifecycle: { stages: ['churned', 'new'], asOf: AS_OF } })).toEqual([
      1, 2,
    ])
    expect(await members({ rfm: { segments: ['lost'] } })).toEqual([2])
    expect(await members({ rfm: { segments: ['about_to_sleep'] } })).toEqual([1])
    expect(await members({ cohort: { asOf: AS_OF, cohort: '2024-06-01' } })).toEqual([4])
  })

  it('refuse unknown keys and values', () => {
    expect(segmentFilterSchema.safeParse({ stage: ['new'] }).success).toBe(false)
    expect(segmentFilterSchema.safeParse({ lifecycle: { stages: ['sleepy'] } }).success).toBe(false)
    expect(segmentFilterSchema.safeParse({ attributes: { 'a b': 1 } }).success).toBe(false)
  })
})

describe('segment store', () => {
  it('saves, lists, shows, replaces and deletes segments', async () => {
    await saveSegment(
      db.driver,
      { name: 'app-sms', filter: { registrationChannel: ['app'], consent: { sms: true } } },
      fixedClock('2024-07-01T08:00:00Z'),
    )
    await saveSegment(
      db.driver,
      { name: 'churned', filter: { lifecycle: { stages: ['churned'] } } },
      fixedClock('2024-07-01T09:00:00Z'),
    )
    expect((await listSegments(db.driver)).map((s) => s.definition.name)).toEqual([
      'app-sms',
      'churned',
    ])
    await saveSegment(
      db.driver,
      { name: 'app-sms', description: 'v2', filter: { registrationChannel: ['app'] } },
      fixedClock('2024-07-02T08:00:00Z'),
    )
    const s = await getSegment(db.driver, 'app-sms')
    expect(s).toMatchObject({ createdAt: '2024-07-01 08:00:00', updatedAt: '2024-07-02 08:00:00' })
    expect(s.definition).toEqual({
      name: 'app-sms',
      description: 'v2',
      filter: { registrationChannel: ['app'] },
    })
    expect(await deleteSegment(db.driver, 'churned')).toBe(true)
    expect(await findSegment(db.driver, 'churned')).toBeUndefined()
    await expect(getSegment(db.driver, 'churned')).rejects.toBeInstanceOf(NotFoundError)
    await expect(
      saveSegment(db.driver, { name: 'bad name', filter: {} }, fixedClock('2024-07-01T00:00:00Z')),
    ).rejects.toThrow()
  })
})

describe('segment export', () => {
  it('writes member ids, the first-seen identity per type and consent flags', async () => {
    const rows = await getSegmentExportRows(
      db.driver,
      segmentFilterSchema.parse({ registrationChannel: ['app'] }),
      AS_OF,
    )
    expect(formatExport(rows, 'csv')).toBe(
      [
        'member_id,phone,email,wechat_unionid,app_user_id,card_no,pos_customer_id,customer_id,consent_sms,consent_email,consent_wechat,consent_push',
        '1,+13800000001,a@x.com,wx1,,,,,true,false,true,false',
        '3,,,,"u,3",,,,true,false,false,false',
        '4,,,,,,,,false,false,false,false',
        '',
      ].join('\r\n'),
    )
    const jsonl = formatExport(rows, 'jsonl')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(jsonl[0]).toEqual({
      member_id: 1,
      phone: '+13800000001',
      email: 'a@x.com',
      wechat_unionid: 'wx1',
      app_user_id: null,
      card_no: null,
      pos_customer_id: null,
      customer_id: null,
      consent_sms: true,
      consent_email: false,
      consent_wechat: true,
      consent_push: false,
    })
  })
})
