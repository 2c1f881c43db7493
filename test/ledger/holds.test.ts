/**
 * Points holds on both stores: a hold makes the member's open points pending until the end of its window and
 * no longer, a repeated key holds nothing twice, points earned later are not held, a release gives the held
 * points back at once, and the window is bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InsufficientPointsError, NotFoundError } from '../../src/core/errors.js'
import { listHolds, placeHold, releaseHold } from '../../src/ledger/holds.js'
import type { Ledger } from '../../src/ledger/ledger.service.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import { STORE_KINDS, T0, newLedger, openTestStore } from './helpers.js'

const DAY = 86_400_000
const at = (days: number) => new Date(new Date(T0).getTime() + days * DAY)

describe.each(STORE_KINDS)('points holds on %s', (kind) => {
  let store: LedgerStore
  let ledger: Ledger
  beforeAll(async () => {
    store = await openTestStore(kind)
    ledger = newLedger(store)
    for (const m of ['h1', 'h2']) {
      await ledger.enroll({ memberId: m, idempotencyKey: `enroll:${m}`, at: at(0) })
      await ledger.earnForOrder({
        memberId: m,
        orderId: `O-${m}`,
        amount: '500',
        channel: 'store',
        idempotencyKey: `order:${m}`,
        at: at(1),
      })
    }
  })
  afterAll(async () => {
    await store?.close()
  })

  it('holds the open points for the window, and they are spendable again at its end', async () => {
    const before = (await ledger.balance('h1', at(2))).available
    expect(before).toBeGreaterThan(0)
    const r = await placeHold(ledger, {
      memberId: 'h1',
      idempotencyKey: 'hold:h1',
      reason: 'test review',
      reviewDays: 7,
      at: at(2),
    })
    expect(r.details['heldPoints']).toBe(before)
    const again = await placeHold(ledger, {
      memberId: 'h1',
      idempotencyKey: 'hold:h1',
      reason: 'test review',
      reviewDays: 7,
      at: at(2),
    })
    expect(again.replayed).toBe(true)
    expect(await listHolds(store, { memberId: 'h1' })).toHaveLength(1)

    const during = await ledger.balance('h1', at(3))
    expect(during).toMatchObject({ available: 0, pending: before, balance: before })
    await expect(
      ledger.redeem({ memberId: 'h1', idempotencyKey: 'redeem:h1:early', points: 10, at: at(3) }),
    ).rejects.toBeInstanceOf(InsufficientPointsError)
    // Points earned after the hold are not held by it.
    await ledger.earnForOrder({
      memberId: 'h1',
      orderId: 'O-h1-later',
      amount: '100',
      channel: 'store',
      idempotencyKey: 'order:h1:later',
      at: at(4),
    })
    expect((await ledger.balance('h1', at(4))).available).toBeGreaterThan(0)
    // At the end of the window, with nobody acting, everything is spendable.
    const end = new Date(at(2).getTime() + 7 * DAY)
    expect((await ledger.balance('h1', new Date(end.getTime() - 1))).pending).toBe(before)
    expect((await ledger.balance('h1', end)).pending).toBe(0)
    const spent = await ledger.redeem({
      memberId: 'h1',
      idempotencyKey: 'redeem:h1:after',
      points: before,
      at: end,
    })
    expect(spent.points).toBe(-before)
    expect(await listHolds(store, { activeAt: end })).toHaveLength(0)
  })

  it('gives the points back at once when an operator releases the hold', async () => {
    const r = await placeHold(ledger, {
      memberId: 'h2',
      idempotencyKey: 'hold:h2',
      reason: 'test review',
      reviewDays: 30,
      at: at(2),
    })
    const holdId = Number(r.details['holdId'])
    expect((await ledger.balance('h2', at(3))).available).toBe(0)
    const released = await releaseHold(ledger, {
      holdId,
      idempotencyKey: 'release:h2',
      reason: 'a real customer',
      at: at(3),
    })
    expect(released.details['releasedPoints']).toBe(r.details['heldPoints'])
    expect((await ledger.balance('h2', at(3))).available).toBe(r.details['heldPoints'])
    const [h] = await listHolds(store, { memberId: 'h2' })
    expect(h).toMatchObject({ releaseReason: 'a real customer', releasedAt: at(3) })
    await expect(
      releaseHold(ledger, { holdId: 999_999, idempotencyKey: 'release:none', reason: 'x' }),
    ).rejects.toBeInstanceOf(NotFoundError)
  })

  it('refuses a window longer than 30 days, a missing reason and an unknown member', async () => {
    const hold = (over: Partial<Parameters<typeof placeHold>[1]>) =>
      placeHold(ledger, {
        memberId: 'h2',
        idempotencyKey: 'hold:h2:bad',
        reason: 'test',
        reviewDays: 7,
        at: at(5),
        ...over,
      })
    await expect(hold({ reviewDays: 31 })).rejects.toThrow(/reviewDays.*1 to 30/)
    await expect(hold({ reviewDays: 0 })).rejects.toThrow(/reviewDays/)
    await expect(hold({ reason: ' ' })).rejects.toThrow(/reason/)
    await expect(hold({ memberId: 'nobody' })).rejects.toBeInstanceOf(NotFoundError)
    expect(await listHolds(store, { memberId: 'h2' })).toHaveLength(1)
  })
})
