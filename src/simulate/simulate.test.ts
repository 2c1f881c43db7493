import { createHash } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InputError } from '../core/errors.js'
import { INGEST_TABLES, TABLES, sourceFields, type FieldDef } from '../core/schema.js'
import { simulate, type SimulateResult } from './simulate.js'
import { readCsv, seconds, type Csv } from './simulate.test-util.js'

const SMALL = { members: 600, months: 12, end: '2026-10-31', seed: 11 }
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/
const DATE = /^\d{4}-\d{2}-\d{2}$/
const MONEY = /^\d+\.\d{2}$/
const INTEGER = /^\d+$/
const NUMBER = /^\d+(\.\d+)?$/

let root: string
let run: SimulateResult

async function hashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const f of (await readdir(dir)).sort()) {
    out[f] = createHash('sha256')
      .update(await readFile(join(dir, f)))
      .digest('hex')
  }
  return out
}

function cents(s: string): number {
  return Math.round(Number(s) * 100)
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'memberlens-sim-'))
  run = await simulate(join(root, 'a'), SMALL)
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('simulate: reproducibility', () => {
  it('writes byte-identical files for the same seed and options', async () => {
    await simulate(join(root, 'b'), SMALL)
    const a = await hashes(join(root, 'a'))
    expect(Object.keys(a)).toHaveLength(INGEST_TABLES.length + 1)
    expect(await hashes(join(root, 'b'))).toEqual(a)
  })

  it('writes different data for a different seed', async () => {
    await simulate(join(root, 'c'), { ...SMALL, seed: 12 })
    const a = await hashes(join(root, 'a'))
    const c = await hashes(join(root, 'c'))
    for (const t of INGEST_TABLES) expect(c[`${t}.csv`], t).not.toBe(a[`${t}.csv`])
  })

  it('writes only the requested tables, with the same rows as a full run', async () => {
    const progress: [number, number][] = []
    const sub = await simulate(join(root, 'd'), {
      ...SMALL,
      tables: ['orders', 'members'],
      onProgress: (done, total) => progress.push([done, total]),
    })
    expect(Object.keys(sub.files).sort()).toEqual(['members', 'orders'])
    expect((await readdir(join(root, 'd'))).sort()).toEqual([
      'members.csv',
      'orders.csv',
      'truth.json',
    ])
    const a = await hashes(join(root, 'a'))
    const d = await hashes(join(root, 'd'))
    expect(d['orders.csv']).toBe(a['orders.csv'])
    expect(d['members.csv']).toBe(a['members.csv'])
    expect(sub.truth.options.tables).toEqual(['members', 'orders'])
    expect(sub.truth.purchases).toEqual(run.truth.purchases)
    expect(progress.at(-1)).toEqual([SMALL.members, SMALL.members])
    expect(progress.length).toBeGreaterThanOrEqual(100)
  })
})

describe('simulate: options', () => {
  it.each([
    [{ members: 0 }, 'members'],
    [{ members: 2.5 }, 'members'],
    [{ months: 0 }, 'months'],
    [{ end: '2026-02-30' }, 'end'],
    [{ end: '31/10/2026' }, 'end'],
    [{ seed: 1.5 }, 'seed'],
    [{ tables: ['orders', 'nope'] as never }, 'tables'],
  ])('rejects %j', async (bad, field) => {
    const err = await simulate(join(root, 'bad'), { ...SMALL, ...bad }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).issues[0]?.field).toBe(field)
  })
})

