/**
 * The per-member covariate data built in SQL: dummy coding against the most common level, unknown values as
 * their own level, first-order coupon, and the high-season exposure and purchases (年货节 2026-01-20…02-16,
 * 618 2026-05-20…06-18, 双11 2026-10-20…11-11) counted from each member's origin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memberCovariates, parseCovariates } from '../../src/analytics/clv/covariates.js'
import { InputError } from '../../src/core/errors.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>

describe('member covariates in SQL', () => {
  let s: Scratch
  beforeAll(async () => {
    s = await scratch()
    const members = await s.file(
      'members.csv',
      'customer_id,registered_at,registration_channel,region\n' +
        'c1,2026-04-01T00:00:00Z,app,上海\n' +
        'c2,2026-04-01T00:00:00Z,app,\n' +
        'c3,2026-04-01T00:00:00Z,store,上海\n' +
        'c4,2026-04-01T00:00:00Z,app,北京\n',
    )
    await s.ingest('members', members)
    const orders = await s.file(
      'orders.csv',
      'order_id,customer_id,ordered_at,channel,net_amount,coupon_id\n' +
        // c1: first purchase 05-01, repeats on 05-25 (in 618's window) and 07-01 (outside).
        'o1,c1,2026-05-01T10:00:00Z,app,10,\n' +
        'o2,c1,2026-05-25T10:00:00Z,app,10,\n' +
        'o3,c1,2026-07-01T10:00:00Z,app,10,\n' +
        // c2: first purchase with a coupon on 06-10 (inside the window), no repeat.
        'o4,c2,2026-06-10T10:00:00Z,app,10,CP1\n' +
        // c3: first purchase 06-18 (last window day), repeat 06-19 (first day after it).
        'o5,c3,2026-06-18T10:00:00Z,store,10,\n' +
        'o6,c3,2026-06-19T10:00:00Z,store,10,\n' +
        // c4: first purchase 04-02, repeat 06-01 (inside the window).
        'o7,c4,2026-04-02T10:00:00Z,app,10,\n' +
        'o8,c4,2026-06-01T10:00:00Z,app,10,\n',
    )
    await s.ingest('orders', orders)
  })
  afterAll(async () => {
    await s.cleanup()
  })

  it('counts exposure and purchases inside the windows from each member’s first purchase', async () => {
    const m = await memberCovariates(
      s.db.driver,
      { calibrationEnd: '2026-07-31', unit: 'day' },
      ['season'],
    )
    const d = m.data
    expect(Array.from(d.x)).toEqual([2, 0, 1, 1])
    // c1: origin 05-01, T = 91 days; inside 05-20…06-18 = 30 days, all before t_x (07-01).
    expect(d.T[0]).toBe(91)
    expect(d.season?.TIn[0]).toBe(30)
    expect(d.season?.txIn[0]).toBe(30)
    expect(d.season?.xIn[0]).toBe(1)
    // c2: origin 06-10: window days 06-10…06-18 = 9; no repeat, so t_x = 0 and nothing inside by then.
    expect(d.season?.TIn[1]).toBe(9)
    expect(d.season?.txIn[1]).toBe(0)
    expect(d.season?.xIn[1]).toBe(0)
    // c3: origin 06-18 (one window day), repeat on 06-19 is outside.
    expect(d.season?.TIn[2]).toBe(1)
    expect(d.season?.txIn[2]).toBe(1)
    expect(d.season?.xIn[2]).toBe(0)
    // c4: origin 04-02, repeat 06-01 inside; by t_x the window has run 05-20…05-31 = 12 days.
    expect(d.season?.TIn[3]).toBe(30)
    expect(d.season?.txIn[3]).toBe(12)
    expect(d.season?.xIn[3]).toBe(1)
    // From the earliest origin (04-02) to the calibration end: 618 only.
    expect(m.windows?.map((w) => w.event)).toEqual(['mid_year_618'])
  })

  it('dummy-codes channel and region against their most common level, and the first-order coupon', async () => {
    const m = await memberCovariates(
      s.db.driver,
      { calibrationEnd: '2026-07-31', unit: 'week', origin: 'registration' },
      ['channel', 'region', 'first_coupon'],
    )
    // Every level has fewer than 30 members, so all but the reference (the most common) are pooled.
    expect(m.coding.map((c) => [c.covariate, c.reference])).toEqual([
      ['channel', 'app'],
      ['region', '上海'],
      ['first_coupon', 'no'],
    ])
    expect(m.data.covariateNames).toEqual([
      'channel=(other)',
      'region=(other)',
      'first_coupon=yes',
    ])
    const k = 3
    const row = (i: number) => Array.from(m.data.z.subarray(i * k, i * k + k))
    expect(row(0)).toEqual([0, 0, 0])
    expect(row(1)).toEqual([0, 1, 1]) // region unknown → pooled; first order used coupon CP1
    expect(row(2)).toEqual([1, 0, 0])
    expect(row(3)).toEqual([0, 1, 0])
    expect(m.coding[1]?.levels.map((l) => l.level)).toEqual(['上海', '(other)'])
  })

  it('refuses unknown and repeated names, naming --covariates', () => {
    expect(parseCovariates('channel, season')).toEqual(['channel', 'season'])
    expect(() => parseCovariates('chanel')).toThrow(/--covariates.*chanel.*did you mean channel/s)
    expect(() => parseCovariates('region,region')).toThrow(InputError)
    expect(() => parseCovariates('')).toThrow(/--covariates/)
  })
})
