/** Test fixtures without vitest imports, so child processes (the crash test) can use them too. */
import type { Clock } from '../../src/core/clock.js'
import { parseProgram, type Program } from '../../src/ledger/program.js'

export const T0 = new Date('2026-03-15T04:00:00Z')

/** A small program with every rule, at UTC, so expected figures are easy to compute by hand. */
export function testProgram(overrides: Record<string, unknown> = {}): Program {
  return parseProgram({
    program: 'test',
    currency: 'CNY',
    point_value: '0.01',
    utc_offset: '+00:00',
    rounding: 'floor',
    pending_days: 0,
    earn: {
      spend: {
        points_per_unit: 1,
        unit: 1,
        category_multipliers: { fresh: 2 },
        channel_multipliers: { app: 1.5 },
      },
      check_in: { points: 5, streak_bonus: [{ every_days: 3, points: 10 }] },
      review: { points: 20, max_per_day: 2 },
      referral: { points: 300 },
      birthday: { points: 100 },
      campaigns: [
        { id: 'spring', starts: '2026-04-01', ends: '2026-04-07', multiplier: 2, bonus_points: 50 },
      ],
      caps: { per_order: 5000, per_day: 8000 },
    },
    redemption: {
      catalogue: [
        { id: 'coupon', kind: 'coupon', name: 'coupon', points: 100 },
        { id: 'mug', kind: 'goods', name: 'mug', points: 250, stock: 3 },
        { id: 'old', kind: 'goods', name: 'old', points: 10, valid_until: '2026-01-31' },
      ],
    },
    expiry: { policy: 'end_of_month', months: 12 },
    tiers: {
      basis: 'spend',
      window_months: 12,
      grace_days: 30,
      levels: [
        { id: 'member', name: 'Member', threshold: 0 },
        { id: 'silver', name: 'Silver', threshold: 1000, points_multiplier: 1.5 },
        { id: 'gold', name: 'Gold', threshold: 5000, points_multiplier: 2 },
      ],
    },
    ...overrides,
  })
}

/** A clock the test moves by hand. */
export function movableClock(
  start: Date = T0,
): Clock & { set(d: Date): void; advance(ms: number): void } {
  let now = start.getTime()
  return {
    now: () => new Date(now),
    set: (d) => {
      now = d.getTime()
    },
    advance: (ms) => {
      now += ms
    },
  }
}

export type CrashRequest =
  | { kind: 'earn'; key: string; memberId: string; amount: string }
  | { kind: 'redeem'; key: string; memberId: string; points: number }

/** The crash test's deterministic batch: earns and redemptions over three members. */
export function crashBatch(count: number): CrashRequest[] {
  const out: CrashRequest[] = []
  for (let i = 0; i < count; i++) {
    const memberId = `c${i % 3}`
    out.push(
      i % 4 === 3
        ? { kind: 'redeem', key: `crash-redeem-${i}`, memberId, points: 40 + (i % 7) * 10 }
        : { kind: 'earn', key: `crash-earn-${i}`, memberId, amount: String(20 + ((i * 37) % 90)) },
    )
  }
  return out
}
