import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseStepShorthand } from '../../src/engine/funnels/funnel-spec.js'
import { getFunnel } from '../../src/engine/funnels/funnel-query.js'
import type { Database } from '../../src/store/database.js'
import { event, insert, member, memoryDb } from '../cohorts/fixture-db.js'

/*
 * Funnel: page_view[page=product] → add_to_cart → checkout, window 2 days, entries in March 2024.
 *   m1 app    pv 03-01 10:00, cart +300 s, checkout +600 s                     → 3 steps
 *   m2 app    pv 03-02 10:00, cart +3600 s, checkout 03-05 (beyond 2 days)      → 2 steps
 *   m3 store  pv page=home 03-03 (filter fails); pv 03-04 10:00; cart 09:00 (before: ignored),
 *             cart 12:00 (+7200 s), checkout 12:30 (+1800 s)                   → 3 steps
 *   m4 store  pv 02-28 (before the range), pv 03-10                             → 1 step
 *   m5        pv 04-01 00:00 (range end is exclusive)                           → not in the funnel
 *   m6 app    pv 03-20 10:00, cart at the same second, checkout exactly 2 days later → 3 steps
 * Step counts 5, 4, 3; median seconds pv→cart of {300, 3600, 7200, 0} = 1950; cart→checkout of
 * {600, 1800, 172800} = 1800.
 */
const PV = (page: string) => JSON.stringify({ page })
let db: Database
beforeAll(async () => {
  db = await memoryDb()
  const ch = (c: string) => ({ registration_channel: c })
  await insert(db, 'members', [
    member(1, '2024-01-01 00:00:00', ch('app')),
    member(2, '2024-01-01 00:00:00', ch('app')),
    member(3, '2024-01-01 00:00:00', ch('store')),
    member(4, '2024-01-01 00:00:00', ch('store')),
    member(5, '2024-01-01 00:00:00', ch('store')),
    member(6, '2024-01-01 00:00:00', ch('app')),
  ])
  await insert(db, 'events', [
    event(1, '2024-03-01 10:00:00', 'page_view', PV('product')),
    event(1, '2024-03-01 10:05:00', 'add_to_cart'),
    event(1, '2024-03-01 10:15:00', 'checkout'),
    event(2, '2024-03-02 10:00:00', 'page_view', PV('product')),
    event(2, '2024-03-02 11:00:00', 'add_to_cart'),
    event(2, '2024-03-05 10:00:00', 'checkout'),
    event(3, '2024-03-03 10:00:00', 'page_view', PV('home')),
    event(3, '2024-03-04 10:00:00', 'page_view', PV('product')),
    event(3, '2024-03-04 09:00:00', 'add_to_cart'),
    event(3, '2024-03-04 12:00:00', 'add_to_cart'),
    event(3, '2024-03-04 12:30:00', 'checkout'),
    event(4, '2024-02-28 10:00:00', 'page_view', PV('product')),
    event(4, '2024-03-10 10:00:00', 'page_view', PV('product')),
    event(5, '2024-04-01 00:00:00', 'page_view', PV('product')),
    event(6, '2024-03-20 10:00:00', 'page_view', PV('product')),
    event(6, '2024-03-20 10:00:00', 'add_to_cart'),
    event(6, '2024-03-22 10:00:00', 'checkout'),
  ])
})
afterAll(async () => {
  await db.close()
})

const SPEC = {
  steps: [
    { eventType: 'page_view', where: { page: 'product' } },
    { eventType: 'add_to_cart' },
    { eventType: 'checkout' },
  ],
  windowDays: 2,
  from: '2024-03-01',
  to: '2024-04-01',
}

describe('funnels', () => {
  it('counts members per step with completion, drop-off and median times', async () => {
    const [f] = await getFunnel(db.driver, SPEC)
    expect(
      f?.steps.map((s) => [
        s.members,
        s.stepConversion,
        s.overallConversion,
        s.dropOff,
        s.medianSecondsFromPrevious,
      ]),
    ).toEqual([
      [5, 1, 1, 0, null],
      [4, 0.8, 0.8, 1, 1950],
      [3, 0.75, 0.6, 1, 1800],
    ])
  })

  it('splits by a dimension', async () => {
    const rows = await getFunnel(db.driver, { ...SPEC, dimension: 'registration_channel' })
    expect(rows.map((r) => [r.dimension, r.steps.map((s) => s.members)])).toEqual([
      ['app', [3, 3, 2]],
      ['store', [2, 1, 1]],
    ])
  })

  it('never counts one event for two identical steps', async () => {
    // Two page views (any page): only m3 has a second one (03-04 after 03-03) within 2 days.
    const [f] = await getFunnel(db.driver, {
      ...SPEC,
      steps: [{ eventType: 'page_view' }, { eventType: 'page_view' }],
    })
    expect(f?.steps.map((s) => s.members)).toEqual([5, 1])
  })

  it('reports an empty funnel as no rows', async () => {
    expect(await getFunnel(db.driver, { ...SPEC, from: '2020-01-01', to: '2020-02-01' })).toEqual(
      [],
    )
  })

  it('parses the CLI shorthand', () => {
    expect(parseStepShorthand('checkout_step[step=1,device=ios]')).toEqual({
      eventType: 'checkout_step',
      where: { step: '1', device: 'ios' },
      label: 'checkout_step[step=1,device=ios]',
    })
    expect(() => parseStepShorthand('x[bad]')).toThrow('key=value')
  })
})
