/**
 * Random damage to valid small files: every load either is refused (an InputError naming the file, with a
 * line when the damage is inside the text, and the database unchanged) or loads every record the damaged
 * file holds. Never a part of the file.
 */
import * as zlib from 'node:zlib'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InputError } from '../../src/core/errors.js'
import { scratch, snapshot } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
beforeAll(async () => {
  s = await scratch()
})
afterAll(async () => {
  await s.cleanup()
})

const CSV = `${[
  'order_id,email,ordered_at,channel,store_id,net_amount',
  'F1,ann@x.cn,2024-01-01 10:00:00,app,,12.50',
  'F2,bob@x.cn,2024-01-02 11:00:00,store,"S,1",3',
  'F3,cy@x.cn,2024-01-03 12:00:00,store,"S ""2""",7.25',
  'F4,dee@x.cn,2024-01-04 13:00:00,web,S3,0',
  'F5,ed@x.cn,2024-01-05 14:00:00,app,"S\n4",100',
  'F6,fay@x.cn,2024-01-06 15:00:00,web,S5,1',
].join('\n')}\n`

/** The same records with CR LF line ends, as Excel writes them. */
const CSV_CRLF = CSV.replaceAll('\n', '\r\n').replace('"S\r\n4"', '"S\n4"')

/** A CSV export in GBK (上海 and 北京 in its store column), loaded with --encoding gb18030. */
const CSV_GBK = Buffer.concat([
  Buffer.from('order_id,email,ordered_at,channel,store_id,net_amount\nG1,ann@x.cn,2024-01-01,app,'),
  Buffer.from([0xc9, 0xcf, 0xba, 0xa3]),
  Buffer.from(',1\nG2,bob@x.cn,2024-01-02,store,"'),
  Buffer.from([0xb1, 0xb1, 0xbe, 0xa9]),
  Buffer.from(',1",2\nG3,cy@x.cn,2024-01-03,web,,3\n'),
])

const JSONL = `${[
  {
    order_id: 'J1',
    email: 'ann@x.cn',
    ordered_at: '2024-01-01T10:00:00Z',
    channel: 'app',
    net_amount: 1,
  },
  {
    order_id: 'J2',
    email: 'bob@x.cn',
    ordered_at: '2024-01-02T10:00:00Z',
    channel: 'web',
    net_amount: '2.5',
  },
  {
    order_id: 'J3',
    email: 'cy@x.cn',
    ordered_at: '2024-01-03T10:00:00Z',
    channel: 'store',
    store_id: 'S"1',
  },
  {
    order_id: 'J4',
    email: 'dee@x.cn',
    ordered_at: '2024-01-04T10:00:00Z',
    channel: 'app',
    net_amount: 4,
  },
]
  .map((o, i) => JSON.stringify(i === 2 ? { ...o, net_amount: 3 } : o))
  .join('\n')}\n`

/**
 * Records an RFC 4180 reader finds in CSV text: a quote opens a quoted field only at the start of a field,
 * `""` inside it is a quote, a line end outside quotes ends a record; blank records are skipped. The header
 * is not counted.
 */
function csvRecords(text: string): number {
  let records = 0
  let inQuotes = false
  let atFieldStart = true
  let blank = true
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') i++
        else inQuotes = false
      }
      continue
    }
    if (c === '\n') {
      if (!blank) records++
      blank = true
      atFieldStart = true
      continue
    }
    if (c === '\r') continue
    blank = false
    if (c === '"' && atFieldStart) inQuotes = true
    atFieldStart = c === ','
  }
  if (!blank) records++
  return Math.max(0, records - 1)
}

const jsonRecords = (text: string) =>
  text.split('\n').filter((l) => l.replace(/\r$/, '').trim() !== '').length

type Damage =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'insert'; at: number; bytes: string }

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    mask: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.constantFrom('"', '\r', '\0', '\n', ',', '\r\n', '""', '\u00e9', '{'),
  }),
)

function applyDamage(data: Buffer, d: Damage): Buffer {
  const at = d.at % Math.max(1, data.length)
  switch (d.kind) {
    case 'truncate':
      return data.subarray(0, Math.max(1, at))
    case 'flip': {
      const out = Buffer.from(data)
      out[at] = (out[at] ?? 0) ^ d.mask
      return out
    }
    case 'insert':
      return Buffer.concat([data.subarray(0, at), Buffer.from(d.bytes), data.subarray(at)])
  }
}

