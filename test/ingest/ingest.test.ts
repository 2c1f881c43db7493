import { gzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InputError } from '../../src/core/errors.js'
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

const MEMBERS = [
  'phone,email,registered_at,registration_channel,city,consent_sms',
  '13800138000,Ann@Example.com ,2024-01-01 10:00:00,app,上海,yes',
  '+86 139-0000-0000,,2024-02-01T10:00:00+08:00,store,北京,no',
].join('\n')

const ORDERS = [
  'order_id,phone,ordered_at,channel,net_amount,status',
  'O1,138 0013 8000,2024-05-01 10:00:00,app,100.50,paid',
  'O2,13900000000,2024-05-02 10:00:00,store,20,paid',
  'O3,13700000000,2024-05-03 10:00:00,store,30.1234,cancelled',
].join('\n')

async function expectInputError(p: Promise<unknown>): Promise<InputError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(InputError)
  return error as InputError
}

describe('ingest: CSV happy path', () => {
  it('loads members and orders, normalising identities and time zones', async () => {
    const m = await s.ingest('members', await s.file('members.csv', MEMBERS))
    expect(m).toMatchObject({ rowsRead: 2, rowsInserted: 2, membersCreated: 2, identitiesAdded: 3 })
    const o = await s.ingest('orders', await s.file('orders.csv', ORDERS), { currency: 'CNY' })
    // O3's phone is new: by the default rule it creates a member registered at that order.
    expect(o).toMatchObject({ rowsRead: 3, rowsInserted: 3, membersCreated: 1, membersMerged: 0 })
    const members = await q(
      `SELECT member_id, strftime(registered_at, '%Y-%m-%d %H:%M') AS r, registration_channel AS ch, consent_sms FROM members ORDER BY 1`,
    )
    expect(members).toEqual([
      { memberId: 1n, r: '2024-01-01 10:00', ch: 'app', consentSms: true },
      // +08:00 in the text wins over the default zone: 10:00 in Shanghai is 02:00 UTC.
      { memberId: 2n, r: '2024-02-01 02:00', ch: 'store', consentSms: false },
      { memberId: 3n, r: '2024-05-03 10:00', ch: 'store', consentSms: null },
    ])
    const ids = await q(
      `SELECT identity_type, identity_value, member_id FROM identities ORDER BY member_id, identity_type`,
    )
    expect(ids).toEqual([
      { identityType: 'email', identityValue: 'ann@example.com', memberId: 1n },
      { identityType: 'phone', identityValue: '8613800138000', memberId: 1n },
      { identityType: 'phone', identityValue: '8613900000000', memberId: 2n },
      { identityType: 'phone', identityValue: '8613700000000', memberId: 3n },
    ])
    const orders = await q(
      `SELECT order_id, member_id, net_amount::VARCHAR AS net, currency, status FROM orders ORDER BY 1`,
    )
    expect(orders).toEqual([
      { orderId: 'O1', memberId: 1n, net: '100.5000', currency: 'CNY', status: 'paid' },
      { orderId: 'O2', memberId: 2n, net: '20.0000', currency: 'CNY', status: 'paid' },
      { orderId: 'O3', memberId: 3n, net: '30.1234', currency: 'CNY', status: 'cancelled' },
    ])
  })

  it('reads naive timestamps in --tz and a custom --date-format', async () => {
    await s.ingest(
      'orders',
      await s.file(
        'o.csv',
        'order_id,email,ordered_at,channel,net_amount\nA,a@x.cn,01/03/2024 01:00,app,1\n',
      ),
      {
        timezone: 'Asia/Shanghai',
        dateFormat: '%d/%m/%Y %H:%M',
      },
    )
    expect(await q(`SELECT strftime(ordered_at, '%Y-%m-%d %H:%M') AS t FROM orders`)).toEqual([
      { t: '2024-02-29 17:00' },
    ])
  })

  it('maps source columns with --map and ignores listed columns', async () => {
    const path = await s.file(
      'o.csv',
      'InvoiceNo,Mobile,When,Shop,Paid,Note\nX1,13800138000,2024-01-02 03:04:05,store,9.99,hi\n',
    )
    const r = await s.ingest('orders', path, {
      columns: {
        order_id: 'InvoiceNo',
        phone: 'Mobile',
        ordered_at: 'When',
        channel: 'Shop',
        net_amount: 'Paid',
      },
      ignore: ['Note'],
    })
    expect(r.rowsInserted).toBe(1)
    expect(await q(`SELECT order_id, net_amount::DOUBLE AS n FROM orders`)).toEqual([
      { orderId: 'X1', n: 9.99 },
    ])
  })

  it('is idempotent: loading the same files again changes nothing', async () => {
    const m = await s.file('members.csv', MEMBERS)
    const o = await s.file('orders.csv', ORDERS)
    await s.ingest('members', m)
    await s.ingest('orders', o)
    const before = (await snapshot(s.db)).replace(/"loads":.*$/, '')
    const again = await s.ingest('orders', o)
    expect(again).toMatchObject({
      rowsInserted: 0,
      rowsUpdated: 0,
      rowsUnchanged: 3,
      membersCreated: 0,
    })
    await s.ingest('members', m)
    expect((await snapshot(s.db)).replace(/"loads":.*$/, '')).toBe(before)
  })

  it('updates rows whose values changed on a re-load (last load wins)', async () => {
    await s.ingest('orders', await s.file('o1.csv', ORDERS))
    const changed = ORDERS.replace(
      'O2,13900000000,2024-05-02 10:00:00,store,20,paid',
      'O2,13900000000,2024-05-02 10:00:00,store,20,refunded',
    )
    const r = await s.ingest('orders', await s.file('o2.csv', changed))
    expect(r).toMatchObject({ rowsInserted: 0, rowsUpdated: 1, rowsUnchanged: 2 })
    expect(await q(`SELECT status FROM orders WHERE order_id = 'O2'`)).toEqual([
      { status: 'refunded' },
    ])
  })

  it('derives order_items.line_no from line order when the file has none', async () => {
    await s.ingest('orders', await s.file('o.csv', ORDERS))
    await s.ingest(
      'order_items',
      await s.file(
        'i.csv',
        'order_id,sku,quantity,unit_price\nO1,A,1,50.25\nO1,B,2,25.125\nO2,A,1,20\n',
      ),
    )
    expect(await q(`SELECT order_id, line_no, sku FROM order_items ORDER BY 1, 2`)).toEqual([
      { orderId: 'O1', lineNo: 1, sku: 'A' },
      { orderId: 'O1', lineNo: 2, sku: 'B' },
      { orderId: 'O2', lineNo: 1, sku: 'A' },
    ])
  })

  it('dry run validates and resolves but writes nothing', async () => {
    const before = await snapshot(s.db)
    const r = await s.ingest('members', await s.file('m.csv', MEMBERS), { dryRun: true })
    expect(r).toMatchObject({ dryRun: true, rowsInserted: 2, membersCreated: 2 })
    expect(await snapshot(s.db)).toBe(before)
  })
})

