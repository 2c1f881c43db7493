/**
 * Model-based property test (fast-check `fc.commands`): random sequences of earn, redeem, expire, reverse and
 * repeated requests run against the real ledger (PGlite, in memory) and a small in-memory model. After every
 * command: the member's balance equals the model's, and every store invariant holds (balance = Σ entries,
 * no bucket consumed twice, negative only with return debt). A repeated request returns its first result and
 * changes nothing.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InsufficientPointsError } from '../../src/core/errors.js'
import { Ledger, type WriteResult } from '../../src/ledger/ledger.service.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import {
  T0,
  checkInvariants,
  movableClock,
  openTestStore,
  resetStore,
  testProgram,
} from './helpers.js'

const DAY = 86_400_000
const MEMBERS = ['a', 'b'] as const
type MemberId = (typeof MEMBERS)[number]

interface ModelBucket {
  seq: number
  order: string | null
  expires: number
  points: number
  remaining: number
  expired: number
}
interface ModelOrder {
  member: MemberId
  net: number
  earned: number
  returned: number
  reversed: number
  bucket: ModelBucket | null
}
interface Model {
  now: number
  seq: number
  balance: Record<MemberId, number>
  debt: Record<MemberId, number>
  buckets: Record<MemberId, ModelBucket[]>
  orders: Map<string, ModelOrder>
  done: Array<{ send: () => Promise<WriteResult>; result: WriteResult; member: MemberId }>
}
interface Real {
  ledger: Ledger
  clock: ReturnType<typeof movableClock>
  store: LedgerStore
  keys: number
}

// Expiry after 30 days so that random sequences reach it; one tier, no caps: points = floor(amount).
const program = testProgram({
  expiry: { policy: 'days', days: 30 },
  earn: { spend: { points_per_unit: 1, unit: 1 } },
  tiers: { basis: 'spend', levels: [{ id: 'member', name: 'Member', threshold: 0 }] },
})

function open(m: Model, member: MemberId): ModelBucket[] {
  return m.buckets[member]
    .filter((b) => b.remaining > 0 && b.expires > m.now)
    .sort((x, y) => x.expires - y.expires || x.seq - y.seq)
}

function take(buckets: ModelBucket[], points: number): number {
  let left = points
  for (const b of buckets) {
    const t = Math.min(left, b.remaining)
    b.remaining -= t
    left -= t
  }
  return points - left
}

async function checkMember(m: Model, r: Real, member: MemberId): Promise<void> {
  const b = await r.ledger.balance(member, r.clock.now())
  expect(b.balance).toBe(m.balance[member])
  expect(b.debt).toBe(m.debt[member])
  expect(await checkInvariants(r.store)).toEqual([])
}

class Earn implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly member: MemberId,
    readonly amount: number,
    readonly advanceDays: number,
  ) {}
  check = () => true
  async run(m: Model, r: Real): Promise<void> {
    m.now += this.advanceDays * DAY
    r.clock.set(new Date(m.now))
    const orderId = `o${m.orders.size + 1}`
    const send = () =>
      r.ledger.earnForOrder({
        memberId: this.member,
        orderId,
        amount: String(this.amount),
        channel: 'web',
        idempotencyKey: `earn-${orderId}`,
      })
    const result = await send()
    const points = this.amount
    let bucket: ModelBucket | null = null
    if (points > 0) {
      const pay = Math.min(points, m.debt[this.member])
      m.debt[this.member] -= pay
      bucket = {
        seq: m.seq++,
        order: orderId,
        expires: m.now + 30 * DAY,
        points,
        remaining: points - pay,
        expired: 0,
      }
      m.buckets[this.member].push(bucket)
      m.balance[this.member] += points
    }
    m.orders.set(orderId, {
      member: this.member,
      net: this.amount,
      earned: points,
      returned: 0,
      reversed: 0,
      bucket,
    })
    expect(result.points).toBe(points)
    m.done.push({ send, result, member: this.member })
    await checkMember(m, r, this.member)
  }
  toString = () => `earn(${this.member}, ${this.amount}, +${this.advanceDays}d)`
}

class Redeem implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly member: MemberId,
    readonly points: number,
  ) {}
  check = () => true
  async run(m: Model, r: Real): Promise<void> {
    const key = `redeem-${r.keys++}`
    const send = () =>
      r.ledger.redeem({ memberId: this.member, points: this.points, idempotencyKey: key })
    const buckets = open(m, this.member)
    const available = buckets.reduce((s, b) => s + b.remaining, 0)
    if (available < this.points) {
      await expect(send()).rejects.toBeInstanceOf(InsufficientPointsError)
    } else {
      const result = await send()
      take(buckets, this.points)
      m.balance[this.member] -= this.points
      expect(result.balance).toBe(m.balance[this.member])
      m.done.push({ send, result, member: this.member })
    }
    await checkMember(m, r, this.member)
  }
  toString = () => `redeem(${this.member}, ${this.points})`
}

class Expire implements fc.AsyncCommand<Model, Real> {
  constructor(readonly advanceDays: number) {}
  check = () => true
  async run(m: Model, r: Real): Promise<void> {
    m.now += this.advanceDays * DAY
    r.clock.set(new Date(m.now))
    await r.ledger.expireDue(new Date(m.now))
    for (const member of MEMBERS) {
      for (const b of m.buckets[member]) {
        if (b.expires <= m.now && b.remaining > 0) {
          m.balance[member] -= b.remaining
          b.expired += b.remaining
          b.remaining = 0
        }
      }
      await checkMember(m, r, member)
    }
  }
  toString = () => `expire(+${this.advanceDays}d)`
}

class Reverse implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly orderPick: number,
    readonly quarters: number,
  ) {}
  check = (m: Readonly<Model>) => m.orders.size > 0
  async run(m: Model, r: Real): Promise<void> {
    const orderId = `o${(this.orderPick % m.orders.size) + 1}`
    const o = m.orders.get(orderId) as ModelOrder
    const amount = Math.min(o.net - o.returned, Math.ceil((o.net * this.quarters) / 4))
    if (amount <= 0) return
    const key = `return-${r.keys++}`
    const send = () =>
      r.ledger.reverseForReturn({
        returnId: key,
        orderId,
        amount: String(amount),
        idempotencyKey: key,
      })
    const result = await send()
    o.returned += amount
    const target = o.returned >= o.net ? o.earned : Math.floor((o.earned * o.returned) / o.net)
    const expired = o.bucket?.expired ?? 0
    const points = Math.max(0, Math.min(target, o.earned - expired) - o.reversed)
    o.reversed += points
    if (points > 0) {
      const all = open(m, o.member)
      const own = all.filter((b) => b === o.bucket)
      const others = all.filter((b) => b !== o.bucket)
      const taken = take([...own, ...others], points)
      m.debt[o.member] += points - taken
      m.balance[o.member] -= points
    }
    expect(result.points).toBe(-points)
    m.done.push({ send, result, member: o.member })
    await checkMember(m, r, o.member)
  }
  toString = () => `reverse(#${this.orderPick}, ${this.quarters}/4)`
}

class Repeat implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.done.length > 0
  async run(m: Model, r: Real): Promise<void> {
    const d = m.done[this.pick % m.done.length] as Model['done'][number]
    const again = await d.send()
    expect(again).toEqual({ ...d.result, replayed: true })
    await checkMember(m, r, d.member)
  }
  toString = () => `repeat(#${this.pick})`
}

const member = fc.constantFrom(...MEMBERS)
const commands = [
  fc
    .tuple(member, fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 12 }))
    .map(([a, b, c]) => new Earn(a, b, c)),
  fc.tuple(member, fc.integer({ min: 1, max: 300 })).map(([a, b]) => new Redeem(a, b)),
  fc.integer({ min: 0, max: 20 }).map((d) => new Expire(d)),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 4 })).map(([a, b]) => new Reverse(a, b)),
  fc.nat().map((p) => new Repeat(p)),
]

describe('ledger model-based property test (PGlite)', () => {
  let store: LedgerStore
  beforeAll(async () => {
    store = await openTestStore('pglite')
  })
  afterAll(async () => {
    await store?.close()
  })

  it('keeps balance = Σ entries, never negative except by return debt, and replays idempotently', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 25 }), async (cmds) => {
        await resetStore(store)
        const clock = movableClock(T0)
        const ledger = new Ledger(store, program, { clock })
        for (const m of MEMBERS) await ledger.enroll({ memberId: m, idempotencyKey: `enroll-${m}` })
        const model: Model = {
          now: T0.getTime(),
          seq: 0,
          balance: { a: 0, b: 0 },
          debt: { a: 0, b: 0 },
          buckets: { a: [], b: [] },
          orders: new Map(),
          done: [],
        }
        await fc.asyncModelRun(() => ({ model, real: { ledger, clock, store, keys: 0 } }), cmds)
      }),
      { numRuns: 30, seed: Number(process.env['FC_SEED'] ?? 20_261_101) },
    )
  })
})
