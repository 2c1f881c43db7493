/**
 * Masking below the operator role: over every endpoint that can carry a member's identities (member 360 by
 * any identity, the risk list and risk exports, and every other GET route of the API), an analyst's answer
 * holds no raw identity value of the test database (phone, e-mail, WeChat unionid, card number, app user id,
 * POS and customer ids), no name from a member's attributes and no full birthday; an operator's does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/api/app.js'
import { isPersonalKey, maskAttributes, maskIdentity, maskText } from '../../src/api/masking.js'
import { KeyStore, type Role } from '../../src/api/keys.js'
import { runDemoModels } from '../../src/cli/demo-models.js'
import { fixedClock } from '../../src/core/clock.js'
import { IDENTITY_TYPES, INGEST_TABLES } from '../../src/core/schema.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { sql } from '../../src/engine/sql/fragment.js'
import { simulate } from '../../src/simulate/simulate.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let app: ReturnType<typeof createApp>
const secret: Partial<Record<Role, string>> = {}
/** Every identity value in the database, by type. */
let raw: Array<{ type: string; value: string; memberId: number }> = []

/** Members carrying every identity type, with names in their attributes. */
const EXTRA = [
  'phone,email,wechat_unionid,card_no,app_user_id,pos_customer_id,customer_id,registered_at,birthday,attributes',
  '13512345678,wang.xiaoming@example.cn,oAbCdEfGhIjKlMnOpQrStUvWxYz1,6222020912345678,APPU-00917,POS-778812,CUST-55120,2024-03-01,1988-07-15,"{""name"":""王小明"",""nickname"":""小明同学"",""source"":""referral"",""wechat"":{""openid"":""oOPENID1234567890abcdefghij""}}"',
  '13698765432,li.na@example.cn,oZyXwVuTsRqPoNmLkJiHgFeDcBa9,6222020987654321,APPU-00918,POS-778813,CUST-55121,2024-03-02,1990-01-31,"{""姓名"":""李娜"",""source"":""store""}"',
].join('\n')

beforeAll(async () => {
  s = await scratch()
  const sim = await simulate(`${s.dir}/data`, { members: 400, months: 18, seed: 11 })
  for (const t of INGEST_TABLES) {
    const file = (sim.files as Record<string, string | undefined>)[t]
    if (file !== undefined) await ingestFile(s.db.driver, file, { table: t, clock: TEST_CLOCK })
  }
  await s.ingest('members', await s.file('extra.csv', `${EXTRA}\n`))
  const models = await runDemoModels(s.db.driver, TEST_CLOCK)
  expect(models.risk).not.toHaveProperty('skipped')
  raw = (
    await s.db.driver.all<{ identityType: string; identityValue: string; memberId: bigint }>(
      sql`SELECT identity_type, identity_value, member_id FROM identities`,
    )
  ).map((r) => ({ type: r.identityType, value: r.identityValue, memberId: Number(r.memberId) }))
  const keys = new KeyStore(`${s.dir}/keys.json`, fixedClock('2026-11-01T00:00:00Z'))
  for (const role of ['viewer', 'analyst', 'operator'] as const)
    secret[role] = (await keys.create(`${role} test`, role)).secret
  app = createApp({
    driver: s.db.driver,
    keys,
    clock: TEST_CLOCK,
    rate: { perSecond: 10_000, burst: 10_000 },
    log: () => {},
  })
}, 120_000)
afterAll(async () => {
  await s.cleanup()
})

const get = (path: string, role: Role) =>
  app.request(path, { headers: { authorization: `Bearer ${secret[role]}` } })

const NAMES = ['王小明', '小明同学', '李娜', 'oOPENID1234567890abcdefghij']

/** The raw identity values (and names) a response text holds. */
function leaks(text: string): string[] {
  const found = raw.filter((r) => text.includes(r.value)).map((r) => `${r.type}:${r.value}`)
  return [...found, ...NAMES.filter((n) => text.includes(n))]
}