describe('ingest: other formats', () => {
  it('reads JSON Lines, gzip and Parquet with the same result', async () => {
    const jsonl = [
      '{"order_id":"J1","email":"a@x.com","ordered_at":"2024-01-01T00:00:00Z","channel":"web","net_amount":12.5}',
      '',
      '{"order_id":"J2","email":"b@x.com","ordered_at":"2024-01-02T00:00:00Z","channel":"app","net_amount":"7","store_id":null}',
    ].join('\n')
    await s.ingest('orders', await s.file('o.jsonl', jsonl))
    await s.ingest('orders', await s.file('o2.jsonl.gz', gzipSync(jsonl.replaceAll('J', 'G'))))
    const parquet = `${s.dir}/o.parquet`
    await s.db.driver.execute({
      sql: `COPY (SELECT 'P1' AS order_id, 'c@x.com' AS email, TIMESTAMP '2024-01-03 00:00:00' AS ordered_at, 'web' AS channel, 3.25::DECIMAL(10,2) AS net_amount, {'k': 1} AS extra) TO '${parquet}' (FORMAT parquet)`,
      parameters: [],
    })
    await s.ingest('orders', parquet, { ignore: ['extra'] })
    expect(await q(`SELECT order_id, net_amount::DOUBLE AS n FROM orders ORDER BY 1`)).toEqual([
      { orderId: 'G1', n: 12.5 },
      { orderId: 'G2', n: 7 },
      { orderId: 'J1', n: 12.5 },
      { orderId: 'J2', n: 7 },
      { orderId: 'P1', n: 3.25 },
    ])
    expect(await q(`SELECT count(*) AS n FROM members`)).toEqual([{ n: 3n }])
  })

  it('stores JSON object columns from JSON Lines', async () => {
    await s.ingest(
      'events',
      await s.file(
        'e.jsonl',
        '{"event_id":"E1","app_user_id":"u1","ts":"2024-01-01T00:00:00Z","event_type":"page_view","properties":{"page":"home"}}\n',
      ),
    )
    expect(await q(`SELECT properties->>'page' AS page FROM events`)).toEqual([{ page: 'home' }])
  })
})

