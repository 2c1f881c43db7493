import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/core/clock.js'
import { InputError, NotFoundError } from '../../src/core/errors.js'
import { parseTagConfig } from '../../src/engine/tags/tag-config.js'
import {
  computeTags,
  getMemberTags,
  getTagCounts,
  importManualTags,
  type TagPeriod,
} from '../../src/engine/tags/tag-store.js'
import { sql } from '../../src/engine/sql/fragment.js'
import type { Database } from '../../src/store/database.js'
import { insert, member, memoryDb, order } from '../cohorts/fixture-db.js'

/*
 * Period 2024-06 in UTC: rules evaluated at 2024-07-01 00:00; the 90-day window starts 2024-04-02 00:00.
 *   m1 app,  orders 2024-05-01 store 400 and 2024-06-10 app 800, a return of 100 on 06-15
 *      → net revenue 90d 1100, lifetime 1100, 2 orders, AOV 600, top channel app (1 order each, app spent more)
 *   m2 store, orders 2024-01-01 store 5000 and 2024-06-20 store 1000 with a 50 discount
 *      → 90d 1000, lifetime 6000, AOV 3000, discount share (90d) 1.0, top channel store
 *   m3 app, order 2024-03-01 app 300 (before the window) → 90d 0, lifetime 300, top channel app
 *   m4 web, registered 2024-06-15, no orders → 90d 0, lifetime 0, AOV missing
 *   m5 registered 2024-07-05, after the period: never tagged in 2024-06
 *   m6 only a cancelled order (9999) → no purchase: 90d 0, lifetime 0, 0 orders
 * Lifetime net revenue, from the highest: m2 6000 (cume 0.2), m1 1100 (0.4), m3 300 (0.6), m4 = m6 = 0 (1.0);
 * from the lowest: m4 = m6 (0.4), m3 (0.6), m1 (0.8), m2 (1.0).
 */
const CONFIG = `groups:
  - id: value
    name: 价值
    exclusive: true
    tags:
      - id: high
        name: 高价值
        when:
          - { measure: net_revenue, days: 90, op: '>=', value: 1000 }
      - id: low
        name: 低价值
        when:
          - { measure: net_revenue, days: 90, op: '<', value: 1000 }
          - { measure: orders, op: '>=', value: 1 }
  - id: spend-rank
    name: 消费排名
    tags:
      - { id: top-half, name: 前 50%, when: [{ measure: net_revenue, top: 0.5 }] }
      - { id: bottom-40, name: 后 40%, when: [{ measure: net_revenue, bottom: 0.4 }] }
  - id: channel
    name: 渠道
    exclusive: true
    tags:
      - { id: app, name: App, when: [{ attribute: top_channel, in: [app] }] }
      - { id: store, name: 门店, when: [{ attribute: top_channel, in: [store] }] }
  - id: sensitivity
    name: 敏感度
    tags:
      - { id: discount, name: 优惠敏感, when: [{ measure: discount_share, days: 90, op: '>=', value: 0.5 }] }
      - { id: big-basket, name: 大客单, when: [{ measure: aov, op: '>=', value: 700 }] }
      - { id: web-signup, name: 官网注册, when: [{ attribute: registration_channel, in: [web] }] }
  - id: service
    name: 服务
    tags:
      - { id: whitelist, name: 白名单 }
`
const clock = fixedClock('2026-11-01T00:00:00Z')
const JUNE: TagPeriod = { period: '2024-06', asOf: '2024-07-01 00:00:00', timeZone: 'UTC' }
const MAY: TagPeriod = { period: '2024-05', asOf: '2024-06-01 00:00:00', timeZone: 'UTC' }
const file = 'tags.yaml'
let db: Database

async function tagged(period: string): Promise<string[]> {
  const rows = await db.driver.all<{ memberId: bigint; tagGroup: string; tag: string }>(
    sql`SELECT member_id, tag_group, tag FROM member_tags WHERE period = ${period} ORDER BY ALL`,
  )
  return rows.map((r) => `${r.memberId} ${r.tagGroup}:${r.tag}`)
}