describe('masking below the operator role', () => {
  it('the test database holds every identity type', () => {
    expect(new Set(raw.map((r) => r.type))).toEqual(new Set(IDENTITY_TYPES))
    // Values long enough that finding one in a response cannot be chance.
    expect(raw.every((r) => r.value.length >= 6)).toBe(true)
  })

  it('member 360: no raw identity, name or birthday for analysts, looked up by any identity', async () => {
    // For each identity type, a member holding one, looked up by it; and the member with every type by id.
    const extra = raw.find((r) => r.value === '6222020912345678')?.memberId
    expect((await get(`/api/v1/members/${extra}`, 'analyst')).status).toBe(200)
    const checked = [await (await get(`/api/v1/members/${extra}`, 'analyst')).text()]
    for (const type of IDENTITY_TYPES) {
      const one = raw.find((r) => r.type === type && r.memberId !== extra)
      if (!one) throw new Error(`no ${type}`)
      // A phone is stored with its country code (86…); it is looked up as it is dialled at home.
      const query = type === 'phone' ? one.value.replace(/^86/, '') : one.value
      const r = await get(`/api/v1/members/${encodeURIComponent(`${type}:${query}`)}`, 'analyst')
      expect(r.status, type).toBe(200)
      const text = await r.text()
      checked.push(text)
      const j = JSON.parse(text) as {
        masked: boolean
        member: { memberId: number }
        identities: Array<{ identityType: string; identityValue: string }>
      }
      expect(j.masked).toBe(true)
      expect(j.member.memberId).toBe(one.memberId)
      const shown = j.identities.find((i) => i.identityType === type)
      expect(shown?.identityValue).toBe(maskIdentity(type, one.value))
      expect(shown?.identityValue).not.toBe(one.value)
    }
    for (const text of checked) expect(leaks(text)).toEqual([])
    // Together the answers showed (masked) every identity type.
    const shownTypes = checked.flatMap((t) =>
      (JSON.parse(t) as { identities: Array<{ identityType: string }> }).identities.map(
        (i) => i.identityType,
      ),
    )
    expect(new Set(shownTypes)).toEqual(new Set(IDENTITY_TYPES))
  })

  it('member 360: names and identifiers in attributes are masked, other attributes kept', async () => {
    const r = (await (await get('/api/v1/members/card_no:6222020912345678', 'analyst')).json()) as {
      member: { birthday: string; attributes: string }
    }
    expect(r.member.birthday).toBe('1988')
    const attributes = JSON.parse(r.member.attributes) as Record<string, unknown>
    expect(attributes['source']).toBe('referral')
    expect(attributes['name']).toBe(maskText('王小明'))
    expect(attributes['nickname']).toBe(maskText('小明同学'))
    expect(attributes['wechat']).toEqual({ openid: maskText('oOPENID1234567890abcdefghij') })
    const zh = (await (
      await get('/api/v1/members/card_no:6222020987654321', 'analyst')
    ).json()) as {
      member: { attributes: string }
    }
    expect(JSON.parse(zh.member.attributes)).toEqual({ 姓名: maskText('李娜'), source: 'store' })
  })

  it('operators see the values unmasked (the control: the check above can fail)', async () => {
    const text = await (await get('/api/v1/members/card_no:6222020912345678', 'operator')).text()
    expect(text).toContain('6222020912345678')
    expect(text).toContain('oAbCdEfGhIjKlMnOpQrStUvWxYz1')
    expect(text).toContain('王小明')
    expect(text).toContain('1988-07-15')
    expect(JSON.parse(text)).toMatchObject({ masked: false })
  })

  it('risk exports leave every identity column empty for analysts and fill them for operators', async () => {
    const mix = (await (await get('/api/v1/risk-mix?threshold=0', 'viewer')).json()) as {
      risk: { classes: Array<{ churnClass: string; members: number }> }
    }
    let rows = 0
    let operatorLeaks = 0
    for (const { churnClass } of mix.risk.classes) {
      for (const format of ['csv', 'jsonl']) {
        const path = `/api/v1/risk-export?churnClass=${churnClass}&format=${format}`
        const text = await (await get(path, 'analyst')).text()
        expect(leaks(text), path).toEqual([])
        rows += text.trim().split('\n').length
        operatorLeaks += leaks(await (await get(path, 'operator')).text()).length
      }
    }
    expect(rows).toBeGreaterThan(100)
    expect(operatorLeaks).toBeGreaterThan(100)
  })

  it('segment previews give analysts counts, never identities', async () => {
    const r = await app.request('/api/v1/segment-sizes/preview', {
      method: 'POST',
      headers: { authorization: `Bearer ${secret.analyst}`, 'content-type': 'application/json' },
      body: JSON.stringify({ filter: { attributes: { source: 'referral' } } }),
    })
    expect(r.status).toBe(200)
    const text = await r.text()
    expect(leaks(text)).toEqual([])
    expect((JSON.parse(text) as { members: number }).members).toBeGreaterThan(0)
    // Exports of saved segments carry identities and are the operator's (scope segments).
    expect((await get('/api/v1/segments/any/export', 'analyst')).status).toBe(403)
  })

  it('no other GET route gives an analyst a raw identity value', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, unknown>>
    }
    const paths = Object.entries(doc.paths)
      .filter(([p, ops]) => p.startsWith('/api/') && 'get' in ops && !p.includes('{'))
      .map(([p]) => p)
    expect(paths.length).toBeGreaterThan(20)
    let answered = 0
    for (const path of paths) {
      const r = await get(`${path}?limit=1000`, 'analyst')
      if (r.status === 200) answered++
      expect(leaks(await r.text()), path).toEqual([])
    }
    expect(answered).toBeGreaterThan(15)
  })
})

describe('mask functions', () => {
  it('mask every identity type without revealing the value or its length', () => {
    expect(maskIdentity('phone', '8613800138000')).toBe('86138****8000')
    expect(maskIdentity('email', 'zoe@example.com')).toBe('z***@example.com')
    expect(maskIdentity('card_no', '6222020912345678')).toBe('62****5678')
    expect(maskIdentity('wechat_unionid', 'oAbCdEfGhIjKlMnOpQrStUvWxYz1')).toBe('oA****xYz1')
    expect(maskIdentity('app_user_id', 'APPU-00917')).toBe('****17')
    expect(maskIdentity('some_future_type', 'ab')).toBe('a****')
    expect(maskIdentity('pos_customer_id', 'x')).toBe('****')
    expect(maskText('王小明')).toBe('王****')
  })

  it('find personal attribute keys in any spelling', () => {
    for (const k of [
      'name',
      'nickName',
      'real_name',
      'Full Name',
      'openid',
      'wx.unionid',
      '姓名',
      '会员卡号',
    ])
      expect(isPersonalKey(k), k).toBe(true)
    for (const k of ['source', 'channel', 'tier', 'memberId', 'region'])
      expect(isPersonalKey(k), k).toBe(false)
    expect(maskAttributes('{"a":{"phone":["13800138000"]},"n":1}')).toBe(
      JSON.stringify({ a: { phone: [maskText('13800138000')] }, n: 1 }),
    )
    expect(maskAttributes('not json but personal')).toBe(maskText('not json but personal'))
  })
})
