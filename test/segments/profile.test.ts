/**
 * The member profile on a small simulated base, through the command line: tags computed with the shipped
 * example file, segment filters on tags, churn risk, CLV and P(alive), uploaded-list segments, and TGI checked
 * against SQL written here independently of the comparison's query.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runDemoModels } from '../../src/cli/demo-models.js'
import { INGEST_TABLES } from '../../src/core/schema.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { openDatabase } from '../../src/store/database.js'
import { simulate } from '../../src/simulate/simulate.js'
import { CHURN_CLASSES } from '../../src/analytics/risk/early-warning.js'
import { CHURN_CLASS_IDS } from '../../src/engine/tags/score-stores.js'
import { runCli } from '../helpers/cli.js'
import { TEST_CLOCK } from '../helpers/db.js'

const TAGS = resolve(import.meta.dirname, '../../examples/tags.yaml')
let dir: string
let db: string

/** Runs SQL on the test database (opened and closed around the call, as the CLI does). */
async function query<T extends Record<string, unknown>>(text: string): Promise<T[]> {
  const d = await openDatabase(db, { readOnly: true })
  try {
    return await d.driver.all<T>({ sql: text, parameters: [] })
  } finally {
    await d.close()
  }
}

async function cli(...args: string[]) {
  const r = await runCli([...args, '--db', db])
  expect(r.code, r.err).toBe(0)
  return r
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- command output read field by field
type Json = Record<string, any>
const json = async (...args: string[]) => JSON.parse((await cli(...args, '--json')).out) as Json

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-profile-'))
  db = join(dir, 'm.duckdb')
  const sim = await simulate(join(dir, 'data'), { members: 400, months: 18, seed: 11 })
  const d = await openDatabase(db)
  for (const t of INGEST_TABLES) {
    const file = (sim.files as Record<string, string | undefined>)[t]
    if (file !== undefined) await ingestFile(d.driver, file, { table: t, clock: TEST_CLOCK })
  }
  const models = await runDemoModels(d.driver, TEST_CLOCK)
  expect('skipped' in models.risk).toBe(false)
  await d.close()
  await cli('tags', 'compute', '--config', TAGS, '--period', '2026-10')
})
afterAll(async () => rm(dir, { recursive: true, force: true }))

describe('tags on the demo', () => {
  it('computes every example group, exclusive groups holding one tag per member', async () => {
    const r = await json('tags', 'list')
    expect(r.period).toBe('2026-10')
    expect(r.baseMembers).toBeGreaterThan(300)
    const groups = new Set((r.counts as { group: string }[]).map((c) => c.group))
    for (const g of ['value', 'potential', 'lifecycle', 'channel', 'category', 'sensitivity'])
      expect(groups).toContain(g)
    const twice = await query<{
      n: bigint
    }>(`SELECT count(*) AS n FROM (SELECT member_id, tag_group FROM member_tags
      WHERE tag_group IN ('value', 'lifecycle', 'channel', 'category', 'sensitivity') GROUP BY 1, 2 HAVING count(*) > 1)`)
    expect(Number(twice[0]?.n)).toBe(0)
    // The lifecycle group covers every stage: each member registered by the period end has one tag.
    const lifecycle = (r.counts as { group: string; members: number }[])
      .filter((c) => c.group === 'lifecycle')
      .reduce((a, c) => a + c.members, 0)
    expect(lifecycle).toBe(r.baseMembers)
  })

  it('prints the counts in Chinese and a member’s tag history', async () => {
    const zh = await cli('tags', 'list', '--lang', 'zh')
    expect(zh.out).toContain('高价值')
    expect(zh.out).toContain('互斥')
    const m = (
      await query<{ memberId: bigint }>(
        `SELECT min(member_id) AS member_id FROM member_tags WHERE tag_group = 'value'`,
      )
    )[0]
    const h = await json('tags', 'member', String(m?.memberId))
    expect(
      h.tags.some(
        (t: { group: string; period: string }) => t.group === 'value' && t.period === '2026-10',
      ),
    ).toBe(true)
  })

  it('imports manual tags by identity and lists the lines that matched no member', async () => {
    const phone = (
      await query<{ v: string }>(
        `SELECT identity_value AS v FROM identities WHERE identity_type = 'phone' ORDER BY member_id LIMIT 1`,
      )
    )[0]?.v
    const file = join(dir, 'vip.csv')
    await writeFile(
      file,
      `tag,member\nservice:vip-care,phone:${phone}\nservice:vip-care,phone:13000000000\nservice:do-not-disturb,member_id:2\n`,
    )
    const r = await json('tags', 'import', file, '--config', TAGS, '--period', '2026-10')
    expect(r.matched).toBe(2)
    expect(r.unmatched).toBe(1)
    expect(r.unmatchedLines).toEqual([
      {
        line: 3,
        text: 'service:vip-care,phone:13000000000',
        reason: 'no member has this identity',
      },
    ])
    expect(r.counts).toContainEqual({ group: 'service', tag: 'vip-care', members: 1 })
  })
})

