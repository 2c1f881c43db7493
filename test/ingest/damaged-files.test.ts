import { once } from 'node:events'
import * as zlib from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { byteSizeSchema } from '../../src/cli/validations/ingest.js'
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
const HEADER = 'order_id,email,ordered_at,channel,net_amount'
const lines = (from: number, n: number) =>
  Array.from(
    { length: n },
    (_, i) => `O${from + i},m${from + i}@x.cn,2024-01-01 10:00:00,app,${i + 1}`,
  )

/** Loads `content` as `name` into orders and expects a refusal that leaves the database as it was. */
async function refused(
  name: string,
  content: string | Buffer,
  opts: Parameters<Scratch['ingest']>[2] = {},
  table: Parameters<Scratch['ingest']>[0] = 'orders',
): Promise<{ error: InputError; path: string }> {
  await s.ingest('orders', await s.file('seed.csv', [HEADER, ...lines(1000, 2)].join('\n')))
  const before = await snapshot(s.db)
  const path = await s.file(name, content)
  const error = await s.ingest(table, path, opts).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(InputError)
  expect(await snapshot(s.db)).toBe(before)
  return { error: error as InputError, path }
}

/** A gzip stream of `first` then `second`, and the byte offset where the compressed form of `first` ends. */
async function gzipWithFlush(first: string, second: string): Promise<{ gz: Buffer; cut: number }> {
  const gz = zlib.createGzip()
  const chunks: Buffer[] = []
  gz.on('data', (c: Buffer) => chunks.push(c))
  gz.write(first)
  await new Promise<void>((resolve) => gz.flush(zlib.constants.Z_FULL_FLUSH, () => resolve()))
  const cut = Buffer.concat(chunks).length
  gz.end(second)
  await once(gz, 'end')
  return { gz: Buffer.concat(chunks), cut }
}

describe('compressed files are checked whole', () => {
  it('refuses a gzip file cut exactly at a line end (the first half decompresses cleanly)', async () => {
    const first = `${[HEADER, ...lines(1, 200)].join('\n')}\n`
    const second = `${lines(201, 200).join('\n')}\n`
    const { gz, cut } = await gzipWithFlush(first, second)
    const head = gz.subarray(0, cut)
    // The cut-off file holds exactly the first 200 complete records: a reader that stops at the end of
    // the data without checking the trailer sees a complete-looking CSV.
    const partial = zlib.gunzipSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString()
    expect(partial).toBe(first)
    const { error, path } = await refused('cut.csv.gz', head)
    expect(error.issues[0]).toMatchObject({
      file: path,
      reason: expect.stringContaining('the gzip data ends early: the file is cut short'),
    })
    expect(error.message).toContain(path)
    // The whole file loads all 400 records.
    const whole = await s.ingest('orders', await s.file('whole.csv.gz', gz))
    expect(whole.rowsRead).toBe(400)
  })

  it('refuses a gzip file cut at any point, including inside its 8-byte trailer', async () => {
    const gz = zlib.gzipSync(`${[HEADER, ...lines(1, 60)].join('\n')}\n`)
    const cuts = new Set<number>([1, 2, 9, 10, 11])
    for (let c = 12; c < gz.length; c += Math.ceil(gz.length / 12)) cuts.add(c)
    for (let k = 1; k <= 8; k++) cuts.add(gz.length - k)
    for (const c of cuts) {
      const path = await s.file(`cut-${c}.csv.gz`, gz.subarray(0, c))
      const error = await s.ingest('orders', path).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error, `cut at byte ${c} of ${gz.length}`).toBeInstanceOf(InputError)
      expect((error as InputError).issues[0]?.file, `cut at byte ${c}`).toBe(path)
    }
    expect(await q('SELECT count(*) AS n FROM orders')).toEqual([{ n: 0n }])
  })

  it('refuses a gzip file whose CRC or length does not match its data', async () => {
    const gz = zlib.gzipSync(`${[HEADER, ...lines(1, 20)].join('\n')}\n`)
    const badCrc = Buffer.from(gz)
    badCrc[gz.length - 6] = (badCrc[gz.length - 6] ?? 0) ^ 0x40
    const crc = await refused('crc.csv.gz', badCrc)
    expect(crc.error.issues[0]?.reason).toMatch(/gzip data is damaged \(incorrect data check\)/)
    const badLength = Buffer.from(gz)
    badLength[gz.length - 3] = (badLength[gz.length - 3] ?? 0) ^ 0x01
    const length = await refused('len.csv.gz', badLength)
    expect(length.error.issues[0]?.reason).toMatch(
      /gzip data is damaged \(incorrect length check\)/,
    )
  })

  it('refuses a truncated gzip JSON Lines file', async () => {
    const row =
      '{"order_id":"J1","email":"a@x.com","ordered_at":"2024-01-01","channel":"web","net_amount":1}\n'
    const gz = zlib.gzipSync(row.repeat(30))
    const { error, path } = await refused('o.jsonl.gz', gz.subarray(0, gz.length - 4))
    expect(error.issues[0]).toMatchObject({
      file: path,
      reason: expect.stringContaining('cut short'),
    })
  })

  it('refuses zstd files it cannot check, and checks them where the runtime can', async () => {
    const path = `${s.dir}/o.csv.zst`
    await s.db.driver.execute({
      sql: `COPY (SELECT 'Z' || i AS order_id, 'z' || i || '@x.cn' AS email, '2024-01-01' AS ordered_at, 'app' AS channel, 1 AS net_amount FROM range(300) t(i)) TO '${path}' (FORMAT csv, COMPRESSION zstd)`,
      parameters: [],
    })
    const { readFile } = await import('node:fs/promises')
    const zst = await readFile(path)
    const cut = await refused('cut.csv.zst', zst.subarray(0, Math.floor(zst.length / 2)))
    const canCheck = 'createZstdDecompress' in zlib
    expect(cut.error.issues[0]?.reason).toMatch(canCheck ? /cut short|damaged/ : /zstd/)
    if (canCheck) {
      expect((await s.ingest('orders', path)).rowsRead).toBe(300)
    } else {
      const whole = await refused('whole.csv.zst', zst)
      expect(whole.error.issues[0]?.reason).toContain('decompress it first')
    }
  })
})

