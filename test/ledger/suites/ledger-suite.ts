/**
 * The ledger conformance suite, written once and run for each store (`ledger.pglite.test.ts`,
 * `ledger.postgres.test.ts`), like Drizzle's shared integration suites. One store per file, emptied between
 * tests (PGlite takes ~2.5 s to start).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fixedClock } from '../../../src/core/clock.js'
import {
  ConfigError,
  InputError,
  InsufficientPointsError,
  LedgerConflictError,
  NotFoundError,
  RewardOutOfStockError,
} from '../../../src/core/errors.js'
import { Ledger } from '../../../src/ledger/ledger.service.js'
import { parseProgramText } from '../../../src/ledger/program.js'
import { copyText, type LedgerStore } from '../../../src/ledger/stores/store.js'
import { downgradeWarnings, reviewTiers } from '../../../src/ledger/tiers.service.js'
import {
  T0,
  checkInvariants,
  movableClock,
  openTestStore,
  resetStore,
  testProgram,
  type StoreKindName,
} from '../helpers.js'

const day = (n: number) => new Date(T0.getTime() + n * 86_400_000)

/** Every row of every ledger table, for "nothing was written" assertions. */
async function dump(store: LedgerStore): Promise<string> {
  const out: Record<string, unknown> = {}
  for (const t of [
    'ledger_accounts',
    'ledger_entries',
    'ledger_buckets',
    'ledger_allocations',
    'ledger_requests',
    'ledger_orders',
    'ledger_returns',
    'ledger_rewards',
    'ledger_tier_changes',
  ]) {
    out[t] = await store.query(`SELECT * FROM ${t} ORDER BY 1`)
  }
  return JSON.stringify(out)
}