describe('segment filters on tags, risk, CLV and P(alive)', () => {
  it('ANDs tag groups and ORs tags within a group, as WeCom tags do', async () => {
    await cli(
      'segments',
      'save',
      'valuable-app',
      '--filter',
      JSON.stringify({ tags: { include: ['value:high', 'value:mid', 'channel:app'] } }),
    )
    const shown = await json('segments', 'show', 'valuable-app')
    const expected = await query<{ n: bigint }>(`SELECT count(*) AS n FROM members WHERE
      member_id IN (SELECT member_id FROM member_tags WHERE period = '2026-10' AND tag_group = 'value' AND tag IN ('high', 'mid'))
      AND member_id IN (SELECT member_id FROM member_tags WHERE period = '2026-10' AND tag_group = 'channel' AND tag = 'app')`)
    expect(shown.members).toBe(Number(expected[0]?.n))
    expect(shown.members).toBeGreaterThan(0)
  })

  it('filters on the latest risk scoring and CLV run', async () => {
    await cli(
      'segments',
      'save',
      'risky-valuable',
      '--filter',
      JSON.stringify({
        risk: { classes: ['high-value-at-risk', 'disengaged'], min: 0.5 },
        clv: { min: 100 },
        pAlive: { max: 0.9 },
      }),
    )
    const shown = await json('segments', 'show', 'risky-valuable')
    const expected = await query<{ n: bigint }>(`
      WITH r AS (SELECT * FROM risk_scores WHERE run_id = (SELECT run_id FROM model_runs WHERE kind = 'risk-score' ORDER BY created_at DESC, run_id DESC LIMIT 1)),
      c AS (SELECT * FROM member_scores WHERE run_id = (SELECT run_id FROM model_runs WHERE kind = 'clv' ORDER BY created_at DESC, run_id DESC LIMIT 1))
      SELECT count(*) AS n FROM r JOIN c USING (member_id)
      WHERE r.churn_class IN ('high-value-at-risk', 'disengaged') AND r.score >= 0.5 AND c.clv >= 100 AND c.p_alive <= 0.9`)
    expect(shown.members).toBe(Number(expected[0]?.n))
    expect(shown.members).toBeGreaterThan(0)
    const zh = await cli('segments', 'show', 'risky-valuable', '--lang', 'zh')
    expect(zh.out).toContain('流失风险')
  })

  it('keeps the churn classes of the filter equal to those risk scoring writes', () => {
    expect([...CHURN_CLASS_IDS]).toEqual([...CHURN_CLASSES])
  })

  it('refuses an unknown churn class and a tag that is not group:tag', async () => {
    const a = await runCli([
      'segments',
      'save',
      'x',
      '--filter',
      '{"risk":{"classes":["angry"]}}',
      '--db',
      db,
    ])
    expect(a.code).toBe(2)
    expect(a.err).toMatch(/risk\.classes/)
    const b = await runCli([
      'segments',
      'save',
      'x',
      '--filter',
      '{"tags":{"include":["vip"]}}',
      '--db',
      db,
    ])
    expect(b.code).toBe(2)
    expect(b.err).toMatch(/group:tag/)
  })
})

