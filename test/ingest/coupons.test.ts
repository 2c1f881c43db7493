/**
 * The coupons table: loaded like the other member tables (identities resolve the member), with its own checks
 * on dates and on the order a coupon was redeemed on, each reported with file, line, field and reason.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InputError } from '../../src/core/errors.js'
import { scratch, snapshot } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
beforeEach(async () => {
  s = await scratch()
  await s.ingest(
    'members',
    await s.file(
      'm.csv',
      'phone,registered_at,registration_channel\n13800138000,2024-01-01 10:00:00,app\n13900000000,2024-02-01 10:00:00,store\n',
    ),
  )
  await s.ingest(
    'orders',
    await s.file(
      'o.csv',
      'order_id,phone,ordered_at,channel,net_amount,coupon_id\nO1,13800138000,2024-05-01 10:00:00,app,90,MJ99-10\n',
    ),
  )
})
afterEach(async () => {
  await s.cleanup()
})

const HEADER =
  'coupon_id,phone,campaign_id,issued_at,face_value,threshold,expires_at,redeemed_at,order_id'

async function rejected(lines: string[]): Promise<InputError> {
  const before = await snapshot(s.db)
  const path = await s.file('coupons.csv', [HEADER, ...lines].join('\n'))
  const error = await s.ingest('coupons', path).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(InputError)
  expect(await snapshot(s.db)).toBe(before)
  return error as InputError
}

describe('ingest: coupons', () => {
  it('loads issued and redeemed coupons onto the members their identities name', async () => {
    const r = await s.ingest(
      'coupons',
      await s.file(
        'coupons.csv',
        [
          HEADER,
          'K1,138 0013 8000,MJ99,2024-04-20 10:00:00,10,99,2024-05-20 10:00:00,2024-05-01 10:00:00,O1',
          'K2,13900000000,MJ99,2024-04-21 10:00:00,10,99,2024-05-21 10:00:00,,',
        ].join('\n'),
      ),
    )
    expect(r).toMatchObject({ rowsRead: 2, rowsInserted: 2, membersCreated: 0 })
    const rows = await s.db.driver.all({
      sql: `SELECT c.coupon_id, i.identity_value AS phone, c.face_value::DOUBLE AS face, c.threshold::DOUBLE AS threshold,
          c.order_id, c.redeemed_at IS NOT NULL AS redeemed
        FROM coupons c JOIN identities i ON i.member_id = c.member_id AND i.identity_type = 'phone' ORDER BY 1`,
      parameters: [],
    })
    expect(rows).toEqual([
      {
        couponId: 'K1',
        phone: '8613800138000',
        face: 10,
        threshold: 99,
        orderId: 'O1',
        redeemed: true,
      },
      {
        couponId: 'K2',
        phone: '8613900000000',
        face: 10,
        threshold: 99,
        orderId: null,
        redeemed: false,
      },
    ])
  })

  it('refuses a redemption on an order that is not loaded', async () => {
    const e = await rejected(['K1,13800138000,A,2024-04-20 10:00:00,10,,,2024-05-01 10:00:00,O404'])
    expect(e.issues).toEqual([
      expect.objectContaining({
        file: expect.stringContaining('coupons.csv'),
        line: 2,
        field: 'order_id',
        value: 'O404',
        reason: 'unknown order_id (load the orders first)',
      }),
    ])
  })

  it('refuses dates out of order and an order without a redemption time, naming line and field', async () => {
    const e = await rejected([
      'K1,13800138000,A,2024-05-02 10:00:00,10,,,2024-05-01 10:00:00,O1',
      'K2,13800138000,A,2024-05-02 10:00:00,10,,2024-05-01 10:00:00,,',
      'K3,13800138000,A,2024-04-20 10:00:00,10,,,,O1',
      'K4,13800138000,A,2024-04-20 10:00:00,-5,,,,',
    ])
    expect(e.issues.map((i) => [i.line, i.field, i.reason])).toEqual([
      [2, 'redeemed_at', 'redeemed before it was issued (issued_at)'],
      [3, 'expires_at', 'expires before it was issued (issued_at)'],
      [4, 'redeemed_at', 'a coupon used on an order (order_id) needs the time it was redeemed'],
      [5, 'face_value', expect.stringContaining('negative')],
    ])
  })

  it('needs a campaign and an identity', async () => {
    const e = await rejected(['K1,,,2024-04-20 10:00:00,10,,,,'])
    expect(e.issues.map((i) => [i.line, i.field])).toEqual(
      expect.arrayContaining([
        [2, 'campaign_id'],
        [2, 'identity'],
      ]),
    )
  })
})