describe('ingest: bad input gets a clear message and leaves the database as it was', () => {
  async function rejects(
    table: Parameters<Scratch['ingest']>[0],
    name: string,
    content: string | Buffer,
    opts = {},
  ) {
    await s.ingest('members', await s.file('seed-members.csv', MEMBERS))
    const before = await snapshot(s.db)
    const path = await s.file(name, content)
    const error = await expectInputError(s.ingest(table, path, opts))
    expect(await snapshot(s.db)).toBe(before)
    return error
  }

  it('missing file', async () => {
    const e = await expectInputError(s.ingest('orders', `${s.dir}/nope.csv`))
    expect(e.issues[0]).toMatchObject({ reason: 'file not found or not readable' })
  })

  it('empty file', async () => {
    const e = await rejects('orders', 'empty.csv', '')
    expect(e.issues[0]).toMatchObject({
      file: expect.stringContaining('empty.csv'),
      reason: 'file is empty',
    })
  })

  it('wrong delimiter', async () => {
    const e = await rejects(
      'orders',
      'semi.csv',
      'order_id;phone;ordered_at;channel;net_amount\nO1;13800138000;2024-01-01;app;1\n',
    )
    expect(e.issues[0]?.reason).toContain('--delimiter ";"')
    expect(e.issues[0]?.line).toBe(1)
  })

  it('missing required column', async () => {
    const e = await rejects(
      'orders',
      'o.csv',
      'order_id,phone,ordered_at,channel\nO1,13800138000,2024-01-01,app\n',
    )
    expect(e.issues).toEqual([
      expect.objectContaining({
        line: 1,
        field: 'net_amount',
        reason: expect.stringContaining('required column is missing'),
      }),
    ])
  })

  it('unknown column', async () => {
    const e = await rejects(
      'orders',
      'o.csv',
      'order_id,phone,ordered_at,channel,net_amount,colour\nO1,13800138000,2024-01-01,app,1,red\n',
    )
    expect(e.issues).toEqual([
      expect.objectContaining({
        line: 1,
        field: 'colour',
        reason: expect.stringContaining('unknown column'),
      }),
    ])
  })

  it('unparsable date and amount, with line, field and value', async () => {
    const e = await rejects(
      'orders',
      'o.csv',
      'order_id,phone,ordered_at,channel,net_amount\nO1,13800138000,2024-02-30,app,1\nO2,13800138000,2024-01-01,app,12,50\n'.replace(
        '12,50',
        '"12,50"',
      ),
    )
    expect(e.issues).toEqual([
      expect.objectContaining({
        line: 2,
        field: 'ordered_at',
        value: '2024-02-30',
        reason: expect.stringContaining('not a timestamp'),
      }),
      expect.objectContaining({
        line: 3,
        field: 'net_amount',
        value: '12,50',
        reason: expect.stringContaining('not an amount'),
      }),
    ])
    expect(e.totalIssues).toBe(2)
  })

  it('negative quantity', async () => {
    await s.ingest('orders', await s.file('o.csv', ORDERS))
    const e = await rejects(
      'order_items',
      'i.csv',
      'order_id,line_no,sku,quantity,unit_price\nO1,1,A,-2,5\n',
    )
    expect(e.issues).toEqual([
      expect.objectContaining({
        line: 2,
        field: 'quantity',
        value: '-2',
        reason: 'must not be negative',
      }),
    ])
  })

  it('duplicate keys inside one file', async () => {
    const e = await rejects(
      'orders',
      'o.csv',
      'order_id,phone,ordered_at,channel,net_amount\nO1,13800138000,2024-01-01,app,1\nO2,13800138000,2024-01-01,app,1\nO1,13800138000,2024-01-02,app,2\n',
    )
    expect(e.issues).toEqual([
      expect.objectContaining({
        line: 4,
        field: 'order_id',
        value: 'O1',
        reason: 'duplicate key order_id (first on line 2)',
      }),
    ])
  })

  it('an order for an unknown identity is rejected under --unknown-identity reject', async () => {
    const e = await rejects('orders', 'o.csv', ORDERS, { unknownIdentity: 'reject' })
    expect(e.issues).toEqual([
      expect.objectContaining({
        line: 4,
        field: 'phone',
        value: '8613700000000',
        reason: expect.stringContaining('matches no member'),
      }),
    ])
  })

  it('an unknown member_id is rejected', async () => {
    const e = await rejects(
      'orders',
      'o.csv',
      'order_id,member_id,ordered_at,channel,net_amount\nO1,1,2024-01-01,app,1\nO2,99,2024-01-01,app,1\n',
    )
    expect(e.issues).toEqual([
      expect.objectContaining({
        line: 3,
        field: 'member_id',
        value: '99',
        reason: 'unknown member_id',
      }),
    ])
  })

  it('a record without any identity', async () => {
    const e = await rejects(
      'orders',
      'o.csv',
      'order_id,phone,email,ordered_at,channel,net_amount\nO1,,,2024-01-01,app,1\n',
    )
    expect(e.issues[0]).toMatchObject({
      line: 2,
      field: 'identity',
      reason: expect.stringContaining('no identity'),
    })
  })

  it('invalid phone and email', async () => {
    const e = await rejects(
      'members',
      'm.csv',
      'phone,email,registered_at\n12ab,x@y.cn,2024-01-01\n13800138001,not-an-email,2024-01-01\n',
    )
    expect(e.issues).toEqual([
      expect.objectContaining({
        line: 2,
        field: 'phone',
        reason: expect.stringContaining('not a phone number'),
      }),
      expect.objectContaining({ line: 3, field: 'email', reason: 'not an email address' }),
    ])
  })

  it('non-UTF-8 bytes', async () => {
    const bytes = Buffer.concat([
      Buffer.from('order_id,phone,ordered_at,channel,net_amount\nO1,13800138000,2024-01-01,'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(',1\n'),
    ])
    const e = await rejects('orders', 'latin.csv', bytes)
    expect(e.issues[0]).toMatchObject({ line: 2, reason: expect.stringContaining('not utf-8') })
  })

  it('too many fields on a line', async () => {
    const e = await rejects(
      'orders',
      'o.csv',
      'order_id,phone,ordered_at,channel,net_amount\nO1,13800138000,2024-01-01,app,1,extra\n',
    )
    expect(e.issues[0]).toMatchObject({
      line: 2,
      reason: expect.stringContaining('has 6 field(s); the header has 5'),
    })
  })

  it('malformed JSON line', async () => {
    const e = await rejects(
      'orders',
      'o.jsonl',
      '{"order_id":"J1","phone":"13800138000","ordered_at":"2024-01-01","channel":"web","net_amount":1}\n{"order_id": \n',
    )
    expect(e.issues).toEqual([expect.objectContaining({ line: 2, reason: 'not a JSON object' })])
  })

  it('an unknown time zone', async () => {
    const e = await rejects('orders', 'o.csv', ORDERS, { timezone: 'Mars/Olympus' })
    expect(e.issues[0]).toMatchObject({
      field: 'timezone',
      reason: expect.stringContaining('unknown time zone'),
    })
  })

  it('order items for an unknown order', async () => {
    const e = await rejects(
      'order_items',
      'i.csv',
      'order_id,line_no,sku,quantity,unit_price\nNOPE,1,A,1,5\n',
    )
    expect(e.issues[0]).toMatchObject({
      line: 2,
      field: 'order_id',
      reason: expect.stringContaining('unknown order_id'),
    })
  })

  it('lists the first N problems and counts them all', async () => {
    const lines = ['order_id,phone,ordered_at,channel,net_amount']
    for (let i = 0; i < 50; i++) lines.push(`O${i},13800138000,not-a-date,app,1`)
    const e = await rejects('orders', 'o.csv', lines.join('\n'), { maxIssues: 5 })
    expect(e.issues).toHaveLength(5)
    expect(e.totalIssues).toBe(50)
    expect(e.message).toContain('50 problem(s)')
  })

  it('rolls back a load that fails after writing began', async () => {
    // Two touch rows name the same campaign and time through two identities of one member: the duplicate is
    // found only after identity resolution, when members and identities have already been written.
    const e = await rejects(
      'touches',
      't.csv',
      'campaign_id,phone,email,channel,kind,sent_at\nC1,13800138000,,sms,winback,2024-06-01\nC1,,ann@example.com,sms,winback,2024-06-01\nC1,13600000000,,sms,winback,2024-06-01\n',
    )
    expect(e.issues[0]).toMatchObject({ line: 3, reason: expect.stringContaining('duplicate key') })
  })
})

describe('ingest: references to orders', () => {
  it('rejects order items for an order that is not loaded even when other orders exist', async () => {
    await s.ingest('orders', await s.file('o.csv', ORDERS))
    const e = await expectInputError(
      s.ingest(
        'order_items',
        await s.file('i.csv', 'order_id,line_no,sku,quantity,unit_price\nO1,1,A,1,5\nO9,1,A,1,5\n'),
      ),
    )
    expect(e.issues).toEqual([
      expect.objectContaining({
        line: 3,
        field: 'order_id',
        value: 'O9',
        reason: expect.stringContaining('unknown order_id'),
      }),
    ])
  })

  it('gives a return the member of its order, or resolves it by identity when unlinked', async () => {
    await s.ingest('orders', await s.file('o.csv', ORDERS))
    await s.ingest(
      'returns',
      await s.file(
        'r.csv',
        'return_id,order_id,phone,returned_at,amount\nR1,O1,,2024-05-10,10\nR2,,13900000000,2024-05-11,5\n',
      ),
    )
    expect(await q(`SELECT return_id, order_id, member_id FROM returns ORDER BY 1`)).toEqual([
      { returnId: 'R1', orderId: 'O1', memberId: 1n },
      { returnId: 'R2', orderId: null, memberId: 2n },
    ])
  })
})

describe('ingest: timestamps', () => {
  it('keeps the instant of every ISO 8601 form, in UTC and in another zone', async () => {
    const rows = [
      ['A', '2024-03-01T10:00:00Z', '2024-03-01 10:00:00', '2024-03-01 10:00:00'],
      ['B', '2024-03-01 10:00:00', '2024-03-01 10:00:00', '2024-03-01 02:00:00'],
      ['C', '2024-03-01', '2024-03-01 00:00:00', '2024-02-29 16:00:00'],
      ['D', '2024-03-01T10:00:00+08:00', '2024-03-01 02:00:00', '2024-03-01 02:00:00'],
      ['E', '2024-03-01T10:00:00-05', '2024-03-01 15:00:00', '2024-03-01 15:00:00'],
      ['F', '2024-03-01 10:00:00 UTC', '2024-03-01 10:00:00', '2024-03-01 10:00:00'],
      ['G', '2024-03-01T10:00:00.123Z', '2024-03-01 10:00:00.123', '2024-03-01 10:00:00.123'],
    ]
    const csv = [
      'order_id,email,ordered_at,channel,net_amount',
      ...rows.map(([id, ts]) => `${id},a@x.com,${ts},app,1`),
    ].join('\n')
    for (const [tz, col] of [
      ['UTC', 2],
      ['Asia/Shanghai', 3],
    ] as const) {
      const other = await scratch()
      try {
        await other.ingest('orders', await other.file('o.csv', csv), { timezone: tz })
        const got = await other.db.driver.all({
          sql: `SELECT order_id, ordered_at::VARCHAR AS t FROM orders ORDER BY 1`,
          parameters: [],
        })
        expect(got, tz).toEqual(rows.map((r) => ({ orderId: r[0], t: r[col] })))
      } finally {
        await other.cleanup()
      }
    }
  })

  it('reads a strptime format with and without an offset', async () => {
    const csv =
      'order_id,email,ordered_at,channel,net_amount\nA,a@x.com,01/03/2024 10:00 +0100,app,1\n'
    await s.ingest('orders', await s.file('o.csv', csv), {
      timezone: 'Asia/Shanghai',
      dateFormat: '%d/%m/%Y %H:%M %z',
    })
    expect(await q(`SELECT ordered_at::VARCHAR AS t FROM orders`)).toEqual([
      { t: '2024-03-01 09:00:00' },
    ])
  })
})