interface Case {
  readonly format: 'csv' | 'csv-crlf' | 'csv-gbk' | 'jsonl'
  readonly gzip: boolean
  /** Damage the compressed bytes instead of the text. */
  readonly inCompressed: boolean
  readonly damage: Damage
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  format: fc.constantFrom(
    'csv' as const,
    'csv-crlf' as const,
    'csv-gbk' as const,
    'jsonl' as const,
  ),
  gzip: fc.boolean(),
  inCompressed: fc.boolean(),
  damage: damageArb,
})

let n = 0

async function check(c: Case): Promise<void> {
  const text = {
    csv: Buffer.from(CSV),
    'csv-crlf': Buffer.from(CSV_CRLF),
    'csv-gbk': CSV_GBK,
    jsonl: Buffer.from(JSONL),
  }[c.format]
  const ext = c.format === 'jsonl' ? 'jsonl' : 'csv'
  const opts = c.format === 'csv-gbk' ? { encoding: 'gb18030' as const } : {}
  let bytes: Buffer
  let damagedText: Buffer | undefined
  if (c.gzip && c.inCompressed) {
    bytes = applyDamage(zlib.gzipSync(text), c.damage)
    try {
      damagedText = zlib.gunzipSync(bytes)
    } catch {
      damagedText = undefined // the compressed data is broken: the file must be refused
    }
  } else {
    damagedText = applyDamage(text, c.damage)
    bytes = c.gzip ? zlib.gzipSync(damagedText) : damagedText
  }
  n++
  const path = await s.file(`f${n}.${ext}${c.gzip ? '.gz' : ''}`, bytes)
  const before = await snapshot(s.db)
  const outcome = await s.ingest('orders', path, opts).then(
    (report) => ({ report }),
    (error: unknown) => ({ error }),
  )
  const label = JSON.stringify(c)
  if ('error' in outcome) {
    const error = outcome.error
    expect(error, label).toBeInstanceOf(InputError)
    const e = error as InputError
    expect(e.message, label).toContain(path)
    for (const issue of e.issues) expect(issue.file, label).toBe(path)
    if (damagedText !== undefined && damagedText.length > 0) {
      // Damage inside the text is answered with the line it is on.
      expect(
        e.issues.some((i) => i.line !== undefined),
        `${label}: ${e.message}`,
      ).toBe(true)
    }
    expect(await snapshot(s.db), label).toBe(before)
    return
  }
  // Loaded: only a file whose text is whole may load, and then every record of it.
  expect(damagedText, `${label}: loaded a file whose compressed data is broken`).toBeDefined()
  const str = new TextDecoder(c.format === 'csv-gbk' ? 'gb18030' : 'utf-8').decode(damagedText)
  const expected = ext === 'csv' ? csvRecords(str) : jsonRecords(str)
  expect(outcome.report.rowsRead, `${label}: ${JSON.stringify(str)}`).toBe(expected)
  const r = outcome.report
  expect(r.rowsInserted + r.rowsUpdated + r.rowsUnchanged, label).toBe(r.rowsRead)
}

describe('ingest under random damage', () => {
  it('refuses with a line, or loads every record: never part of a file', async () => {
    // The undamaged files load whole.
    expect((await s.ingest('orders', await s.file('ok.csv', CSV))).rowsRead).toBe(6)
    expect((await s.ingest('orders', await s.file('crlf.csv', CSV_CRLF))).rowsRead).toBe(6)
    const gbk = await s.ingest('orders', await s.file('gbk.csv', CSV_GBK), { encoding: 'gb18030' })
    expect(gbk.rowsRead).toBe(3)
    expect(
      await s.db.driver.all({
        sql: `SELECT store_id FROM orders WHERE order_id LIKE 'G%' ORDER BY 1`,
        parameters: [],
      }),
    ).toEqual([{ storeId: '上海' }, { storeId: '北京,1' }, { storeId: null }])
    expect(
      (await s.ingest('orders', await s.file('ok.jsonl.gz', zlib.gzipSync(JSONL)))).rowsRead,
    ).toBe(4)
    // MEMBERLENS_FUZZ_RUNS raises the number of cases for a longer local run.
    const numRuns = Number(process.env['MEMBERLENS_FUZZ_RUNS'] ?? 60)
    await fc.assert(fc.asyncProperty(caseArb, check), { numRuns })
  }, 600_000)
})
