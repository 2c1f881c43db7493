/**
 * Every export of members loads back as the same members: no member created, nothing merged, no identity
 * added. Regression: `risk export` wrote phones as `8613676421568`; loading the file again read that as a
 * national number (`868613676421568`) and created a new member.
 *
 * The database is a small simulation (phones in three written forms) plus members with a foreign phone, a
 * phone written with its country code but no `+`, and source customer ids. Each export is loaded back as
 * members twice: as written (member_id included), and with member_id left out, so that the identities alone
 * must find the members.
 */
import { readFile, rm, writeFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHURN_CLASSES } from '../../src/analytics/risk/early-warning.js'
import { findMemberId } from '../../src/duckdb/members/member-profile.js'
import { ingestFile, type IngestReport } from '../../src/duckdb/ingest/ingest.js'
import { simulate } from '../../src/simulate/simulate.js'
import { openDatabase, type Database } from '../../src/store/database.js'
import { TEST_CLOCK, ingestSimulated } from '../helpers/db.js'
import { runCli } from '../helpers/cli.js'

let dir: string
let dbPath: string

/** Members whose identities the simulation does not produce, with orders so that every export has them. */
const EXTRA_MEMBERS = [
  'phone,customer_id,email,registered_at,registration_channel',
  '+1 415 555 2671,CRM-0001,amy@example.us,2025-01-05,web',
  '+44 20 7946 0958,CRM-0002,,2025-01-06,web',
  '8613600136000,CRM-0003,,2025-01-07,store',
  ',CRM-0004,,2025-01-08,store',
].join('\n')
const EXTRA_ORDERS = [
  'order_id,customer_id,ordered_at,channel,net_amount',
  ...['CRM-0001', 'CRM-0002', 'CRM-0003', 'CRM-0004'].flatMap((c, i) => [
    `X${i}a,${c},2025-03-0${i + 1} 10:00:00,web,${50 + i}`,
    `X${i}b,${c},2025-09-0${i + 1} 10:00:00,web,${70 + i}`,
  ]),
].join('\n')

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-roundtrip-'))
  dbPath = join(dir, 'm.duckdb')
  const sim = await simulate(join(dir, 'data'), {
    members: 400,
    months: 18,
    seed: 7,
    end: '2026-10-31',
  })
  const db = await openDatabase(dbPath, { threads: 1 })
  try {
    await ingestSimulated(db.driver, sim.files)
    const m = join(dir, 'extra-members.csv')
    await writeFile(m, EXTRA_MEMBERS)
    await ingestFile(db.driver, m, { table: 'members', clock: TEST_CLOCK })
    const o = join(dir, 'extra-orders.csv')
    await writeFile(o, EXTRA_ORDERS)
    await ingestFile(db.driver, o, { table: 'orders', clock: TEST_CLOCK })
  } finally {
    await db.close()
  }
  for (const args of [
    ['clv', 'fit'],
    ['risk', 'train'],
    ['risk', 'score'],
    ['segments', 'save', 'everyone', '--filter', '{}'],
  ]) {
    const r = await run(args)
    if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.err}`)
  }
}, 120_000)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const run = (args: string[]) => runCli([...args, '--db', dbPath])

/** Runs an export command and returns the file it wrote (to --out, or captured from stdout). */
async function exportFile(name: string, args: string[], toStdout = false): Promise<string> {
  const path = join(dir, name)
  const r = await run(toStdout ? args : [...args, '--out', path])
  expect(r.code, r.err).toBe(0)
  if (toStdout) await writeFile(path, r.out)
  return path
}

/** The file's header (CSV) or keys (JSON Lines) and its data rows. */
async function readExport(
  path: string,
): Promise<{ columns: string[]; rows: Array<Record<string, string>> }> {
  const text = (await readFile(path, 'utf8')).trim()
  if (path.endsWith('.jsonl')) {
    const rows = text.split('\n').map((l) => {
      const o = JSON.parse(l) as Record<string, unknown>
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? '' : String(v)]))
    })
    return { columns: Object.keys(rows[0] ?? {}), rows }
  }
  const [head, ...lines] = text.split(/\r?\n/)
  const columns = (head ?? '').split(',')
  // The member exports quote only fields with commas (reasons lists); a tiny RFC 4180 reader suffices.
  const rows = lines.map((line) => {
    const cells: string[] = []
    let cur = ''
    let quoted = false
    for (let i = 0; i < line.length; i++) {
      const c = line[i] as string
      if (quoted && c === '"' && line[i + 1] === '"') {
        cur += '"'
        i++
      } else if (c === '"') {
        quoted = !quoted
      } else if (c === ',' && !quoted) {
        cells.push(cur)
        cur = ''
      } else {
        cur += c
      }
    }
    cells.push(cur)
    return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']))
  })
  return { columns, rows }
}

const MEMBER_COLUMNS = new Set([
  'member_id',
  'phone',
  'email',
  'wechat_unionid',
  'app_user_id',
  'card_no',
  'pos_customer_id',
  'customer_id',
  'consent_sms',
  'consent_email',
  'consent_wechat',
  'consent_push',
])
const IDENTITY_COLUMNS = [
  'phone',
  'email',
  'wechat_unionid',
  'app_user_id',
  'card_no',
  'pos_customer_id',
  'customer_id',
] as const

async function counts(db: Database): Promise<Record<string, bigint>> {
  const r = await db.driver.first<Record<string, bigint>>({
    sql: `SELECT (SELECT count(*) FROM members) AS members, (SELECT count(*) FROM identities) AS identities,
      (SELECT count(*) FROM member_merges) AS merges, (SELECT count(*) FROM orders) AS orders`,
    parameters: [],
  })
  return r ?? {}
}

/**
 * Loads an export back as members (with a registration date, which a members file needs; a later date than
 * any keeps the existing one) and returns the report and the database counts before and after. The load runs
 * in a copy of the database, so each check starts from the same state.
 */
async function loadBack(
  path: string,
  columns: readonly string[],
  withMemberId: boolean,
): Promise<{
  report: IngestReport
  before: Record<string, bigint>
  after: Record<string, bigint>
}> {
  const copy = join(dir, `copy-${withMemberId ? 'id' : 'noid'}.duckdb`)
  await rm(copy, { force: true })
  await writeFile(copy, await readFile(dbPath))
  const db = await openDatabase(copy, { threads: 1 })
  try {
    const ignore = columns.filter(
      (c) => !MEMBER_COLUMNS.has(c) || (c === 'member_id' && !withMemberId),
    )
    const before = await counts(db)
    const report = await ingestFile(db.driver, await withRegistration(path), {
      table: 'members',
      clock: TEST_CLOCK,
      ignore,
    })
    return { report, before, after: await counts(db) }
  } finally {
    await db.close()
    await rm(copy, { force: true })
  }
}

/** The export with a `registered_at` column added (2100-01-01 on every row). */
async function withRegistration(path: string): Promise<string> {
  const text = (await readFile(path, 'utf8')).trim()
  const out = path.replace(/(\.\w+)$/, '-reg$1')
  if (path.endsWith('.jsonl')) {
    const lines = text
      .split('\n')
      .map((l) => JSON.stringify({ ...(JSON.parse(l) as object), registered_at: '2100-01-01' }))
    await writeFile(out, `${lines.join('\n')}\n`)
  } else {
    const [head, ...rows] = text.split(/\r?\n/)
    await writeFile(
      out,
      [`${head},registered_at`, ...rows.map((r) => `${r},2100-01-01`)].join('\n'),
    )
  }
  return out
}

/** Loads the export back both ways and checks that it names exactly the members it came from. */
async function expectSameMembers(path: string): Promise<void> {
  const { columns, rows } = await readExport(path)
  expect(rows.length).toBeGreaterThan(0)
  const withIds = columns.some((c) =>
    IDENTITY_COLUMNS.includes(c as (typeof IDENTITY_COLUMNS)[number]),
  )
  for (const withMemberId of withIds ? [true, false] : [true]) {
    const { report, before, after } = await loadBack(path, columns, withMemberId)
    expect(report, `${path} with member_id ${withMemberId}`).toMatchObject({
      rowsRead: rows.length,
      rowsInserted: 0,
      membersCreated: 0,
      membersMerged: 0,
      identitiesAdded: 0,
    })
    expect(after).toEqual(before)
  }
  if (!withIds) return
  // Every identity written for a member finds that member.
  const db = await openDatabase(dbPath, { readOnly: true })
  try {
    for (const row of rows) {
      for (const t of IDENTITY_COLUMNS) {
        const v = row[t]
        if (v === undefined || v === '') continue
        expect(await findMemberId(db.driver, `${t}:${v}`), `${t}:${v}`).toBe(
          BigInt(row['member_id'] as string),
        )
      }
    }
  } finally {
    await db.close()
  }
}

describe('every export of members loads back as the same members', () => {
  it('segments export (CSV and JSON Lines), with phones in E.164 and the source customer ids', async () => {
    const csv = await exportFile('segment.csv', ['segments', 'export', 'everyone'])
    const { rows } = await readExport(csv)
    const byCustomer = new Map(rows.map((r) => [r['customer_id'], r]))
    expect(byCustomer.get('CRM-0001')?.['phone']).toBe('+14155552671')
    expect(byCustomer.get('CRM-0002')?.['phone']).toBe('+442079460958')
    expect(byCustomer.get('CRM-0003')?.['phone']).toBe('+8613600136000')
    expect(
      rows.filter((r) => r['phone'] !== '').every((r) => /^\+\d{8,15}$/.test(r['phone'] ?? '')),
    ).toBe(true)
    await expectSameMembers(csv)
    await expectSameMembers(
      await exportFile('segment.jsonl', ['segments', 'export', 'everyone', '--format', 'jsonl']),
    )
  }, 60_000)

  it('risk export of every churn class', async () => {
    let exported = 0
    for (const cls of CHURN_CLASSES) {
      const path = await exportFile(`risk-${cls}.csv`, ['risk', 'export', '--class', cls])
      if ((await readExport(path)).rows.length === 0) continue
      exported++
      await expectSameMembers(path)
    }
    expect(exported).toBeGreaterThan(1)
  }, 60_000)

  it('clv predict --csv and rfm --members --csv (member ids)', async () => {
    await expectSameMembers(
      await exportFile('clv.csv', ['clv', 'predict', '--csv', '--top', '100000'], true),
    )
    await expectSameMembers(await exportFile('rfm.csv', ['rfm', '--members', '--csv'], true))
  }, 60_000)
})