export function ledgerSuite(kind: StoreKindName): void {
  describe(`ledger on ${kind}`, () => {
    let store: LedgerStore
    let ledger: Ledger

    beforeAll(async () => {
      store = await openTestStore(kind)
    })
    afterAll(async () => {
      await store?.close()
    })
    beforeEach(async () => {
      await resetStore(store)
      ledger = new Ledger(store, testProgram(), { clock: fixedClock(T0) })
      await ledger.enroll({
        memberId: 'm1',
        idempotencyKey: 'enroll-m1',
        at: T0,
        birthday: '1990-03-02',
      })
    })

    // Every test ends with the invariants checked on the whole store.
    afterEach(async () => {
      expect(await checkInvariants(store)).toEqual([])
    })

    async function expectInvariants() {
      expect(await checkInvariants(store)).toEqual([])
    }

    it('bulk-copies text with tabs, line breaks, backslashes and nulls unchanged', async () => {
      const texts = ['plain', 'a\tb', 'line\nbreak', 'back\\slash', '\\N', 'cr\r', '积分 ok']
      const text = copyText([
        [...texts.keys(), texts.length],
        [...texts, null],
      ])
      expect(text.split('\n')[1]).toBe('1\ta\\tb')
      const back = await store.transaction(async (tx) => {
        await tx.query('CREATE TEMP TABLE copy_probe (i int, t text) ON COMMIT DROP')
        await tx.copyIn('copy_probe', ['i', 't'], text)
        return tx.query<{ t: string | null }>('SELECT t FROM copy_probe ORDER BY i')
      })
      expect(back.map((r) => r.t)).toEqual([...texts, null])
      await expect(
        store.transaction((tx) => tx.copyIn('copy_probe; DROP TABLE x', ['i'], '')),
      ).rejects.toThrow(/not a plain identifier/)
    })

    it('earns spend points per currency unit with channel and tier multipliers, rounding down', async () => {
      const r = await ledger.earnForOrder({
        memberId: 'm1',
        orderId: 'O1',
        amount: '100.99',
        channel: 'web',
        idempotencyKey: 'order-O1',
        at: T0,
      })
      expect(r).toMatchObject({ points: 100, balance: 100, replayed: false, tier: 'member' })
      const app = await ledger.earnForOrder({
        memberId: 'm1',
        orderId: 'O2',
        amount: 100,
        channel: 'app',
        idempotencyKey: 'order-O2',
        at: T0,
      })
      expect(app.points).toBe(150)
      // category lines: 40 of fresh at ×2 plus 60 uncovered at ×1 → 140
      const lines = await ledger.earnForOrder({
        memberId: 'm1',
        orderId: 'O3',
        amount: '100',
        channel: 'web',
        idempotencyKey: 'order-O3',
        at: T0,
        lines: [{ category: 'fresh', amount: '40' }],
      })
      expect(lines.points).toBe(140)
      const b = await ledger.balance('m1', T0)
      expect(b).toMatchObject({ balance: 390, available: 390, pending: 0, debt: 0 })
      expect((await ledger.history('m1')).map((e) => e.points)).toEqual([140, 150, 100])
      await expectInvariants()
    })

    it('reads again when another write for the member lands between an earn’s read and its write', async () => {
      // The earn reads without the account lock; a write that commits before its write statement must make that
      // statement write nothing, and the earn must read again (seeing the other write) instead of losing it.
      let reads = 0
      let between: Awaited<ReturnType<Ledger['earnForOrder']>> | undefined
      const racing: LedgerStore = {
        ...store,
        query: async <T extends Record<string, unknown>>(
          text: string,
          params?: readonly unknown[],
        ) => {
          const rows = await store.query<T>(text, params)
          if (text.includes('ledger_earn_context(')) {
            reads++
            if (reads === 1) {
              between = await ledger.earnForOrder({
                memberId: 'm1',
                orderId: 'O-between',
                amount: '50',
                channel: 'web',
                idempotencyKey: 'order-between',
                at: T0,
              })
            }
          }
          return rows
        },
      }
      const racer = new Ledger(racing, testProgram(), { clock: fixedClock(T0) })
      const r = await racer.earnForOrder({
        memberId: 'm1',
        orderId: 'O-first',
        amount: '100',
        channel: 'web',
        idempotencyKey: 'order-first',
        at: T0,
      })
      expect(reads).toBe(2)
      expect(between).toMatchObject({ points: 50, balance: 50 })
      expect(r).toMatchObject({ points: 100, balance: 150, replayed: false })
      expect((await ledger.balance('m1', T0)).balance).toBe(150)
      expect((await ledger.history('m1')).map((e) => e.points).sort()).toEqual([100, 50])
      await expectInvariants()
    })

    it('answers a repeated idempotency key with the first result and changes nothing', async () => {
      const req = {
        memberId: 'm1',
        orderId: 'O1',
        amount: '50',
        channel: 'web',
        idempotencyKey: 'order-O1',
        at: T0,
      }
      const first = await ledger.earnForOrder(req)
      const before = await dump(store)
      const again = await ledger.earnForOrder(req)
      expect(again).toEqual({ ...first, replayed: true })
      expect(await dump(store)).toBe(before)
      await expect(ledger.earnForOrder({ ...req, amount: '60' })).rejects.toBeInstanceOf(
        LedgerConflictError,
      )
      await expect(ledger.earnForOrder({ ...req, idempotencyKey: 'order-O1-b' })).rejects.toThrow(
        /already earned/,
      )
      expect(await dump(store)).toBe(before)
    })

    it('refuses bad input with clear errors and writes nothing', async () => {
      await ledger.earnForOrder({
        memberId: 'm1',
        orderId: 'O1',
        amount: '300',
        channel: 'web',
        idempotencyKey: 'order-O1',
        at: T0,
      })
      const before = await dump(store)
      const cases: Array<[string, () => Promise<unknown>, new (...a: never[]) => Error, RegExp]> = [
        [
          'unknown member',
          () =>
            ledger.earnForOrder({
              memberId: 'nobody',
              orderId: 'O9',
              amount: '1',
              channel: 'web',
              idempotencyKey: 'k-unknown',
            }),
          NotFoundError,
          /unknown member nobody/,
        ],
        [
          'negative points',
          () => ledger.redeem({ memberId: 'm1', points: -5, idempotencyKey: 'k-neg' }),
          InputError,
          /positive whole number/,
        ],
        [
          'fractional points',
          () =>
            ledger.adjust({ memberId: 'm1', points: 1.5, reason: 'x', idempotencyKey: 'k-frac' }),
          InputError,
          /whole number/,
        ],
        [
          'negative amount',
          () =>
            ledger.earnForOrder({
              memberId: 'm1',
              orderId: 'O8',
              amount: '-3',
              channel: 'web',
              idempotencyKey: 'k-amt',
            }),
          InputError,
          /non-negative amount/,
        ],
        [
          'too many decimals',
          () =>
            ledger.earnForOrder({
              memberId: 'm1',
              orderId: 'O8',
              amount: '1.23456',
              channel: 'web',
              idempotencyKey: 'k-amt2',
            }),
          InputError,
          /4 decimal/,
        ],
        [
          'more than the balance',
          () => ledger.redeem({ memberId: 'm1', points: 301, idempotencyKey: 'k-much' }),
          InsufficientPointsError,
          /300 spendable points; 301 needed/,
        ],
        [
          'expired reward',
          () => ledger.redeem({ memberId: 'm1', rewardId: 'old', idempotencyKey: 'k-old' }),
          InputError,
          /reward expired on 2026-01-31/,
        ],
        [
          'unknown reward',
          () => ledger.redeem({ memberId: 'm1', rewardId: 'nope', idempotencyKey: 'k-nope' }),
          NotFoundError,
          /unknown reward/,
        ],
        [
          'malformed key',
          () => ledger.redeem({ memberId: 'm1', points: 1, idempotencyKey: 'bad key!' }),
          InputError,
          /malformed idempotency key/,
        ],
        [
          'empty key',
          () => ledger.redeem({ memberId: 'm1', points: 1, idempotencyKey: '' }),
          InputError,
          /malformed idempotency key/,
        ],
        [
          'malformed member',
          () => ledger.redeem({ memberId: 'a b', points: 1, idempotencyKey: 'k-member' }),
          InputError,
          /malformed member id/,
        ],
        [
          'unknown order return',
          () =>
            ledger.reverseForReturn({
              returnId: 'R1',
              orderId: 'O404',
              amount: '1',
              idempotencyKey: 'k-ret',
            }),
          NotFoundError,
          /unknown order O404/,
        ],
        [
          'return above net',
          () =>
            ledger.reverseForReturn({
              returnId: 'R1',
              orderId: 'O1',
              amount: '300.01',
              idempotencyKey: 'k-ret2',
            }),
          InputError,
          /exceed its net amount 300/,
        ],
      ]
      for (const [name, fn, type, message] of cases) {
        const error = await fn().then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error, name).toBeInstanceOf(type)
        expect((error as Error).message, name).toMatch(message)
      }
      expect(() => parseProgramText('program: x\ncurrency: cny\n', 'bad.yaml')).toThrow(ConfigError)
      expect(await dump(store)).toBe(before)
    })

    it('redeems catalogue rewards oldest bucket first and tracks stock', async () => {
      await ledger.earnForOrder({
        memberId: 'm1',
        orderId: 'O1',
        amount: '300',
        channel: 'web',
        idempotencyKey: 'order-O1',
        at: T0,
      })
      await ledger.earnForOrder({
        memberId: 'm1',
        orderId: 'O2',
        amount: '500',
        channel: 'web',
        idempotencyKey: 'order-O2',
        at: day(40),
      })
      const r = await ledger.redeem({
        memberId: 'm1',
        rewardId: 'mug',
        quantity: 2,
        idempotencyKey: 'redeem-1',
        at: day(41),
      })
      expect(r).toMatchObject({ points: -500, balance: 300 })
      const open = await ledger.openBuckets('m1', day(41))
      // the March bucket (300) is gone first, then 200 of the April bucket
      expect(open.map((b) => [b.orderId, b.remaining])).toEqual([['O2', 300]])
      await expect(
        ledger.redeem({
          memberId: 'm1',
          rewardId: 'mug',
          quantity: 2,
          idempotencyKey: 'redeem-2',
          at: day(41),
        }),
      ).rejects.toSatisfy(
        (e) =>
          e instanceof RewardOutOfStockError &&
          e.code === 'REWARD_OUT_OF_STOCK' &&
          /out of stock \(1 left\)/.test(e.message),
      )
      await ledger.redeem({
        memberId: 'm1',
        rewardId: 'mug',
        idempotencyKey: 'redeem-3',
        at: day(41),
      })
      await expectInvariants()
    })

    it('records the order a payment with points paid for, and refuses an order with a reward', async () => {
      await ledger.earnForOrder({
        memberId: 'm1',
        orderId: 'O1',
        amount: '300',
        channel: 'web',
        idempotencyKey: 'order-O1',
        at: T0,
      })
      const paid = await ledger.redeem({
        memberId: 'm1',
        points: 120,
        orderId: 'O9',
        idempotencyKey: 'payment:O9',
        at: day(2),
      })
      expect(paid).toMatchObject({ points: -120, balance: 180, details: { orderId: 'O9' } })
      const [entry] = await store.query<{ reason: string; source_id: string }>(
        `SELECT reason, source_id FROM ledger_entries WHERE idempotency_key = 'payment:O9'`,
      )
      expect(entry).toEqual({ reason: 'payment for order O9', source_id: 'O9' })
      // The same key for another order is a different request.
      await expect(
        ledger.redeem({
          memberId: 'm1',
          points: 120,
          orderId: 'O8',
          idempotencyKey: 'payment:O9',
          at: day(2),
        }),
      ).rejects.toBeInstanceOf(LedgerConflictError)
      await expect(
        ledger.redeem({
          memberId: 'm1',
          rewardId: 'coupon',
          orderId: 'O9',
          idempotencyKey: 'payment:O10',
          at: day(2),
        }),
      ).rejects.toThrow(/orderId.*not with a reward/)
      await expectInvariants()
    })

    it('expires points at the end of the 12th month after earning, oldest first, once', async () => {
      await ledger.earnForOrder({
        memberId: 'm1',
        orderId: 'O1',
        amount: '100',
        channel: 'web',
        idempotencyKey: 'order-O1',
        at: T0,
      })
      await ledger.earnForOrder({
        memberId: 'm1',
        orderId: 'O2',
        amount: '70',
        channel: 'web',
        idempotencyKey: 'order-O2',
        at: new Date('2026-04-10T00:00:00Z'),
      })
      const buckets = await ledger.openBuckets('m1', T0)
      expect(buckets[0]?.expiresAt?.toISOString()).toBe('2027-04-01T00:00:00.000Z')
      expect(buckets[1]?.expiresAt?.toISOString()).toBe('2027-05-01T00:00:00.000Z')
      expect((await ledger.balance('m1', new Date('2027-03-31T23:59:59Z'))).available).toBe(170)
      const at = new Date('2027-04-01T00:00:00Z')
      expect(await ledger.balance('m1', at)).toMatchObject({
        available: 70,
        expiredUnprocessed: 100,
        balance: 170,
      })
      expect(await ledger.expireDue(at)).toEqual({ members: 1, points: 100 })
      expect(await ledger.expireDue(at)).toEqual({ members: 0, points: 0 })
      expect(await ledger.balance('m1', at)).toMatchObject({
        balance: 70,
        available: 70,
        expiredUnprocessed: 0,
      })
      await expectInvariants()
    })

    it('reverses points on returns, proportionally and cumulatively, with claw-back to a negative balance', async () => {
      await ledger.earnForOrder({
        memberId: 'm1',
        orderId: 'O1',
        amount: '300',
        channel: 'web',
        idempotencyKey: 'order-O1',
        at: T0,
      })
      await ledger.earnForOrder({
        memberId: 'm1',
        orderId: 'O2',
        amount: '101',
        channel: 'web',
        idempotencyKey: 'order-O2',
        at: T0,
      })
      const p1 = await ledger.reverseForReturn({
        returnId: 'R1',
        orderId: 'O2',
        amount: '50.5',
        idempotencyKey: 'return-R1',
        at: day(1),
      })
      expect(p1.points).toBe(-50)
      const p2 = await ledger.reverseForReturn({
        returnId: 'R2',
        orderId: 'O2',
        amount: '50.5',
        idempotencyKey: 'return-R2',
        at: day(1),
      })
      expect(p2.points).toBe(-51) // the full return reverses exactly what was earned
      expect(p2.balance).toBe(300)
      // spend most of O1's points, then return O1 whole: 250 are gone, so the balance goes to −250
      await ledger.redeem({ memberId: 'm1', points: 280, idempotencyKey: 'pay-1', at: day(2) })
      const r = await ledger.reverseForReturn({
        returnId: 'R3',
        orderId: 'O1',
        amount: '300',
        idempotencyKey: 'return-R3',
        at: day(3),
      })
      expect(r).toMatchObject({ points: -300, balance: -280 })
      expect(await ledger.balance('m1', day(3))).toMatchObject({
        balance: -280,
        debt: 280,
        available: 0,
      })
      await expectInvariants()
      await expect(
        ledger.redeem({ memberId: 'm1', points: 1, idempotencyKey: 'pay-2', at: day(3) }),
      ).rejects.toBeInstanceOf(InsufficientPointsError)
      // the next earn pays the debt first
      const e = await ledger.earnForOrder({
        memberId: 'm1',
        orderId: 'O3',
        amount: '400',
        channel: 'web',
        idempotencyKey: 'order-O3',
        at: day(4),
      })
      expect(e.balance).toBe(120)
      expect(await ledger.balance('m1', day(4))).toMatchObject({
        balance: 120,
        debt: 0,
        available: 120,
      })
      await expect(
        ledger.reverseForReturn({
          returnId: 'R3',
          orderId: 'O1',
          amount: '1',
          idempotencyKey: 'return-R3b',
        }),
      ).rejects.toThrow(/already applied/)
      await expectInvariants()
    })

    it('keeps order points pending until the return window closes', async () => {
      const l = new Ledger(store, testProgram({ pending_days: 7 }), { clock: fixedClock(T0) })
      await l.earnForOrder({
        memberId: 'm1',
        orderId: 'O1',
        amount: '200',
        channel: 'web',
        idempotencyKey: 'order-O1',
        at: T0,
      })
      expect(await l.balance('m1', day(1))).toMatchObject({
        balance: 200,
        available: 0,
        pending: 200,
      })
      await expect(
        l.redeem({ memberId: 'm1', points: 100, idempotencyKey: 'pay-1', at: day(1) }),
      ).rejects.toBeInstanceOf(InsufficientPointsError)
      // a return within the window takes the pending points back
      await l.reverseForReturn({
        returnId: 'R1',
        orderId: 'O1',
        amount: '50',
        idempotencyKey: 'return-R1',
        at: day(2),
      })
      expect(await l.balance('m1', day(7))).toMatchObject({
        balance: 150,
        available: 150,
        pending: 0,
      })
      await l.redeem({ memberId: 'm1', points: 150, idempotencyKey: 'pay-2', at: day(7) })
      await expectInvariants()
    })

    it('applies caps, check-in streaks, reviews, referrals, birthdays and campaigns', async () => {
      expect(
        (
          await ledger.earnForOrder({
            memberId: 'm1',
            orderId: 'BIG',
            amount: '9000',
            channel: 'web',
            idempotencyKey: 'order-big',
            at: T0,
          })
        ).points,
      ).toBe(5000)
      // silver now (spend 9000 ≥ 1000 → gold at 5000): next order ×2 tier, capped by the 8000 daily cap
      const second = await ledger.earnForOrder({
        memberId: 'm1',
        orderId: 'BIG2',
        amount: '4000',
        channel: 'web',
        idempotencyKey: 'order-big2',
        at: T0,
      })
      expect(second.points).toBe(3000)
      const streak = []
      for (let d = 1; d <= 4; d++) {
        streak.push(
          (
            await ledger.earnBonus({
              memberId: 'm1',
              kind: 'check_in',
              idempotencyKey: `checkin-${d}`,
              at: day(d),
            })
          ).points,
        )
      }
      expect(streak).toEqual([5, 5, 15, 5])
      await expect(
        ledger.earnBonus({
          memberId: 'm1',
          kind: 'check_in',
          idempotencyKey: 'checkin-4b',
          at: day(4),
        }),
      ).rejects.toThrow(/already checked in/)
      expect(
        (
          await ledger.earnBonus({
            memberId: 'm1',
            kind: 'check_in',
            idempotencyKey: 'checkin-6',
            at: day(6),
          })
        ).details['streak'],
      ).toBe(1)
      await ledger.earnBonus({
        memberId: 'm1',
        kind: 'review',
        sourceId: 'rv1',
        idempotencyKey: 'review-1',
        at: day(5),
      })
      await ledger.earnBonus({
        memberId: 'm1',
        kind: 'review',
        sourceId: 'rv2',
        idempotencyKey: 'review-2',
        at: day(5),
      })
      await expect(
        ledger.earnBonus({
          memberId: 'm1',
          kind: 'review',
          sourceId: 'rv3',
          idempotencyKey: 'review-3',
          at: day(5),
        }),
      ).rejects.toThrow(/reached the 2 rewarded reviews/)
      await expect(
        ledger.earnBonus({
          memberId: 'm1',
          kind: 'review',
          sourceId: 'rv1',
          idempotencyKey: 'review-1b',
          at: day(6),
        }),
      ).rejects.toThrow(/already earned/)
      expect(
        (
          await ledger.earnBonus({
            memberId: 'm1',
            kind: 'referral',
            sourceId: 'friend-9',
            idempotencyKey: 'ref-1',
            at: day(5),
          })
        ).points,
      ).toBe(300)
      await expect(
        ledger.earnBonus({
          memberId: 'm1',
          kind: 'birthday',
          idempotencyKey: 'bday-1',
          at: new Date('2026-04-20T00:00:00Z'),
        }),
      ).rejects.toThrow(/birthday month/)
      expect(
        (
          await ledger.earnBonus({
            memberId: 'm1',
            kind: 'birthday',
            idempotencyKey: 'bday-2',
            at: new Date('2027-03-02T00:00:00Z'),
          })
        ).points,
      ).toBe(100)
      await expect(
        ledger.earnBonus({
          memberId: 'm1',
          kind: 'birthday',
          idempotencyKey: 'bday-3',
          at: new Date('2027-03-20T00:00:00Z'),
        }),
      ).rejects.toThrow(/already received/)
      await expect(
        ledger.earnBonus({
          memberId: 'm1',
          kind: 'campaign',
          sourceId: 'spring',
          idempotencyKey: 'camp-0',
          at: day(1),
        }),
      ).rejects.toThrow(/runs 2026-04-01 to 2026-04-07/)
      expect(
        (
          await ledger.earnBonus({
            memberId: 'm1',
            kind: 'campaign',
            sourceId: 'spring',
            idempotencyKey: 'camp-1',
            at: new Date('2026-04-03T00:00:00Z'),
          })
        ).points,
      ).toBe(50)
      // a campaign order: 10 × gold 2 × campaign 2 = 40
      const c = await ledger.earnForOrder({
        memberId: 'm1',
        orderId: 'C1',
        amount: '10',
        channel: 'web',
        idempotencyKey: 'order-c1',
        at: new Date('2026-04-03T00:00:00Z'),
      })
      expect(c).toMatchObject({ points: 40, details: { campaign: 'spring' } })
      await expectInvariants()
    })

    it('upgrades at once, downgrades at review after the grace period, and warns before', async () => {
      const clock = movableClock(T0)
      const l = new Ledger(store, testProgram(), { clock })
      const up = await l.earnForOrder({
        memberId: 'm1',
        orderId: 'O1',
        amount: '1200',
        channel: 'web',
        idempotencyKey: 'order-O1',
        at: T0,
      })
      expect(up).toMatchObject({ tier: 'silver', details: { upgradedTo: 'silver' } })
      // tier multiplier applies from the next order
      expect(
        (
          await l.earnForOrder({
            memberId: 'm1',
            orderId: 'O2',
            amount: '100',
            channel: 'web',
            idempotencyKey: 'order-O2',
            at: day(1),
          })
        ).points,
      ).toBe(150)
      const warnings = await downgradeWarnings(l, new Date('2027-03-20T00:00:00Z'), { at: day(2) })
      expect(warnings).toEqual([
        expect.objectContaining({
          memberId: 'm1',
          tier: 'silver',
          projectedTier: 'member',
          value: '0',
        }),
      ])
      expect(await reviewTiers(l, { at: new Date('2026-06-30T00:00:00Z') })).toMatchObject({
        members: 1,
        unchanged: 1,
      })
      const r1 = await reviewTiers(l, { at: new Date('2027-03-31T00:00:00Z') })
      expect(r1).toMatchObject({ graceStarted: 1, downgraded: 0 })
      expect(await reviewTiers(l, { at: new Date('2027-03-31T00:00:00Z') })).toMatchObject({
        graceStarted: 0,
        downgraded: 0,
      })
      const r2 = await reviewTiers(l, { at: new Date('2027-06-30T00:00:00Z') })
      expect(r2).toMatchObject({ downgraded: 1 })
      const history = await l.tierHistory('m1')
      expect(history.map((h) => [h.kind, h.fromTier, h.toTier])).toEqual([
        ['enroll', null, 'member'],
        ['upgrade', 'member', 'silver'],
        ['grace_started', 'silver', 'silver'],
        ['downgrade', 'silver', 'member'],
      ])
      expect(history[3]?.reason).toMatch(/spend 0 in the 12 months to 2027-06-30 is below silver/)
      await expectInvariants()
    })

    it('does not qualify a tier from the spendable balance', async () => {
      const l = new Ledger(store, testProgram(), { clock: fixedClock(T0) })
      await l.adjust({
        memberId: 'm1',
        points: 100_000,
        reason: 'goodwill',
        idempotencyKey: 'adj-1',
        at: T0,
      })
      const r = await reviewTiers(l, { at: day(1) })
      expect(r.upgraded).toBe(0)
      expect((await l.balance('m1', day(1))).tier).toBe('member')
      await l.adjust({
        memberId: 'm1',
        points: -40,
        reason: 'correction',
        idempotencyKey: 'adj-2',
        at: T0,
      })
      await expect(
        l.adjust({ memberId: 'm1', points: -200_000, reason: 'x', idempotencyKey: 'adj-3' }),
      ).rejects.toBeInstanceOf(InsufficientPointsError)
      await expectInvariants()
    })
  })
}