describe('every CSV problem has its line, field and reason', () => {
  it('accepts one CR LF line in an LF file, and one LF line in a CR LF file, with clean values', async () => {
    const rows = [HEADER, ...lines(1, 5)]
    const mixed = `${rows.slice(0, 3).join('\n')}\r\n${rows.slice(3).join('\n')}\n`
    const r = await s.ingest('orders', await s.file('mixed.csv', mixed))
    expect(r.rowsRead).toBe(5)
    const crlf = `${rows.slice(0, 4).join('\r\n')}\n${rows.slice(4).join('\r\n')}\r\n`
    const r2 = await s.ingest('orders', await s.file('crlf.csv', crlf.replaceAll('O', 'P')))
    expect(r2.rowsRead).toBe(5)
    expect(
      await q(`SELECT count(*) AS n FROM orders WHERE channel <> 'app' OR order_id LIKE '%\r%'`),
    ).toEqual([{ n: 0n }])
    expect(await q(`SELECT count(*) AS n FROM orders`)).toEqual([{ n: 10n }])
  })

  it('names the line and field of an unterminated quote', async () => {
    const csv = [HEADER, ...lines(1, 2), 'O9,"m9@x.cn,2024-01-01,app,1', ...lines(3, 2)].join('\n')
    const { error, path } = await refused('quote.csv', `${csv}\n`)
    expect(error.issues).toEqual([
      {
        file: path,
        line: 4,
        field: 'email',
        reason: 'the quote that opens field email on line 4 is never closed (unterminated quote)',
      },
    ])
  })

  it('names the line and field of text after a closing quote', async () => {
    const csv = [HEADER, ...lines(1, 2), 'O9,"m9"@x.cn,2024-01-01,app,1'].join('\n')
    const { error } = await refused('after.csv', csv)
    expect(error.issues).toEqual([
      expect.objectContaining({
        line: 4,
        field: 'email',
        reason: expect.stringContaining('text after the closing quote of field email'),
      }),
    ])
  })

  it('names the real line of a field over the line size limit, and the limit; a larger limit loads it', async () => {
    const big = `m${'x'.repeat(2_200_000)}@x.cn`
    const csv = `${[HEADER, ...lines(1, 1), `O9,${big},2024-01-01,app,1`, ...lines(2, 1)].join('\n')}\n`
    const { error } = await refused('huge.csv', csv)
    expect(error.issues).toEqual([
      expect.objectContaining({
        line: 3,
        field: 'email',
        reason: expect.stringMatching(
          /the line is 2,200,027 bytes long, over the limit of 2,097,152 bytes per line .*--max-line-size/,
        ),
      }),
    ])
    // The reader's limit is the option's: just above the line's size it loads, so the value is kept whole.
    await s.ingest('orders', await s.file('huge2.csv', csv.replaceAll('O', 'Q')), {
      maxLineSize: 3_000_000,
    })
    expect(await q(`SELECT length(order_id) AS n FROM orders WHERE order_id = 'Q9'`)).toEqual([
      { n: 2n },
    ])
    expect(await q(`SELECT count(*) AS n FROM orders WHERE order_id LIKE 'Q%'`)).toEqual([
      { n: 3n },
    ])
  })

  it('lists each line with the wrong number of fields once, and counts lines', async () => {
    const csv = [
      HEADER,
      'O1,a@x.cn,2024-01-01,app,1,extra',
      'O2,b@x.cn,2024-01-01,app,1',
      'O3,c@x.cn,2024-01-01,app,1,x,y',
      'O4,d@x.cn,2024-01-01',
    ].join('\n')
    const { error } = await refused('fields.csv', `${csv}\n`)
    expect(error.issues.map((i) => [i.line, i.reason])).toEqual([
      [2, 'the line has 6 field(s); the header has 5 (is there an unquoted "," in a value?)'],
      [4, 'the line has 7 field(s); the header has 5 (is there an unquoted "," in a value?)'],
      [5, 'the line has 3 field(s); the header has 5'],
    ])
    expect(error.totalIssues).toBe(3)
    expect(error.message).toContain('3 line(s) cannot be read as CSV')
  })

  it('says a last line with too few fields may be cut short', async () => {
    const { error } = await refused(
      'cut.csv',
      [HEADER, ...lines(1, 3), 'O9,m9@x.cn,2024-0'].join('\n'),
    )
    expect(error.issues[0]).toMatchObject({
      line: 5,
      reason: expect.stringContaining('the last line is incomplete (was the file cut short?)'),
    })
  })

  it('names a carriage return inside a line', async () => {
    const { error } = await refused(
      'cr.csv',
      `${[HEADER, ...lines(1, 2), 'O9,m9@x.\rcn,2024-01-01,app,1'].join('\n')}\n`,
    )
    expect(error.issues[0]).toMatchObject({
      line: 4,
      field: 'email',
      reason: expect.stringContaining('carriage return (CR) inside the line'),
    })
  })

  it('names the physical line of a record after values that span lines', async () => {
    const csv = [
      'order_id,email,ordered_at,channel,store_id,net_amount',
      'O1,a@x.cn,2024-01-01,app,"two',
      'lines",1',
      'O2,b@x.cn,2024-01-01,app,"three\r',
      'more',
      'lines",1',
      'O3,c@x.cn,not-a-date,app,,1',
      'O4,d@x.cn,2024-01-01,app,"x\0',
      'y",1',
    ].join('\n')
    const { error } = await refused('multi.csv', `${csv}\n`)
    expect(error.issues).toEqual([
      expect.objectContaining({
        line: 8,
        field: 'store_id',
        reason: expect.stringContaining('NUL'),
      }),
    ])
    const fixed = csv.replace('x\0', 'x')
    const { error: typed } = await refused('multi2.csv', `${fixed}\n`)
    expect(typed.issues).toEqual([
      expect.objectContaining({ line: 7, field: 'ordered_at', value: 'not-a-date' }),
    ])
  })

  it('refuses a NUL byte in a value, naming line and field', async () => {
    const { error } = await refused(
      'nul.csv',
      `${[HEADER, ...lines(1, 2), 'O9,m9@x.cn,2024-01-01,a\0pp,1'].join('\n')}\n`,
    )
    expect(error.issues).toEqual([
      expect.objectContaining({
        line: 4,
        field: 'channel',
        reason: expect.stringContaining('NUL'),
      }),
    ])
  })

  it('reads JSON keys that look like JSON paths as plain keys', async () => {
    const row = {
      order_id: 'K1',
      email: 'k@x.cn',
      ordered_at: '2024-01-01',
      channel: 'app',
      $amt: '4.5',
      'a"b.c': 'S1',
    }
    await s.ingest('orders', await s.file('odd.jsonl', `${JSON.stringify(row)}\n`), {
      columns: { net_amount: '$amt', store_id: 'a"b.c' },
    })
    expect(await q(`SELECT net_amount::DOUBLE AS n, store_id FROM orders`)).toEqual([
      { n: 4.5, storeId: 'S1' },
    ])
    const { error } = await refused(
      'star.jsonl',
      `${JSON.stringify({ ...row, order_id: 'K2', '*': 1 })}\n`,
    )
    expect(error.issues[0]).toMatchObject({ line: 1, reason: expect.stringContaining('"*"') })
  })

  it('rejects a line size limit outside its range', async () => {
    await expect(
      s.ingest('orders', await s.file('o.csv', [HEADER, ...lines(1, 1)].join('\n')), {
        maxLineSize: 10,
      }),
    ).rejects.toBeInstanceOf(InputError)
  })
})

