/**
 * The API counts days in the project time zone: the default "as of" of the lifecycle, RFM, cohort and
 * segment answers is the day after the data's last activity as a Shanghai retailer counts days, not UTC's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/api/app.js'
import { KeyStore } from '../../src/api/keys.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let key: string
let keys: KeyStore

beforeAll(async () => {
  s = await scratch()
  keys = new KeyStore(`${s.dir}/keys.json`, TEST_CLOCK)
  key = (await keys.create('reader', 'analyst')).secret
  const header = 'order_id,phone,ordered_at,channel,net_amount,status'
  // 20:00 UTC on 4 March is 04:00 on 5 March in Shanghai.
  await s.ingest(
    'orders',
    await s.file(
      'o.csv',
      `${header}\nA1,13800000001,2024-02-10 10:00:00,app,50,paid\nA2,13800000001,2024-03-04 20:00:00,app,80,paid\n`,
    ),
  )
})
afterAll(async () => {
  await s.cleanup()
})

async function asOf(timezone: string, path: string): Promise<string> {
  const app = createApp({ driver: s.db.driver, keys, clock: TEST_CLOCK, timezone, log: () => {} })
  const res = await app.request(path, { headers: { authorization: `Bearer ${key}` } })
  expect(res.status).toBe(200)
  const body = (await res.json()) as { asOf?: string; spec?: { asOf: string } }
  return body.asOf ?? body.spec?.asOf ?? ''
}

describe('the project time zone in the API', () => {
  it.each(['/api/v1/lifecycle', '/api/v1/rfm', '/api/v1/cohorts', '/api/v1/segment-sizes'])(
    '%s: the default as-of day is counted in the project zone',
    async (path) => {
      expect(await asOf('UTC', path)).toBe('2024-03-05')
      expect(await asOf('Asia/Shanghai', path)).toBe('2024-03-06')
    },
  )
})