describe('uploaded-list segments', () => {
  it('resolves kind:value lines through the identity graph and lists the unmatched lines', async () => {
    const ids = await query<{
      t: string
      v: string
      m: bigint
    }>(`SELECT identity_type AS t, identity_value AS v, member_id AS m
      FROM identities WHERE identity_type IN ('phone', 'wechat_unionid', 'pos_customer_id', 'email') QUALIFY row_number() OVER (PARTITION BY identity_type ORDER BY member_id) <= 2
      ORDER BY identity_type, member_id`)
    const phone = ids.find((i) => i.t === 'phone') as { v: string; m: bigint }
    const unionid = ids.find((i) => i.t === 'wechat_unionid') as { v: string; m: bigint }
    const customer = ids.find((i) => i.t === 'pos_customer_id') as { v: string; m: bigint }
    const email = ids.find((i) => i.t === 'email') as { v: string; m: bigint }
    const national = phone.v.replace(/^\+86/, '')
    const file = join(dir, 'ids.csv')
    await writeFile(
      file,
      [
        `phone:${national}`,
        `pos_customer_id:${customer.v}`,
        `email: ${email.v.toUpperCase()} `,
        unionid.v,
        `member_id:${phone.m}`,
        'phone:13000000000',
        '',
        'email:nobody@example.com',
      ].join('\n'),
    )
    const r = await json('segments', 'save', 'crm-list', '--from-file', file)
    expect(r.list.matched).toBe(5)
    expect(r.list.unmatched).toBe(2)
    expect(r.list.unmatchedLines.map((l: { line: number }) => l.line)).toEqual([6, 8])
    const members = [...new Set([phone.m, customer.m, email.m, unionid.m].map(Number))].sort(
      (a, b) => a - b,
    )
    expect(r.list.members).toBe(members.length)
    expect(r.saved.filter.memberIds).toEqual(members)
    const text = await cli('segments', 'save', 'crm-list', '--from-file', file)
    expect(text.out).toContain('5 lines matched, 2 unmatched')
    expect(text.out).toContain(`${file}:6: phone:13000000000 — no member has this identity`)
  })

  it('reads a CSV with a column per kind', async () => {
    const c = (
      await query<{ v: string; m: bigint }>(
        `SELECT identity_value AS v, member_id AS m FROM identities WHERE identity_type = 'pos_customer_id' ORDER BY member_id LIMIT 1`,
      )
    )[0] as { v: string; m: bigint }
    const file = join(dir, 'cols.csv')
    await writeFile(file, `phone,pos_customer_id\n,${c.v}\n13000000000,\n`)
    const r = await json('segments', 'save', 'cols', '--from-file', file)
    expect(r.list.matched).toBe(1)
    expect(r.saved.filter.memberIds).toEqual([Number(c.m)])
    expect(r.list.unmatchedLines).toEqual([
      { line: 3, text: '13000000000,', reason: 'no member has this identity' },
    ])
  })
})