beforeAll(async () => {
  db = await memoryDb()
  await insert(db, 'members', [
    member(1, '2023-01-01 00:00:00', { registration_channel: 'app' }),
    member(2, '2023-01-01 00:00:00', { registration_channel: 'store' }),
    member(3, '2023-01-01 00:00:00', { registration_channel: 'app' }),
    member(4, '2024-06-15 00:00:00', { registration_channel: 'web' }),
    member(5, '2024-07-05 00:00:00', { registration_channel: 'web' }),
    member(6, '2023-01-01 00:00:00', { registration_channel: 'app' }),
  ])
  const discounted = {
    ...order(2, '2024-06-20 10:00:00', 1000, 'paid', 'store'),
    discount_amount: 50,
  }
  await insert(db, 'orders', [
    { ...order(1, '2024-05-01 10:00:00', 400, 'paid', 'store'), discount_amount: 0 },
    { ...order(1, '2024-06-10 10:00:00', 800, 'paid', 'app'), discount_amount: 0 },
    { ...order(2, '2024-01-01 10:00:00', 5000, 'paid', 'store'), discount_amount: 0 },
    discounted,
    { ...order(3, '2024-03-01 10:00:00', 300, 'paid', 'app'), discount_amount: 0 },
    { ...order(6, '2024-06-01 10:00:00', 9999, 'cancelled', 'app'), discount_amount: 0 },
  ])
  await insert(db, 'returns', [
    {
      return_id: 'R1',
      order_id: null,
      member_id: 1,
      returned_at: '2024-06-15 00:00:00',
      amount: 100,
    },
  ])
})
afterAll(async () => db.close())

