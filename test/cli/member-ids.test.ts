/**
 * Exports a CRM can join: `--ids` adds the members' source identities to `clv predict` and
 * `rfm --members` and narrows the identity columns of `segments export` and `risk export`; `--member`
 * takes an identity as `members show` does. On the CDNOW sample, whose customer ids are the members'
 * `customer_id` identities.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cdnowPreset } from '../../src/duckdb/ingest/presets/cdnow.js'
import { sql } from '../../src/engine/sql/fragment.js'
import {
  narrowIdentityColumns,
  parseIdentityList,
} from '../../src/engine/segments/identity-columns.js'
import { EXPORT_COLUMNS } from '../../src/engine/segments/segment-export.js'
import { openDatabase } from '../../src/store/database.js'
import { InputError } from '../../src/core/errors.js'
import { runCli } from '../helpers/cli.js'
import { CDNOW_SAMPLE } from '../helpers/data.js'
import { TEST_CLOCK } from '../helpers/db.js'

let dir: string
let db: string
/** member_id → customer_id, read from the database itself. */
const customerOf = new Map<number, string>()

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-member-ids-'))
  db = join(dir, 'cdnow.duckdb')
  const d = await openDatabase(db, { threads: 1 })
  await cdnowPreset.load(d.driver, CDNOW_SAMPLE, { clock: TEST_CLOCK })
  for (const r of await d.driver.all<{ memberId: bigint; identityValue: string }>(
    sql`SELECT member_id, identity_value FROM identities WHERE identity_type = 'customer_id'`,
  ))
    customerOf.set(Number(r.memberId), r.identityValue)
  await d.close()
  const fit = await runCli(['clv', 'fit', '--db', db, '--calibration-end', '1997-09-30', '--json'])
  expect(fit.code, fit.err).toBe(0)
}, 60_000)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function csv(text: string): string[][] {
  return text
    .trim()
    .split(/\r?\n/)
    .map((l) => l.split(','))
}

describe('--member takes an identity', () => {
  it('clv predict --member customer_id:4 gives that customer’s score, as the member id does', async () => {
    const byIdentity = await runCli([
      'clv',
      'predict',
      '--db',
      db,
      '--member',
      'customer_id:4',
      '--json',
    ])
    expect(byIdentity.code, byIdentity.err).toBe(0)
    const scores = (JSON.parse(byIdentity.out) as { scores: Array<{ memberId: number }> }).scores
    expect(scores).toHaveLength(1)
    const memberId = scores[0]?.memberId as number
    expect(customerOf.get(memberId)).toBe('4')
    const byId = await runCli([
      'clv',
      'predict',
      '--db',
      db,
      '--member',
      String(memberId),
      '--json',
    ])
    expect(JSON.parse(byId.out)).toEqual(JSON.parse(byIdentity.out))
  })

  it('an unknown identity is an error naming --member and the value', async () => {
    const r = await runCli(['clv', 'predict', '--db', db, '--member', 'customer_id:99999999'])
    expect(r.code).not.toBe(0)
    expect(r.err).toContain('--member')
    expect(r.err).toContain('customer_id:99999999')
    expect(r.err).not.toContain('NaN')
  })
})

describe('--ids', () => {
  it('clv predict --ids customer_id --csv puts each member’s customer id beside member_id', async () => {
    const r = await runCli([
      'clv',
      'predict',
      '--db',
      db,
      '--top',
      '50',
      '--ids',
      'customer_id',
      '--csv',
    ])
    expect(r.code, r.err).toBe(0)
    const [header, ...rows] = csv(r.out)
    expect(header?.slice(0, 3)).toEqual(['member_id', 'customer_id', 'x'])
    expect(rows).toHaveLength(50)
    for (const row of rows) expect(row[1]).toBe(customerOf.get(Number(row[0])))
  })

  it('rfm --members --ids customer_id,phone: every member, customer id filled, phone empty (none loaded)', async () => {
    const r = await runCli([
      'rfm',
      '--db',
      db,
      '--members',
      '--as-of',
      '1998-06-30',
      '--ids',
      'customer_id,phone',
      '--csv',
    ])
    expect(r.code, r.err).toBe(0)
    const [header, ...rows] = csv(r.out)
    expect(header?.slice(0, 4)).toEqual(['member_id', 'customer_id', 'phone', 'recency_days'])
    expect(rows).toHaveLength(2357)
    for (const row of rows) {
      expect(row[1]).toBe(customerOf.get(Number(row[0])))
      expect(row[2]).toBe('')
    }
    const json = await runCli([
      'rfm',
      '--db',
      db,
      '--members',
      '--as-of',
      '1998-06-30',
      '--ids',
      'customer_id',
      '--json',
    ])
    const first = (
      JSON.parse(json.out) as { scores: Array<{ memberId: number; identities: object }> }
    ).scores[0]
    expect(first?.identities).toEqual({ customer_id: customerOf.get(first?.memberId as number) })
  })

  it('segments export --ids narrows the identity columns to those listed, in that order', async () => {
    const save = await runCli(['segments', 'save', 'everyone', '--db', db, '--filter', '{}'])
    expect(save.code, save.err).toBe(0)
    const all = await runCli([
      'segments',
      'export',
      'everyone',
      '--db',
      db,
      '--as-of',
      '1998-06-30',
    ])
    expect(csv(all.out)[0]).toEqual([...EXPORT_COLUMNS])
    const r = await runCli([
      'segments',
      'export',
      'everyone',
      '--db',
      db,
      '--as-of',
      '1998-06-30',
      '--ids',
      'customer_id,email',
    ])
    expect(r.code, r.err).toBe(0)
    const [header, ...rows] = csv(r.out)
    expect(header).toEqual([
      'member_id',
      'customer_id',
      'email',
      'consent_sms',
      'consent_email',
      'consent_wechat',
      'consent_push',
    ])
    expect(rows.length).toBeGreaterThan(0)
    for (const row of rows) expect(row[1]).toBe(customerOf.get(Number(row[0])))
  })

  it('a bad identity type is an error naming --ids and the bad part', async () => {
    for (const args of [
      ['clv', 'predict', '--ids', 'customer_id,customer'],
      ['rfm', '--members', '--ids', 'customer'],
      ['risk', 'export', '--class', 'price-sensitive', '--ids', 'customer'],
      ['segments', 'export', 'everyone', '--ids', 'customer'],
    ]) {
      const r = await runCli([...args, '--db', db])
      expect(r.code, args.join(' ')).not.toBe(0)
      expect(r.err).toContain('--ids')
      expect(r.err).toContain('customer')
      expect(r.err).toContain('not an identity type')
    }
    const r = await runCli(['rfm', '--db', db, '--ids', 'customer_id'])
    expect(r.code).not.toBe(0)
    expect(r.err).toContain('--members')
  })

  it('parses lists and narrows columns', () => {
    expect(parseIdentityList('phone, customer_id')).toEqual(['phone', 'customer_id'])
    expect(() => parseIdentityList('phone,phone')).toThrow(InputError)
    expect(() => parseIdentityList('')).toThrow(/--ids/)
    expect(
      narrowIdentityColumns(['member_id', 'score', 'phone', 'email', 'consent_sms'], ['email']),
    ).toEqual(['member_id', 'score', 'email', 'consent_sms'])
    expect(narrowIdentityColumns(['member_id', 'phone'], undefined)).toEqual(['member_id', 'phone'])
  })
})
