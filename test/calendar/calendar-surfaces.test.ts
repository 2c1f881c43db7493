/**
 * The retail calendar on its two surfaces: `memberlens calendar` (JSON, zh/en text, the brand's file and its
 * errors) and `GET /api/v1/calendar` (the same events, the brand's events it was started with, a bad year).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/api/app.js'
import { KeyStore } from '../../src/api/keys.js'
import { parseBrandEvents, type CalendarEvent } from '../../src/calendar/index.js'
import { runCli } from '../helpers/cli.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch

const BRAND = `events:
  - id: member_day
    name: { zh: 会员日, en: Member day }
    monthly: 18
  - id: autumn_campaign
    name: { zh: 秋季大促, en: Autumn campaign }
    start: 2026-09-01
    end: 2026-09-07
`

beforeAll(async () => {
  s = await scratch()
})
afterAll(async () => {
  await s.cleanup()
})

describe('memberlens calendar', () => {
  it('prints the year as JSON with computed lunar dates and the brand events of the file', async () => {
    const file = await s.file('brand.yaml', BRAND)
    const r = await runCli(['calendar', '--year', '2027', '--events', file, '--json'])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const body = JSON.parse(r.out) as { year: number; events: CalendarEvent[] }
    expect(body.year).toBe(2027)
    const find = (id: string) => body.events.find((e) => e.id === id)
    expect(find('spring_festival')?.date).toBe('2027-02-06')
    expect(find('double_11')).toMatchObject({ start: '2027-10-20', end: '2027-11-11' })
    expect(find('member_day:2027-05')).toMatchObject({ kind: 'brand', date: '2027-05-18' })
    // The campaign of 2026 is not an event of 2027.
    expect(find('autumn_campaign')).toBeUndefined()
  })

  it('prints a table in Chinese or English', async () => {
    const zh = await runCli(['calendar', '--year', '2026', '--lang', 'zh'])
    expect(zh.code).toBe(0)
    expect(zh.out).toContain('零售日历 2026')
    expect(zh.out).toMatch(/2026-02-17 .*春节 .*农历/)
    expect(zh.out).toMatch(/2026-10-20 … 2026-11-11 .*双11/)
    const en = await runCli(['calendar', '--year', '2026'])
    expect(en.out).toContain('Retail calendar 2026')
    expect(en.out).toMatch(/2026-09-25 .*Mid-Autumn Festival .*lunar/)
    expect(en.out).toMatch(/2026-04-05 .*Qingming .*solar term/)
  })

  it('names the file, line, field and reason of a bad brand event, and a bad year', async () => {
    const file = await s.file(
      'bad.yaml',
      'events:\n  - id: member_day\n    name: { zh: 会员日, en: Member day }\n    monthly: 31\n',
    )
    const r = await runCli(['calendar', '--year', '2026', '--events', file])
    expect(r.code).not.toBe(0)
    expect(r.err).toContain(`${file}:4: events.0.monthly:`)
    const y = await runCli(['calendar', '--year', '26'])
    expect(y.code).not.toBe(0)
    expect(y.err).toContain('--year "26": expected a year from 1901 to 2099')
  })
})

describe('GET /api/v1/calendar', () => {
  it("answers the year's events with the brand's, and 400 for a year out of range", async () => {
    const keys = new KeyStore(`${s.dir}/keys.json`, TEST_CLOCK)
    const secret = (await keys.create('viewer', 'viewer')).secret
    const app = createApp({
      driver: s.db.driver,
      keys,
      clock: TEST_CLOCK,
      log: () => {},
      calendarEvents: parseBrandEvents(BRAND, 'brand.yaml'),
    })
    const get = (url: string) =>
      app.request(url, { headers: { authorization: `Bearer ${secret}` } })
    const r = await get('/api/v1/calendar?year=2026')
    expect(r.status).toBe(200)
    const body = (await r.json()) as { year: number; events: CalendarEvent[] }
    const ids = body.events.map((e) => e.id)
    expect(body.events.find((e) => e.id === 'spring_festival')?.date).toBe('2026-02-17')
    expect(body.events.find((e) => e.id === 'autumn_campaign')).toMatchObject({
      kind: 'brand',
      date: null,
      start: '2026-09-01',
    })
    expect(ids.filter((id) => id.startsWith('member_day:'))).toHaveLength(12)
    const bad = await get('/api/v1/calendar?year=1800')
    expect(bad.status).toBe(400)
    expect(JSON.stringify(await bad.json())).toContain('year')
  })
})