describe('tag rules on a hand-checked fixture', () => {
  it('tags each member as worked out by hand, only members registered by the end of the period', async () => {
    const result = await computeTags(
      db.driver,
      { config: parseTagConfig(CONFIG, file), file },
      JUNE,
      clock,
    )
    expect(await tagged('2024-06')).toEqual([
      '1 channel:app',
      '1 spend-rank:top-half',
      '1 value:high',
      '2 channel:store',
      '2 sensitivity:big-basket',
      '2 sensitivity:discount',
      '2 spend-rank:top-half',
      '2 value:high',
      '3 channel:app',
      '3 value:low',
      '4 sensitivity:web-signup',
      '4 spend-rank:bottom-40',
      '6 spend-rank:bottom-40',
    ])
    expect(result.baseMembers).toBe(5)
    expect(result.counts).toContainEqual({ group: 'value', tag: 'high', members: 2 })
  })

  it('keeps each period as its own history and recomputing a period replaces its rule tags', async () => {
    const config = parseTagConfig(CONFIG, file)
    await computeTags(db.driver, { config, file }, MAY, clock)
    // May (as of 06-01, window from 03-03): m1 has 400, m2 and m3 nothing in the window; m4 not registered.
    expect((await tagged('2024-05')).filter((t) => t.includes('value:'))).toEqual([
      '1 value:low',
      '2 value:low',
      '3 value:low',
    ])
    await computeTags(db.driver, { config, file }, JUNE, clock)
    expect((await tagged('2024-06')).length).toBe(13)
    const m1 = await getMemberTags(db.driver, 1)
    expect(
      m1.filter((t) => t.group === 'value').map((t) => `${t.period} ${t.tag} ${t.source}`),
    ).toEqual(['2024-06 high rule', '2024-05 low rule'])
  })

  it('imports manual tags, which survive a recompute, and refuses a tag that a rule computes', async () => {
    const config = parseTagConfig(CONFIG, file)
    await importManualTags(
      db.driver,
      { config, file },
      JUNE,
      [{ memberId: 3, group: 'service', tag: 'whitelist', file: 'vip.csv', line: 2 }],
      clock,
    )
    await computeTags(db.driver, { config, file }, JUNE, clock)
    const m3 = await getMemberTags(db.driver, 3)
    expect(m3).toContainEqual({
      period: '2024-06',
      group: 'service',
      tag: 'whitelist',
      source: 'manual',
      sourceDetail: 'vip.csv:2',
    })
    const counts = await getTagCounts(db.driver, '2024-06')
    expect(counts.counts).toContainEqual({ group: 'service', tag: 'whitelist', members: 1 })
    await expect(
      importManualTags(
        db.driver,
        { config, file },
        JUNE,
        [{ memberId: 3, group: 'value', tag: 'high', file: 'vip.csv', line: 7 }],
        clock,
      ),
    ).rejects.toThrow(/vip\.csv:7.*value:high is computed by a rule/)
  })

  it('refuses a mutually exclusive group with two tags for one member, naming both, and writes nothing', async () => {
    const overlapping = CONFIG.replace("op: '<', value: 1000 }", "op: '>=', value: 500 }")
    const before = await tagged('2024-06')
    const error = await computeTags(
      db.driver,
      { config: parseTagConfig(overlapping, file), file },
      JUNE,
      clock,
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InputError)
    expect((error as Error).message).toMatch(
      /tags\.yaml: group value is mutually exclusive, but member 1 has two of its tags in 2024-06: value:high and value:low/,
    )
    expect(await tagged('2024-06')).toEqual(before)
  })

  it('a manual tag that breaks an exclusive group is refused in the same way', async () => {
    const config = parseTagConfig(
      CONFIG.replace(
        '      - { id: whitelist, name: 白名单 }',
        '      - { id: whitelist, name: 白名单 }\n      - { id: blacklist, name: 黑名单 }',
      ).replace(
        '  - id: service\n    name: 服务\n',
        '  - id: service\n    name: 服务\n    exclusive: true\n',
      ),
      file,
    )
    await expect(
      importManualTags(
        db.driver,
        { config, file },
        JUNE,
        [{ memberId: 3, group: 'service', tag: 'blacklist', file: 'vip.csv', line: 3 }],
        clock,
      ),
    ).rejects.toThrow(
      /member 3 has two of its tags in 2024-06: service:blacklist and service:whitelist \(manual, vip\.csv:2; manual, vip\.csv:3\)/,
    )
  })

  it('says which command to run when a rule reads CLV that was never fitted', async () => {
    const config = parseTagConfig(
      'groups:\n  - id: v\n    name: V\n    tags:\n      - { id: top, name: T, when: [{ measure: predicted_clv, top: 0.2 }] }\n',
      file,
    )
    await expect(computeTags(db.driver, { config, file }, JUNE, clock)).rejects.toThrow(
      NotFoundError,
    )
    await expect(computeTags(db.driver, { config, file }, JUNE, clock)).rejects.toThrow(/clv fit/)
  })
})

describe('tag file errors name file, line and field', () => {
  it('a threshold without a value', () => {
    const text =
      'groups:\n  - id: v\n    name: V\n    tags:\n      - id: a\n        name: A\n        when:\n          - { measure: orders, op: ">=" }\n'
    expect(() => parseTagConfig(text, 'my-tags.yaml')).toThrow(
      /^my-tags\.yaml:8: groups\.0\.tags\.0\.when\.0\.value: a threshold needs both op and value/,
    )
  })
  it('an unknown attribute lists the accepted ones', () => {
    const text =
      'groups:\n  - id: v\n    name: V\n    tags:\n      - id: a\n        name: A\n        when:\n          - attribute: shoe_size\n            in: [42]\n'
    expect(() => parseTagConfig(text, 'my-tags.yaml')).toThrow(
      /my-tags\.yaml:8: .*attribute: unknown attribute "shoe_size"; accepted: registration_channel/,
    )
  })
  it('a window on a measure that has none', () => {
    const text =
      'groups:\n  - id: v\n    name: V\n    tags:\n      - { id: a, name: A, when: [{ measure: tenure_days, days: 30, op: ">", value: 1 }] }\n'
    expect(() => parseTagConfig(text, 'my-tags.yaml')).toThrow(/days: tenure_days has no window/)
  })
})