describe('simulate: file format', () => {
  const csvs = new Map<string, Csv>()
  const csv = (t: string): Csv => {
    let c = csvs.get(t)
    if (!c) {
      c = readCsv(join(root, 'a', `${t}.csv`))
      csvs.set(t, c)
    }
    return c
  }

  it('reports the rows it wrote', () => {
    for (const t of INGEST_TABLES) {
      expect(run.rows[t], t).toBe(csv(t).rows.length)
      expect(run.rows[t], t).toBeGreaterThan(0)
    }
    expect(run.truth.rows).toEqual(run.rows)
    expect(run.rows['members']).toBe(run.truth.memberRows)
    expect(run.truth.persons).toBe(SMALL.members)
  })

  it.each(INGEST_TABLES)('%s: header is a subset of the schema with every required field', (t) => {
    const header = csv(t).header
    const allowed = sourceFields(TABLES[t])
    for (const h of header) expect(allowed, `${t}.${h}`).toContain(h)
    expect(new Set(header).size).toBe(header.length)
    const required = TABLES[t].fields.filter((f) => f.required && !f.derived).map((f) => f.name)
    for (const r of required) expect(header, `${t} lacks ${r}`).toContain(r)
  })

  it.each(INGEST_TABLES)('%s: every row parses against the schema types', (t) => {
    const c = csv(t)
    const defs = new Map<string, FieldDef>(TABLES[t].fields.map((f) => [f.name, f]))
    const identityCols = c.header.filter((h) => !defs.has(h) || h === 'member_id')
    for (const [line, row] of c.rows.entries()) {
      const where = `${t}.csv line ${line + 2}`
      expect(row.length, where).toBe(c.header.length)
      for (const [k, name] of c.header.entries()) {
        const v = row[k] ?? ''
        const def = defs.get(name)
        if (!def) continue
        if (v === '') {
          // A blank required field is only allowed where the schema supplies a default.
          expect(def.required && def.default === undefined, `${where}: ${name} is required`).toBe(
            false,
          )
          continue
        }
        const type = def.type
        const ok =
          type.kind === 'timestamp'
            ? TS.test(v)
            : type.kind === 'date'
              ? DATE.test(v)
              : type.kind === 'money'
                ? MONEY.test(v)
                : type.kind === 'integer' || type.kind === 'bigint'
                  ? INTEGER.test(v)
                  : type.kind === 'number'
                    ? NUMBER.test(v)
                    : type.kind === 'boolean'
                      ? v === 'true' || v === 'false'
                      : type.kind === 'enum'
                        ? type.values.includes(v)
                        : type.kind === 'json'
                          ? typeof JSON.parse(v) === 'object'
                          : true
        if (!ok) expect.fail(`${where}: ${name} ${JSON.stringify(v)} is not a ${type.kind}`)
        if (def.range && (Number(v) < def.range[0] || Number(v) > def.range[1])) {
          expect.fail(`${where}: ${name} ${v} out of range`)
        }
      }
      // Every member-linked row carries at least one identity.
      if (identityCols.length > 0) {
        expect(
          identityCols.some((h) => (row[c.col(h)] ?? '') !== ''),
          `${where} has no identity`,
        ).toBe(true)
      }
    }
  })

  it('keeps every timestamp inside the window', () => {
    const start = seconds(run.truth.window.start)
    const end = seconds(run.truth.window.end)
    for (const [t, col] of [
      ['members', 'registered_at'],
      ['orders', 'ordered_at'],
      ['returns', 'returned_at'],
      ['events', 'ts'],
      ['feedback', 'ts'],
      ['touches', 'sent_at'],
      ['experiments', 'assigned_at'],
      ['subscriptions', 'started_at'],
    ] as const) {
      const c = csv(t)
      const k = c.col(col)
      for (const row of c.rows) {
        const s = seconds(row[k] ?? '')
        if (!(s >= start && s < end)) expect.fail(`${t}.${col} ${row[k]} outside the window`)
      }
    }
  })

  it('keeps order amounts consistent: lines sum to gross, net = gross − discount', () => {
    const orders = csv('orders')
    const items = csv('order_items')
    const [oid, gross, disc, net, pts] = [
      'order_id',
      'gross_amount',
      'discount_amount',
      'net_amount',
      'points_used',
    ].map((n) => orders.col(n)) as [number, number, number, number, number]
    const lineSum = new Map<string, number>()
    const [iid, qty, price] = ['order_id', 'quantity', 'unit_price'].map((n) => items.col(n)) as [
      number,
      number,
      number,
    ]
    for (const row of items.rows) {
      const id = row[iid] ?? ''
      lineSum.set(id, (lineSum.get(id) ?? 0) + Number(row[qty]) * cents(row[price] ?? ''))
    }
    const ids = new Set<string>()
    for (const row of orders.rows) {
      const id = row[oid] ?? ''
      expect(ids.has(id), `duplicate order ${id}`).toBe(false)
      ids.add(id)
      const g = cents(row[gross] ?? '')
      expect(Math.abs((lineSum.get(id) ?? -1) - g), `lines of ${id}`).toBeLessThanOrEqual(1)
      expect(cents(row[net] ?? ''), `net of ${id}`).toBe(g - cents(row[disc] ?? ''))
      expect(Number(row[pts] || 0), `points of ${id}`).toBeLessThanOrEqual(cents(row[disc] ?? ''))
    }
    for (const id of lineSum.keys()) expect(ids.has(id), `lines of unknown order ${id}`).toBe(true)
  })

  it('matches returns to refunded orders', () => {
    const orders = csv('orders')
    const returns = csv('returns')
    const byId = new Map(orders.rows.map((r) => [r[orders.col('order_id')] ?? '', r]))
    const returned = new Set<string>()
    for (const row of returns.rows) {
      const id = row[returns.col('order_id')] ?? ''
      const order = byId.get(id)
      if (!order) expect.fail(`return of unknown order ${id}`)
      returned.add(id)
      const net = cents(order[orders.col('net_amount')] ?? '')
      const amount = cents(row[returns.col('amount')] ?? '')
      const status = order[orders.col('status')]
      expect(amount).toBeGreaterThan(0)
      expect(status === 'refunded' ? amount === net : amount < net).toBe(true)
      expect(seconds(row[returns.col('returned_at')] ?? '')).toBeGreaterThan(
        seconds(order[orders.col('ordered_at')] ?? ''),
      )
    }
    for (const row of orders.rows) {
      const s = row[orders.col('status')] ?? ''
      const id = row[orders.col('order_id')] ?? ''
      expect(returned.has(id), `${id} ${s}`).toBe(s === 'refunded' || s === 'partially_refunded')
    }
    expect(returns.rows.length).toBe(run.truth.returns.count)
  })

  it('writes truth.json with the parameters and counts', async () => {
    const truth = JSON.parse(await readFile(run.truthFile, 'utf8')) as typeof run.truth
    expect(truth).toEqual(run.truth)
    expect(truth.seed).toBe(SMALL.seed)
    expect(truth.parameters.purchase).toMatchObject({ r: 0.6, alpha: 4, a: 0.8, b: 2.5 })
    expect(truth.sample).toHaveLength(200)
    expect(truth.purchases.orders).toBe(run.rows['orders'])
    expect(truth.duplicates.linkedByOrder + truth.duplicates.linkedByEvent).toBe(
      truth.duplicates.registrations,
    )
    expect(truth.memberRows).toBe(truth.persons + truth.duplicates.registrations)
  })
})
