/**
 * A province named in English finds the members whose region Chinese data writes in any of its forms:
 * `Zhejiang` matches 浙江 and 浙江省, `Guangxi` matches 广西壮族自治区, in metric filters and in segments.
 * Other text is compared as it is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { regionWritings } from '../../src/core/regions.js'
import { runMetrics } from '../../src/engine/metrics/run.js'
import { countSegmentMembers } from '../../src/engine/segments/segment-summary.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch

beforeAll(async () => {
  s = await scratch()
  const regions = ['浙江', '浙江省', '广西壮族自治区', '江苏', 'Zhejiang Road Store']
  const members = [
    'phone,registered_at,region',
    ...regions.map((r, i) => `1380000000${i},2024-01-0${i + 1}T00:00:00Z,${r}`),
  ]
  await s.ingest('members', await s.file('members.csv', `${members.join('\n')}\n`))
})
afterAll(async () => {
  await s.cleanup()
})

async function members(where: string): Promise<number | null | undefined> {
  const r = await runMetrics(s.db.driver, {
    metrics: ['members_total'],
    from: '2024-01',
    to: '2024-01',
    grain: 'month',
    where: [where],
  })
  return r.rows[0]?.values['members_total']
}

describe('provinces named in English', () => {
  it('lists the ways Chinese data writes a province, and nothing for other text', () => {
    expect(regionWritings('zhejiang')).toEqual(['浙江', '浙江省', '浙江市'])
    expect(regionWritings('Guangxi')).toEqual(['广西', '广西壮族自治区'])
    expect(regionWritings('Zhejiang Road Store')).toBeUndefined()
  })

  it('filter metrics by the Chinese forms, and other text as it is', async () => {
    expect(await members('region=浙江')).toBe(1)
    expect(await members('region=Zhejiang')).toBe(2)
    expect(await members('region in Zhejiang|Guangxi')).toBe(3)
    expect(await members('region!=Zhejiang')).toBe(3)
    expect(await members('region=Zhejiang Road Store')).toBe(1)
  })

  it('filter segments the same way', async () => {
    const at = '2024-02-01 00:00:00'
    expect(await countSegmentMembers(s.db.driver, { region: ['Zhejiang'] }, at)).toBe(2)
    expect(await countSegmentMembers(s.db.driver, { region: ['浙江'] }, at)).toBe(1)
  })
})
