/**
 * The per-member annual cap (`earn.caps.per_year`): validated like the other caps, counted per calendar year of
 * the program's UTC offset over every earn kind, and applied the same by the pure engine and the live ledger on
 * both stores (the random-history equality with the cap set is in live-bulk-pure.property.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/core/clock.js'
import { ConfigError } from '../../src/core/errors.js'
import { Ledger } from '../../src/ledger/ledger.service.js'
import { parseProgramText } from '../../src/ledger/program.js'
import {
  createReplayEngine,
  memberCapped,
  type ReplayEvent,
} from '../../src/ledger/replay-engine.js'
import { yearBounds } from '../../src/ledger/rules.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import { STORE_KINDS, checkInvariants, openTestStore, resetStore, testProgram } from './helpers.js'

const program = testProgram({
  utc_offset: '+08:00',
  earn: {
    spend: { points_per_unit: 1, unit: 1 },
    check_in: { points: 5 },
    caps: { per_order: 700, per_day: 900, per_year: 1000 },
  },
  tiers: { basis: 'spend', levels: [{ id: 'member', name: 'Member', threshold: 0 }] },
})

/** Orders and a check-in around the local new year (+08:00): 2026-12-31T16:00Z is 2027-01-01 00:00 local. */
const STEPS: Array<{ kind: 'order' | 'check_in'; id: string; at: string; amount?: string }> = [
  { kind: 'order', id: 'A', at: '2026-06-01T02:00:00Z', amount: '600' },
  // 600 + 300 = 900 this year: the whole order.
  { kind: 'order', id: 'B', at: '2026-12-30T02:00:00Z', amount: '300' },
  // 2026-12-31 23:30 local: 100 left of the year's 1000.
  { kind: 'order', id: 'C', at: '2026-12-31T15:30:00Z', amount: '500' },
  // The year is used up: a check-in earns nothing.
  { kind: 'check_in', id: 'K1', at: '2026-12-31T15:40:00Z' },
  // 2027-01-01 00:30 local: a new year, the order capped per order (700) only.
  { kind: 'order', id: 'D', at: '2026-12-31T16:30:00Z', amount: '800' },
  { kind: 'check_in', id: 'K2', at: '2026-12-31T16:40:00Z' },
]
const EXPECTED = [600, 300, 100, 0, 700, 5]

describe('per-year cap: the program file', () => {
  const yaml = (cap: string) =>
    `program: t\ncurrency: CNY\npoint_value: 0.01\nearn:\n  caps:\n    per_year: ${cap}\nexpiry:\n  policy: never\ntiers:\n  basis: spend\n  levels:\n    - { id: member, name: Member, threshold: 0 }\n`

  it('accepts a positive whole number and names the file and field otherwise', () => {
    expect(parseProgramText(yaml('12000'), 'p.yaml').earn.caps.per_year).toBe(12000)
    for (const [bad, reason] of [
      ['0', /p\.yaml: earn\.caps\.per_year: a cap is at least 1 point/],
      ['1.5', /p\.yaml: earn\.caps\.per_year: points are whole numbers/],
      ['lots', /p\.yaml: earn\.caps\.per_year: .*number/i],
    ] as const) {
      let error: unknown
      try {
        parseProgramText(yaml(bad), 'p.yaml')
      } catch (e) {
        error = e
      }
      expect(error, bad).toBeInstanceOf(ConfigError)
      expect((error as Error).message, bad).toMatch(reason)
    }
  })
})

describe('per-year cap: the rule', () => {
  it('is the calendar year of the program offset', () => {
    const { from, to } = yearBounds(program, new Date('2026-12-31T16:30:00Z'))
    expect([from.toISOString(), to.toISOString()]).toEqual([
      '2026-12-31T16:00:00.000Z',
      '2027-12-31T16:00:00.000Z',
    ])
  })

  it('trims to what the day and the year leave, whichever is less', () => {
    expect(memberCapped(program, 500, { today: 0, year: 900 })).toBe(100)
    expect(memberCapped(program, 500, { today: 600, year: 0 })).toBe(300)
    expect(memberCapped(program, 500, { today: 0, year: 1000 })).toBe(0)
    expect(memberCapped(program, 500, { today: 0, year: 1200 })).toBe(0)
    const noYear = testProgram({ earn: { caps: { per_day: 900 } } })
    expect(memberCapped(noYear, 500, { today: 0, year: 10_000 })).toBe(500)
  })

  it('the pure engine caps every earn kind per local year', () => {
    const engine = createReplayEngine(program, new Date('2027-02-01T00:00:00Z'), [])
    const events: ReplayEvent[] = STEPS.map((s) => ({
      kind: s.kind,
      id: s.id,
      orderId: s.kind === 'order' ? s.id : null,
      ts: Date.parse(s.at),
      channel: 'web',
      amount: s.amount ?? null,
    }))
    engine.replayMember(
      { memberId: 'm1', enrolledAt: Date.parse('2026-01-01T00:00:00Z'), birthday: null },
      events,
    )
    engine.drainAllocations()
    const e = engine.rows.entries.cols
    const earns = (e[2] as string[]).flatMap((kind, i) =>
      kind === 'earn' ? [[e[8]?.[i], e[3]?.[i]]] : [],
    )
    // A zero earn writes no entry.
    expect(earns).toEqual([
      ['A', 600],
      ['B', 300],
      ['C', 100],
      ['D', 700],
      ['check_in:2027-01-01', 5],
    ])
    // The order rows keep what each order earned, 0 included.
    const o = engine.rows.orders.cols
    expect(o[0]).toEqual(['A', 'B', 'C', 'D'])
  })
})

describe.each(STORE_KINDS)('per-year cap: the live ledger on %s', (kind) => {
  let store: LedgerStore
  beforeAll(async () => {
    store = await openTestStore(kind, { max: 2 })
  })
  afterAll(async () => {
    await store?.close()
  })

  it('earns what the pure engine earns, alone and in group commit, and repeats answer the same', async () => {
    for (const groupCommit of [false, true]) {
      await resetStore(store)
      const ledger = new Ledger(store, program, {
        clock: fixedClock(new Date('2027-02-01T00:00:00Z')),
        groupCommit,
      })
      await ledger.enroll({
        memberId: 'm1',
        idempotencyKey: 'enroll',
        at: new Date('2026-01-01T00:00:00Z'),
      })
      const got: number[] = []
      const earn = (s: (typeof STEPS)[number]) =>
        s.kind === 'order'
          ? ledger.earnForOrder({
              memberId: 'm1',
              orderId: s.id,
              amount: s.amount ?? '0',
              channel: 'web',
              idempotencyKey: `order:${s.id}`,
              at: new Date(s.at),
            })
          : ledger.earnBonus({
              memberId: 'm1',
              kind: 'check_in',
              idempotencyKey: `check_in:${s.id}`,
              at: new Date(s.at),
            })
      for (const s of STEPS) got.push((await earn(s)).points)
      expect(got, `groupCommit ${groupCommit}`).toEqual(EXPECTED)
      // A repeated key answers the first result, nothing is written twice.
      expect((await earn(STEPS[2] as (typeof STEPS)[number])).points).toBe(100)
      expect((await ledger.balance('m1')).balance).toBe(EXPECTED.reduce((a, b) => a + b, 0))
      await ledger.drained()
      expect(await checkInvariants(store)).toEqual([])
    }
  })
})