describe('TGI of a segment against the base', () => {
  it('equals shares, TGI and z computed here in SQL, for channel, lifecycle-free attributes and tags', async () => {
    await cli(
      'segments',
      'save',
      'valuable',
      '--filter',
      JSON.stringify({ tags: { include: ['value:high', 'value:mid'] } }),
    )
    const r = await json('segments', 'compare', 'valuable')
    expect(r.against).toBe('base')
    expect(r.test).toMatchObject({ method: 'two-proportion-z', alpha: 0.05 })
    const asOf = (
      await query<{ a: string }>(`SELECT CAST(CAST('${r.asOf}' AS TIMESTAMP) AS VARCHAR) AS a`)
    )[0]?.a
    // Independent: the segment straight from member_tags, the base from members, one attribute at a time.
    const expected = await query<{
      attribute: string
      value: string | null
      a: bigint
      na: bigint
      b: bigint
      nb: bigint
    }>(`
      WITH seg AS (SELECT DISTINCT member_id FROM member_tags WHERE period = '2026-10' AND tag_group = 'value' AND tag IN ('high', 'mid')),
      base AS (SELECT * FROM members WHERE registered_at < TIMESTAMP '${asOf}'),
      facts AS (
        SELECT member_id, 'registration_channel' AS attribute, registration_channel AS value FROM base
        UNION ALL SELECT member_id, 'region', region FROM base
        UNION ALL SELECT t.member_id, 'tag:channel', t.tag FROM member_tags t JOIN base USING (member_id) WHERE t.period = '2026-10' AND t.tag_group = 'channel')
      SELECT f.attribute, f.value,
        count(s.member_id) AS a, (SELECT count(*) FROM seg) AS na,
        count(*) AS b, (SELECT count(*) FROM base) AS nb
      FROM facts f LEFT JOIN seg s USING (member_id) GROUP BY 1, 2`)
    expect(expected.length).toBeGreaterThan(8)
    for (const e of expected) {
      const row = (r.rows as Json[]).find(
        (x) => x.attribute === e.attribute && x.value === e.value,
      ) as Json
      expect(row, `${e.attribute}=${e.value}`).toBeDefined()
      const a = Number(e.a),
        na = Number(e.na),
        b = Number(e.b),
        nb = Number(e.nb)
      expect(r.segmentSize).toBe(na)
      expect(r.baseSize).toBe(nb)
      expect(row.segmentMembers).toBe(a)
      expect(row.baseMembers).toBe(b)
      expect(row.tgi).toBeCloseTo((a / na / (b / nb)) * 100, 9)
      // Pooled two-proportion z of the segment against the rest of the base.
      const restX = b - a,
        restN = nb - na
      const p = (a + restX) / (na + restN)
      const z = (a / na - restX / restN) / Math.sqrt(p * (1 - p) * (1 / na + 1 / restN))
      expect(row.z).toBeCloseTo(z, 9)
      expect(row.significant).toBe(Math.abs(z) > 1.959963984540054)
    }
    const txt = await cli('segments', 'compare', 'valuable', '--lang', 'zh')
    expect(txt.out).toContain('全体会员')
    expect(txt.out).toContain('TGI')
  })

  it('compares two segments: the counts of the other segment are its own', async () => {
    const r = await json('segments', 'compare', 'valuable', '--against', 'valuable-app')
    expect(r.against).toBe('valuable-app')
    const app = await json('segments', 'show', 'valuable-app')
    expect(r.baseSize).toBe(app.members)
    const channel = (r.rows as Json[]).filter((x) => x.attribute === 'tag:channel')
    expect(channel.find((x) => x.value === 'app')?.['baseShare']).toBe(1)
  })
})

describe('the API: tags, the comparison and member tags on Member 360', () => {
  it('answers what the command line prints', async () => {
    const { createApp } = await import('../../src/api/app.js')
    const { KeyStore } = await import('../../src/api/keys.js')
    const { fixedClock } = await import('../../src/core/clock.js')
    const d = await openDatabase(db)
    try {
      const keys = new KeyStore(join(dir, 'keys.json'), fixedClock('2026-11-01T00:00:00Z'))
      const viewer = (await keys.create('viewer', 'viewer')).secret
      const analyst = (await keys.create('analyst', 'analyst')).secret
      const app = createApp({
        driver: d.driver,
        keys,
        clock: TEST_CLOCK,
        rate: { perSecond: 1000, burst: 1000 },
        log: () => {},
      })
      const get = async (path: string, secret = viewer) => {
        const r = await app.request(path, { headers: { authorization: `Bearer ${secret}` } })
        expect(r.status, path).toBe(200)
        return (await r.json()) as Json
      }
      const tags = await get('/api/v1/tags')
      expect(tags.periods).toEqual(['2026-10'])
      const value = (tags.current.groups as Json[]).find((g) => g.id === 'value') as Json
      expect(value.exclusive).toBe(true)
      expect(value.name).toEqual({ en: 'Value', zh: '价值' })
      const high = (value.tags as Json[]).find((t) => t.id === 'high') as Json
      const counted = await query<{ n: bigint }>(
        `SELECT count(*) AS n FROM member_tags WHERE period = '2026-10' AND tag_group = 'value' AND tag = 'high'`,
      )
      expect(high.members).toBe(Number(counted[0]?.n))
      expect(high.share).toBeCloseTo(high.members / tags.current.baseMembers, 12)
      expect(high.rule).toEqual([{ measure: 'net_revenue', days: 365, op: '>=', value: 1500 }])

      const cli = await runCli([
        'segments',
        'compare',
        'valuable',
        '--as-of',
        '2026-11-01',
        '--json',
        '--db',
        db,
      ])
      const api = await get('/api/v1/segments/valuable/compare?asOf=2026-11-01')
      const fromCli = JSON.parse(cli.out) as Json
      expect(api.asOf).toBe(fromCli.asOfLocal)
      expect(api.rows).toEqual(fromCli.rows)

      const holder = (
        await query<{ m: bigint }>(
          `SELECT min(member_id) AS m FROM member_tags WHERE tag_group = 'value' AND tag = 'high'`,
        )
      )[0]?.m
      const m = await get(`/api/v1/members/${holder}`, analyst)
      expect(m.tags).toContainEqual({
        period: '2026-10',
        group: 'value',
        tag: 'high',
        groupName: { en: 'Value', zh: '价值' },
        tagName: { en: 'High value', zh: '高价值' },
        source: 'rule',
        sourceDetail: null,
      })
    } finally {
      await d.close()
    }
  })
})