describe('GB18030 (GBK) files', () => {
  // 上海 and 北京 in GBK.
  const SHANGHAI = Buffer.from([0xc9, 0xcf, 0xba, 0xa3])
  const BEIJING = Buffer.from([0xb1, 0xb1, 0xbe, 0xa9])
  const gbkMembers = Buffer.concat([
    Buffer.from('phone,registered_at,city\n13800138000,2024-01-01,'),
    SHANGHAI,
    Buffer.from('\n13900139000,2024-01-02,'),
    BEIJING,
    Buffer.from('\n'),
  ])

  it('detects a GB18030 file read as UTF-8: counts its 2 lines, names them and suggests --encoding gb18030', async () => {
    const { error, path } = await refused('gbk.csv', gbkMembers, {}, 'members')
    expect(error.totalIssues).toBe(2)
    expect(error.issues.map((i) => [i.line, i.field])).toEqual([
      [2, 'city'],
      [3, 'city'],
    ])
    expect(error.message).toBe(
      `${path}: 2 line(s) are not UTF-8; it reads as GB18030 (the encoding of Chinese Excel exports), e.g. line 2 city "上海": pass --encoding gb18030. Nothing was loaded`,
    )
    expect(error.issues[0]?.reason).toContain('pass --encoding gb18030')
  })

  it('does not suggest GB18030 for Latin-1 text that is not GB18030', async () => {
    const latin = Buffer.concat([
      Buffer.from('phone,registered_at,city\n13800138000,2024-01-01,caf'),
      Buffer.from([0xe9]),
      Buffer.from('\n'),
    ])
    const { error } = await refused('latin.csv', latin, {}, 'members')
    expect(error.message).not.toContain('GB18030')
    expect(error.issues[0]).toMatchObject({ line: 2, field: 'city' })
  })

  it('loads with --encoding gb18030, gbk and gzip-compressed GBK alike', async () => {
    await s.ingest('members', await s.file('gbk.csv', gbkMembers), { encoding: 'gb18030' })
    expect(await q('SELECT city FROM members ORDER BY member_id')).toEqual([
      { city: '上海' },
      { city: '北京' },
    ])
    const again = await s.ingest('members', await s.file('gbk.csv.gz', zlib.gzipSync(gbkMembers)), {
      encoding: 'gbk',
    })
    expect(again).toMatchObject({ rowsRead: 2, rowsInserted: 0, rowsUpdated: 0 })
  })

  it('names the line of bytes that are not GB18030 either', async () => {
    const bad = Buffer.concat([
      gbkMembers,
      Buffer.from('13700137000,2024-01-03,'),
      Buffer.from([0xff, 0xff, 0x0a]),
    ])
    const { error } = await refused('bad.csv', bad, { encoding: 'gb18030' }, 'members')
    expect(error.issues).toEqual([
      expect.objectContaining({ line: 4, reason: expect.stringContaining('not GB18030') }),
    ])
  })
})

describe('--max-line-size values', () => {
  it('reads bytes and KB/MB/GB, and refuses sizes out of range', () => {
    expect(byteSizeSchema.parse('4096')).toBe(4096)
    expect(byteSizeSchema.parse('8MB')).toBe(8 * 1024 * 1024)
    expect(byteSizeSchema.parse('64 kb')).toBe(65536)
    expect(byteSizeSchema.parse(1_000_000)).toBe(1_000_000)
    for (const bad of ['10', '2GB', 'big', '1.5MB', '-4096']) {
      expect(byteSizeSchema.safeParse(bad).success, bad).toBe(false)
    }
  })
})