describe('the API: an uploaded list for the segment builder', () => {
  it('resolves the list as segments save --from-file does, for operators only', async () => {
    const { createApp } = await import('../../src/api/app.js')
    const { KeyStore } = await import('../../src/api/keys.js')
    const { fixedClock } = await import('../../src/core/clock.js')
    const ids = await query<{ v: string; m: bigint }>(
      `SELECT identity_value AS v, member_id AS m FROM identities WHERE identity_type = 'wechat_unionid' ORDER BY member_id LIMIT 2`,
    )
    expect(ids.length).toBe(2)
    const text = [
      `wechat_unionid:${ids[0]?.v ?? ''}`,
      'phone:13000000000',
      `${ids[1]?.v ?? ''}`,
      `member_id:${String(ids[0]?.m)}`,
    ].join('\n')
    const file = join(dir, 'builder-list.txt')
    await writeFile(file, text)
    const fromCli = JSON.parse(
      (
        await runCli([
          'segments',
          'save',
          'builder-list',
          '--from-file',
          file,
          '--json',
          '--db',
          db,
        ])
      ).out,
    ) as Json
    const d = await openDatabase(db, { readOnly: true })
    try {
      const keys = new KeyStore(join(dir, 'keys-list.json'), fixedClock('2026-11-01T00:00:00Z'))
      const viewer = (await keys.create('viewer', 'viewer')).secret
      const operator = (await keys.create('operator', 'operator')).secret
      const app = createApp({
        driver: d.driver,
        keys,
        clock: TEST_CLOCK,
        rate: { perSecond: 1000, burst: 1000 },
        log: () => {},
      })
      const post = (secret: string, body: unknown) =>
        app.request('/api/v1/segment-lists/resolve', {
          method: 'POST',
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      const r = await post(operator, { text, file: 'builder-list.txt' })
      expect(r.status).toBe(200)
      const body = (await r.json()) as Json
      expect(body).toEqual({
        lines: 4,
        matched: 3,
        unmatched: 1,
        memberIds: fromCli.saved.filter.memberIds,
        unmatchedLines: [
          { line: 2, text: 'phone:13000000000', reason: 'no member has this identity' },
        ],
      })
      expect(body.memberIds).toEqual(
        [...new Set(ids.map((i) => Number(i.m)))].sort((a, b) => a - b),
      )
      expect((await post(viewer, { text })).status).toBe(403)
      const empty = await post(operator, { text: '\n# nothing\n', file: 'empty.csv' })
      expect(empty.status).toBe(400)
      expect(JSON.stringify(await empty.json())).toContain('empty.csv')
    } finally {
      await d.close()
    }
  })
})
