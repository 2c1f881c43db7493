/**
 * The loyalty rules over one member's history, in memory and without I/O: given the program, the shared jobs
 * (the expiry run at the start of every day the history crosses, the tier review at the start of every review
 * period) and a member's events in time order — orders, the points paid in them, returns, check-ins and
 * reviews — it computes the rows the live ledger writes for them (entries, buckets, allocations, orders,
 * returns, tier changes, the account and the stored request results under the live keys), in the live
 * ledger's table layout. The bulk replay feeds it members from the member database and writes its rows with
 * `COPY`; it is the first step towards one rules engine shared with the live service.
 *
 * Members are independent — every rule reads only the member's own history — so each member is replayed
 * alone, with the shared jobs applied at the points of the member's time line where the live replay runs them.
 * Surrogate ids (entry, bucket, change) are numbered member after member; within a member they are in the
 * live order.
 * @module
 */
import {
  InputError,
  InsufficientPointsError,
  LedgerConflictError,
  NotFoundError,
} from '../core/errors.js'
import {
  checkAmount,
  checkMember,
  checkSourceId,
  hashRequest,
  upgradeReason,
} from './ledger.service.js'
import type { Program, TierLevel } from './program.js'
import { compareDecimal, entryTier, findTier, scaleDecimal, unscaleDecimal } from './program.js'
import {
  availableFor,
  checkInPoints,
  cumulativeReversal,
  dayDiff,
  expiryFor,
  localDay,
  qualifyingTier,
  spendPoints,
  tierRank,
  windowStart,
} from './rules.js'

/** Keys of the live writes a replay sends, by event kind and source id. */
export const REPLAY_KEYS = {
  order: (id: string) => `order:${id}`,
  payment: (orderId: string) => `payment:${orderId}`,
  return: (id: string) => `return:${id}`,
  check_in: (id: string) => `check_in:${id}`,
  review: (id: string) => `product_review:${id}`,
} as const

/** Whether a refusal of a replayed event is an answer about the data (counted), not a failure (thrown). */
export function isRefusal(error: unknown): error is Error {
  return (
    error instanceof InputError ||
    error instanceof NotFoundError ||
    error instanceof LedgerConflictError ||
    error instanceof InsufficientPointsError
  )
}

interface Bucket {
  readonly id: number
  readonly entryId: number
  readonly orderId: string | null
  readonly earnedAt: number
  readonly availableAt: number
  readonly expiresAt: number | null
  readonly points: number
  remaining: number
  /** Points taken by expiry (a return does not claw these back a second time). */
  expired: number
}

interface Order {
  readonly orderId: string
  readonly orderedAt: number
  readonly net: bigint
  readonly netText: string
  readonly channel: string
  readonly earned: number
  readonly bucket: Bucket | null
  returned: bigint
  reversed: number
}

interface MemberState {
  readonly memberId: string
  readonly enrolledAt: number
  readonly birthday: string | null
  balance: number
  debt: number
  tier: string
  tierSince: number
  downgradeDueAt: number | null
  readonly buckets: Bucket[]
  readonly orders: Order[]
  /** earn and reverse entries (time, points), for the points-earned qualification. */
  readonly earned: Array<{ at: number; points: number }>
  /** Reversals not fully backed by buckets, oldest first (the debt). */
  readonly debits: Array<{ entryId: number; open: number }>
  capDay: string | null
  capEarned: number
  lastCheckIn: string | null
  checkInStreak: number
  /** Source ids (`review:<id>`) of the reviews that earned points, and the rewarded reviews of `reviewDay`. */
  readonly reviewSources: Set<string>
  reviewDay: string | null
  reviewCount: number
  /** Request hashes of the member's order and return keys: a repeated key is answered, not applied again. */
  readonly keys: Map<string, string>
}

/** A job every member sees at one point of the time line: the daily expiry run or the tier review. */
export interface ReplayJob {
  readonly kind: 'expire' | 'review'
  /** Time of the event that triggers it in the live replay (epoch ms). */
  readonly trigger: number
  /** The job's own time: the day start (expiry) or the period start (review). */
  readonly at: number
  readonly runKey: string
}

/** One event of a member's time line (`ts` in epoch milliseconds). */
export interface ReplayEvent {
  kind: string
  id: string
  orderId: string | null
  ts: number | bigint
  channel: string | null
  amount: string | null
}

/** Columns of one table being written, as arrays (one element per row). */
export class Rows {
  readonly cols: unknown[][]
  constructor(readonly width: number) {
    this.cols = Array.from({ length: width }, () => [])
  }
  push(...values: unknown[]): void {
    for (let i = 0; i < this.width; i++) (this.cols[i] as unknown[]).push(values[i])
  }
  get length(): number {
    return (this.cols[0] as unknown[]).length
  }
  clear(): void {
    for (const c of this.cols) c.length = 0
  }
}

export const iso = (ms: number) => new Date(ms).toISOString()
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms))

/** The target tables and their columns, in foreign-key order. */
export const LEDGER_ROW_TABLES = {
  accounts: {
    table: 'ledger_accounts',
    columns: [
      'member_id',
      'enrolled_at',
      'birthday',
      'balance',
      'debt',
      'tier',
      'tier_since',
      'downgrade_due_at',
      'last_check_in',
      'check_in_streak',
      'updated_at',
    ],
  },
  entries: {
    table: 'ledger_entries',
    columns: [
      'entry_id',
      'member_id',
      'kind',
      'points',
      'occurred_at',
      'recorded_at',
      'reason',
      'source_type',
      'source_id',
      'idempotency_key',
    ],
  },
  buckets: {
    table: 'ledger_buckets',
    columns: [
      'bucket_id',
      'member_id',
      'entry_id',
      'order_id',
      'earned_at',
      'available_at',
      'expires_at',
      'points',
      'remaining',
    ],
  },
  allocations: {
    table: 'ledger_allocations',
    columns: ['entry_id', 'bucket_id', 'points'],
  },
  orders: {
    table: 'ledger_orders',
    columns: [
      'order_id',
      'member_id',
      'ordered_at',
      'channel',
      'net_amount',
      'earned_points',
      'bucket_id',
      'returned_amount',
      'reversed_points',
    ],
  },
  returns: {
    table: 'ledger_returns',
    columns: ['return_id', 'order_id', 'amount', 'returned_at', 'reversed_points'],
  },
  changes: {
    table: 'ledger_tier_changes',
    columns: ['change_id', 'member_id', 'from_tier', 'to_tier', 'kind', 'changed_at', 'reason'],
  },
  requests: {
    table: 'ledger_requests',
    columns: ['idempotency_key', 'member_id', 'operation', 'request_hash', 'result', 'created_at'],
  },
} as const
export type LedgerRowTable = keyof typeof LEDGER_ROW_TABLES

/** A member as the engine enrolls them (`enrolledAt` in epoch milliseconds; birthday YYYY-MM-DD). */
export interface ReplayMember {
  readonly memberId: string
  readonly enrolledAt: number
  readonly birthday: string | null
}

export interface ReplayEngineOptions {
  /** How many refusal reasons to keep (default 20; in member order). */
  readonly reasons?: number
}

/**
 * A rules engine over `program` for members replayed one after the other; `now` is the recording time of every
 * row, `jobs` the shared jobs sorted by trigger (at one trigger the expiry run before the review). Rows
 * accumulate in `rows` (a caller takes a table's rows by replacing it with an empty one) until written.
 */
export function createReplayEngine(
  program: Program,
  now: Date,
  jobs: readonly ReplayJob[],
  options: ReplayEngineOptions = {},
) {
  const nowIso = now.toISOString()
  const entry = entryTier(program)
  const counts = {
    members: 0,
    orders: 0,
    returns: 0,
    checkIns: 0,
    reviewBonuses: 0,
    redemptions: 0,
    redeemedPoints: 0,
    refusedRedemptions: 0,
    refusedRedemptionPoints: 0,
    skipped: 0,
    expiryRuns: 0,
    reviews: 0,
  }
  const skippedReasons: string[] = []
  const expiryRunTimes = new Set<number>()
  const expireJobs = jobs.map((j, i) => ({ j, i })).filter((x) => x.j.kind === 'expire')
  const reviewJobIndexes = jobs.flatMap((j, i) => (j.kind === 'review' ? [i] : []))

  const rows: Record<LedgerRowTable, Rows> = {
    accounts: new Rows(11),
    entries: new Rows(10),
    buckets: new Rows(9),
    allocations: new Rows(3),
    orders: new Rows(9),
    returns: new Rows(5),
    changes: new Rows(7),
    requests: new Rows(6),
  }
  let nextEntry = 1
  let nextBucket = 1
  let nextChange = 1

  const request = (
    key: string,
    memberId: string,
    operation: string,
    req: unknown,
    result: Record<string, unknown>,
    hash: string = hashRequest({ operation, memberId, request: req }),
  ) => {
    rows.requests.push(key, memberId, operation, hash, JSON.stringify(result), nowIso)
  }
  /**
   * Claims the key for the request: its hash when the key is new; null when the key was used before with the
   * same request (nothing to do); a conflict when it differs.
   */
  const claim = (m: MemberState, key: string, operation: string, req: unknown): string | null => {
    const hash = hashRequest({ operation, memberId: m.memberId, request: req })
    const prior = m.keys.get(key)
    if (prior === undefined) {
      m.keys.set(key, hash)
      return hash
    }
    if (prior === hash) return null
    throw new LedgerConflictError(
      `idempotency key ${key} was already used for a different request (${operation} for member ${m.memberId})`,
    )
  }
  const tierChange = (
    m: MemberState,
    from: string | null,
    to: string,
    kind: string,
    at: number,
    reason: string,
  ) => {
    rows.changes.push(nextChange++, m.memberId, from, to, kind, iso(at), reason)
  }
  const newEntry = (
    m: MemberState,
    kind: string,
    points: number,
    at: number,
    reason: string,
    sourceType: string,
    sourceId: string | null,
    key: string,
  ): number => {
    const id = nextEntry++
    rows.entries.push(
      id,
      m.memberId,
      kind,
      points,
      iso(at),
      nowIso,
      reason,
      sourceType,
      sourceId,
      key,
    )
    return id
  }
  const allocations = new Map<string, number>()
  const allocate = (entryId: number, bucket: Bucket, points: number) => {
    if (points > bucket.remaining)
      throw new Error(`bucket ${bucket.id} has fewer than ${points} points left`)
    bucket.remaining -= points
    const k = `${entryId}:${bucket.id}`
    allocations.set(k, (allocations.get(k) ?? 0) + points)
  }
  const consumeFrom = (entryId: number, buckets: readonly Bucket[], points: number): number => {
    let left = points
    for (const b of buckets) {
      if (left === 0) break
      const take = Math.min(left, b.remaining)
      if (take <= 0) continue
      allocate(entryId, b, take)
      left -= take
    }
    return points - left
  }

  /** Net spend, orders not fully returned and net points earned in [from, to). */
  const figures = (m: MemberState, from: number, to: number) => {
    let spend = 0n
    let orders = 0
    let points = 0
    for (const o of m.orders) {
      if (o.orderedAt < from || o.orderedAt >= to) continue
      spend += o.net - o.returned
      if (o.returned < o.net) orders++
    }
    for (const e of m.earned) if (e.at >= from && e.at < to) points += e.points
    return { spend, orders, points }
  }
  const qualification = (m: MemberState, at: number) => {
    const f = figures(m, windowStart(program, new Date(at)).getTime(), at + 1)
    const basis = program.tiers.basis
    const value =
      basis === 'spend'
        ? unscaleDecimal(f.spend)
        : basis === 'orders'
          ? String(f.orders)
          : String(Math.max(0, f.points))
    return { basis, value, tier: qualifyingTier(program, scaleDecimal(value)) }
  }

  const runExpiry = (m: MemberState, at: number) => {
    const due = m.buckets
      .filter((b) => b.remaining > 0 && b.expiresAt !== null && b.expiresAt <= at)
      .sort((a, b) => (a.expiresAt as number) - (b.expiresAt as number) || a.id - b.id)
    if (due.length === 0) return
    expiryRunTimes.add(at)
    const key = `expire:${m.memberId}:${iso(at)}`
    const points = due.reduce((s, b) => s + b.remaining, 0)
    const entryId = newEntry(m, 'expire', -points, at, 'points expired', 'system', null, key)
    for (const b of due) {
      b.expired += b.remaining
      allocate(entryId, b, b.remaining)
    }
    m.balance -= points
    request(
      key,
      m.memberId,
      'expire',
      { at: new Date(at) },
      {
        memberId: m.memberId,
        entryId,
        points: -points,
        balance: m.balance,
        tier: m.tier,
        details: { buckets: due.length },
      },
    )
  }

  const runReview = (m: MemberState, job: ReplayJob) => {
    const at = job.at
    const q = qualification(m, at)
    const current = tierRank(program, m.tier)
    const qualified = tierRank(program, q.tier.id)
    const figure = `${q.basis} ${q.value} in the ${program.tiers.window_months} months to ${iso(at).slice(0, 10)}`
    let decision: string
    const from = m.tier
    if (qualified > current) {
      decision = 'upgrade'
      tierChange(m, from, q.tier.id, 'upgrade', at, `${figure} reached ${q.tier.id}`)
      m.tier = q.tier.id
      m.tierSince = at
      m.downgradeDueAt = null
    } else if (qualified === current) {
      if (m.downgradeDueAt === null) return
      decision = 'grace_cleared'
      tierChange(m, from, from, 'grace_cleared', at, `${figure} keeps ${m.tier}`)
      m.downgradeDueAt = null
    } else {
      const threshold = findTier(program, m.tier)?.threshold ?? '?'
      if (m.downgradeDueAt === null && program.tiers.grace_days > 0) {
        const due = at + program.tiers.grace_days * 86_400_000
        decision = 'grace_started'
        tierChange(
          m,
          from,
          from,
          'grace_started',
          at,
          `${figure} is below ${m.tier} (${threshold}); downgrade due ${iso(due).slice(0, 10)}`,
        )
        m.downgradeDueAt = due
      } else if (m.downgradeDueAt === null || at >= m.downgradeDueAt) {
        decision = 'downgrade'
        tierChange(
          m,
          from,
          q.tier.id,
          'downgrade',
          at,
          `${figure} is below ${m.tier} (${threshold}) after the grace period`,
        )
        m.tier = q.tier.id
        m.tierSince = at
        m.downgradeDueAt = null
      } else {
        return
      }
    }
    request(
      `${job.runKey}:${m.memberId}`,
      m.memberId,
      'tier_review',
      { at: new Date(at) },
      {
        memberId: m.memberId,
        entryId: null,
        points: 0,
        balance: m.balance,
        tier: m.tier,
        details: { decision },
      },
    )
  }

  /** Applies the shared jobs from `state.next` up to (not including) job index `limit`. */
  const runJobs = (m: MemberState, state: { next: number }, limit: number) => {
    while (state.next < limit) {
      // Only two kinds of job can change the member: the next review, and the first expiry run at or after the
      // member's earliest open expiry. Every job in between is a no-op for this member.
      let earliest = Infinity
      for (const b of m.buckets)
        if (b.remaining > 0 && b.expiresAt !== null && b.expiresAt < earliest)
          earliest = b.expiresAt
      let target = limit
      const r = reviewJobIndexes.find((i) => i >= state.next)
      if (r !== undefined && r < target) target = r
      if (earliest !== Infinity) {
        let lo = 0
        let hi = expireJobs.length
        while (lo < hi) {
          const mid = (lo + hi) >> 1
          if ((expireJobs[mid] as { j: ReplayJob }).j.at < earliest) lo = mid + 1
          else hi = mid
        }
        // The first run at or after the earliest expiry that is still ahead of the member.
        while (lo < expireJobs.length && (expireJobs[lo] as { i: number }).i < state.next) lo++
        const x = expireJobs[lo]
        if (x !== undefined && x.i < target) target = x.i
      }
      if (target >= limit) {
        state.next = limit
        return
      }
      const job = jobs[target] as ReplayJob
      if (job.kind === 'expire') runExpiry(m, job.at)
      else runReview(m, job)
      state.next = target + 1
    }
  }

  const skip = (e: Pick<ReplayEvent, 'kind' | 'id' | 'amount'>, error: unknown) => {
    if (!isRefusal(error)) throw error
    const { kind, id } = e
    counts.skipped++
    if (kind === 'payment' && error instanceof InsufficientPointsError) {
      counts.refusedRedemptions++
      counts.refusedRedemptionPoints += Number(e.amount)
    }
    if (skippedReasons.length < (options.reasons ?? 20))
      skippedReasons.push(`${kind} ${id}: ${error.message}`)
  }

  /** The points left under the per-day cap (all earn kinds) of the member's local day at `at`. */
  const dailyCap = (m: MemberState, at: number, points: number): number => {
    const cap = program.earn.caps.per_day
    const day = localDay(program, new Date(at))
    if (m.capDay !== day) {
      m.capDay = day
      m.capEarned = 0
    }
    return cap !== undefined && points > 0
      ? Math.max(0, Math.min(points, cap - m.capEarned))
      : points
  }

  /** Writes an earn entry and its bucket, paying the oldest unsettled debits first (the live `credit`). */
  const credit = (
    m: MemberState,
    points: number,
    at: number,
    reason: string,
    sourceType: string,
    sourceId: string | null,
    key: string,
    orderId: string | null,
    o: { availableAt: number },
  ): { entryId: number; bucket: Bucket } => {
    const entryId = newEntry(m, 'earn', points, at, reason, sourceType, sourceId, key)
    const expiresAt = expiryFor(program, new Date(at))
    const bucket: Bucket = {
      id: nextBucket++,
      entryId,
      orderId,
      earnedAt: at,
      availableAt: o.availableAt,
      expiresAt: expiresAt === null ? null : expiresAt.getTime(),
      points,
      remaining: points,
      expired: 0,
    }
    m.buckets.push(bucket)
    m.earned.push({ at, points })
    m.capEarned += points
    if (m.debt > 0) {
      let left = Math.min(m.debt, points)
      while (left > 0 && m.debits.length > 0) {
        const debit = m.debits[0] as { entryId: number; open: number }
        const take = Math.min(left, debit.open)
        allocate(debit.entryId, bucket, take)
        debit.open -= take
        if (debit.open === 0) m.debits.shift()
        left -= take
        m.debt -= take
      }
    }
    m.balance += points
    return { entryId, bucket }
  }

  /** An immediate upgrade when the qualification at `at` reaches a higher tier; the new tier or null. */
  const maybeUpgrade = (m: MemberState, at: number): string | null => {
    const q = qualification(m, at)
    if (tierRank(program, q.tier.id) <= tierRank(program, m.tier)) return null
    tierChange(
      m,
      m.tier,
      q.tier.id,
      'upgrade',
      at,
      upgradeReason(program, q.basis, q.value, new Date(at), q.tier),
    )
    m.tier = q.tier.id
    m.tierSince = at
    m.downgradeDueAt = null
    return q.tier.id
  }

  /** A check-in or review bonus (the live `earnBonus`): refusals change nothing. */
  const bonus = (m: MemberState, e: ReplayEvent, at: number) => {
    const kind = e.kind === 'check_in' ? 'check_in' : 'review'
    const sourceId = kind === 'review' ? checkSourceId('sourceId', e.id) : undefined
    const rule = program.earn[kind]
    if (!rule)
      throw InputError.single({
        field: 'kind',
        value: kind,
        reason: 'the program has no such earn rule',
      })
    const key = REPLAY_KEYS[kind](e.id)
    const when = new Date(at)
    const hash = claim(m, key, 'earn_bonus', { kind, sourceId, at: when })
    if (hash === null) return
    const day = localDay(program, when)
    let points: number
    let source: string
    let streak: number | null = null
    if (kind === 'check_in') {
      if (m.lastCheckIn === day)
        throw new LedgerConflictError(`member ${m.memberId} already checked in on ${day}`)
      if (m.lastCheckIn !== null && m.lastCheckIn > day) {
        throw InputError.single({
          field: 'at',
          value: day,
          reason: `before the last check-in (${m.lastCheckIn})`,
        })
      }
      streak = m.lastCheckIn !== null && dayDiff(m.lastCheckIn, day) === 1 ? m.checkInStreak + 1 : 1
      points = checkInPoints(program, streak)
      source = `check_in:${day}`
    } else {
      source = `review:${sourceId}`
      if (m.reviewSources.has(source))
        throw new LedgerConflictError(`review ${sourceId} has already earned points`)
      const max = program.earn.review?.max_per_day
      if (max !== undefined && m.reviewDay === day && m.reviewCount >= max) {
        throw new LedgerConflictError(
          `member ${m.memberId} reached the ${max} rewarded reviews of ${day}`,
        )
      }
      points = program.earn.review?.points ?? 0
    }
    points = dailyCap(m, at, points)
    if (streak !== null) {
      m.lastCheckIn = day
      m.checkInStreak = streak
    }
    let entryId: number | null = null
    if (points > 0) {
      ;({ entryId } = credit(m, points, at, kind, 'rule', source, key, null, { availableAt: at }))
      if (kind === 'review') {
        m.reviewSources.add(source)
        if (m.reviewDay !== day) {
          m.reviewDay = day
          m.reviewCount = 0
        }
        m.reviewCount++
      }
    }
    const upgradedTo = program.tiers.basis === 'points_earned' ? maybeUpgrade(m, at) : null
    request(
      key,
      m.memberId,
      'earn_bonus',
      { kind, sourceId, at: when },
      {
        memberId: m.memberId,
        entryId,
        points,
        balance: m.balance,
        tier: m.tier,
        details: { kind, source, upgradedTo, streak },
      },
      hash,
    )
    if (kind === 'check_in') counts.checkIns++
    else counts.reviewBonuses++
  }

  /** The points paid in an order (the live `redeem` with `points` and `orderId`): refusals change nothing. */
  const redeem = (m: MemberState, e: ReplayEvent, at: number) => {
    const cost = Number(e.amount)
    if (!Number.isSafeInteger(cost) || cost <= 0) {
      throw InputError.single({
        field: 'points',
        value: String(e.amount),
        reason: 'points must be a positive whole number',
      })
    }
    const channel = e.channel === null ? null : checkSourceId('channel', e.channel)
    const orderId = checkSourceId('orderId', e.id)
    const key = REPLAY_KEYS.payment(orderId)
    const when = new Date(at)
    const input = { rewardId: null, quantity: 1, cost, channel, at: when, orderId }
    const hash = claim(m, key, 'redeem', input)
    if (hash === null) return
    const spendable = m.buckets
      .filter(
        (b) => b.remaining > 0 && (b.expiresAt === null || b.expiresAt > at) && b.availableAt <= at,
      )
      .sort((a, b) => (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity) || a.id - b.id)
    const available = spendable.reduce((n, b) => n + b.remaining, 0)
    if (available < cost) {
      throw new InsufficientPointsError(
        `member ${m.memberId} has ${available} spendable points; ${cost} needed`,
      )
    }
    const entryId = newEntry(
      m,
      'redeem',
      -cost,
      at,
      `payment for order ${orderId}`,
      'redemption',
      orderId,
      key,
    )
    consumeFrom(entryId, spendable, cost)
    m.balance -= cost
    request(
      key,
      m.memberId,
      'redeem',
      input,
      {
        memberId: m.memberId,
        entryId,
        points: -cost,
        balance: m.balance,
        tier: m.tier,
        details: { rewardId: null, quantity: 1, channel, orderId },
      },
      hash,
    )
    counts.redemptions++
    counts.redeemedPoints += cost
  }

  const earn = (m: MemberState, e: ReplayEvent, at: number, ordersById: Map<string, Order>) => {
    const orderId = checkSourceId('orderId', e.id)
    const amount = checkAmount('amount', e.amount)
    const channel = checkSourceId('channel', e.channel ?? 'unknown')
    const key = `order:${e.id}`
    const orderedAt = new Date(at)
    const input = { orderId, amount, channel, lines: [], at: orderedAt }
    const hash = claim(m, key, 'earn_order', input)
    if (hash === null) return
    if (ordersById.has(orderId)) {
      throw new LedgerConflictError(
        `order ${orderId} has already earned points (under another idempotency key)`,
      )
    }
    const tier = (findTier(program, m.tier) ?? entry) as TierLevel
    const sp = spendPoints(program, tier, { amount, channel, orderedAt, lines: [] })
    const points = dailyCap(m, at, sp.points)
    let entryId: number | null = null
    let bucket: Bucket | null = null
    if (points > 0) {
      const reason = sp.campaignId ? `spend (campaign ${sp.campaignId})` : 'spend'
      ;({ entryId, bucket } = credit(m, points, at, reason, 'order', orderId, key, orderId, {
        availableAt: availableFor(program, orderedAt).getTime(),
      }))
    }
    const order: Order = {
      orderId,
      orderedAt: at,
      net: scaleDecimal(amount),
      netText: amount,
      channel,
      earned: points,
      bucket,
      returned: 0n,
      reversed: 0,
    }
    m.orders.push(order)
    ordersById.set(orderId, order)
    const upgradedTo = maybeUpgrade(m, at)
    request(
      key,
      m.memberId,
      'earn_order',
      input,
      {
        memberId: m.memberId,
        entryId,
        points,
        balance: m.balance,
        tier: m.tier,
        details: { orderId, uncapped: sp.uncapped, campaign: sp.campaignId, upgradedTo },
      },
      hash,
    )
  }

  const reverse = (m: MemberState, e: ReplayEvent, at: number, ordersById: Map<string, Order>) => {
    const returnId = checkSourceId('returnId', e.id)
    const orderId = checkSourceId('orderId', e.orderId)
    const amount = checkAmount('amount', e.amount)
    const o = ordersById.get(orderId)
    if (!o) throw new NotFoundError(`unknown order ${orderId} (it never earned points)`)
    const key = `return:${returnId}`
    const input = { returnId, orderId, amount, at: new Date(at) }
    const hash = claim(m, key, 'reverse', input)
    if (hash === null) return
    const returned = o.returned + scaleDecimal(amount)
    if (compareDecimal(unscaleDecimal(returned), o.netText) > 0) {
      throw InputError.single({
        field: 'amount',
        value: amount,
        reason: `returns of order ${orderId} would exceed its net amount ${o.netText} (${unscaleDecimal(o.returned)} already returned)`,
      })
    }
    const target = cumulativeReversal(program, o.earned, o.netText, unscaleDecimal(returned))
    const expired = o.bucket === null ? 0 : o.bucket.expired
    const points = Math.max(0, Math.min(target, o.earned - expired) - o.reversed)
    let entryId: number | null = null
    if (points > 0) {
      entryId = newEntry(
        m,
        'reverse',
        -points,
        at,
        `return ${returnId} of order ${orderId}`,
        'return',
        returnId,
        key,
      )
      m.earned.push({ at, points: -points })
      const open = m.buckets
        .filter((b) => b.remaining > 0 && (b.expiresAt === null || b.expiresAt > at))
        .sort((a, b) => (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity) || a.id - b.id)
      const own = open.filter((b) => b === o.bucket)
      const others = open.filter((b) => b !== o.bucket)
      const taken = consumeFrom(entryId, [...own, ...others], points)
      m.balance -= points
      m.debt += points - taken
      if (points - taken > 0) m.debits.push({ entryId, open: points - taken })
    }
    o.returned = returned
    o.reversed += points
    rows.returns.push(returnId, orderId, amount, iso(at), points)
    request(
      key,
      m.memberId,
      'reverse',
      input,
      {
        memberId: m.memberId,
        entryId,
        points: -points,
        balance: m.balance,
        tier: m.tier,
        details: { returnId, orderId, debt: m.debt },
      },
      hash,
    )
  }

  const finish = (m: MemberState) => {
    rows.accounts.push(
      m.memberId,
      iso(m.enrolledAt),
      m.birthday,
      m.balance,
      m.debt,
      m.tier,
      iso(m.tierSince),
      isoOrNull(m.downgradeDueAt),
      m.lastCheckIn,
      m.checkInStreak,
      nowIso,
    )
    for (const b of m.buckets) {
      rows.buckets.push(
        b.id,
        m.memberId,
        b.entryId,
        b.orderId,
        iso(b.earnedAt),
        iso(b.availableAt),
        isoOrNull(b.expiresAt),
        b.points,
        b.remaining,
      )
    }
    for (const o of m.orders) {
      rows.orders.push(
        o.orderId,
        m.memberId,
        iso(o.orderedAt),
        o.channel,
        o.netText,
        o.earned,
        o.bucket?.id ?? null,
        unscaleDecimal(o.returned),
        o.reversed,
      )
    }
  }

  /** Enrolls the member and applies their events (in time order) and the shared jobs; refusals are counted. */
  const replayMember = (member: ReplayMember, events: readonly ReplayEvent[]) => {
    const memberId = checkMember(member.memberId)
    const enrolledAt = member.enrolledAt
    const birthday = member.birthday ? member.birthday : null
    if (
      birthday !== null &&
      (!/^\d{4}-\d{2}-\d{2}$/.test(birthday) || Number.isNaN(Date.parse(birthday)))
    ) {
      throw InputError.single({
        field: 'birthday',
        value: birthday,
        reason: 'expected YYYY-MM-DD',
      })
    }
    const m: MemberState = {
      memberId,
      enrolledAt,
      birthday,
      balance: 0,
      debt: 0,
      tier: entry.id,
      tierSince: enrolledAt,
      downgradeDueAt: null,
      buckets: [],
      orders: [],
      earned: [],
      debits: [],
      capDay: null,
      capEarned: 0,
      lastCheckIn: null,
      checkInStreak: 0,
      reviewSources: new Set(),
      reviewDay: null,
      reviewCount: 0,
      keys: new Map(),
    }
    tierChange(m, null, entry.id, 'enroll', enrolledAt, 'enrolled in the entry tier')
    request(
      `enroll:${memberId}`,
      memberId,
      'enroll',
      { birthday, at: new Date(enrolledAt) },
      {
        memberId,
        entryId: null,
        points: 0,
        balance: 0,
        tier: entry.id,
        details: { created: true },
      },
    )
    counts.members++
    const state = { next: 0 }
    const ordersById = new Map<string, Order>()
    for (const e of events) {
      const at = Number(e.ts)
      let limit = state.next
      while (limit < jobs.length && (jobs[limit] as ReplayJob).trigger <= at) limit++
      runJobs(m, state, limit)
      try {
        switch (e.kind) {
          case 'order':
            earn(m, e, at, ordersById)
            counts.orders++
            break
          case 'payment':
            redeem(m, e, at)
            break
          case 'return':
            reverse(m, e, at, ordersById)
            counts.returns++
            break
          case 'check_in':
          case 'review':
            bonus(m, e, at)
            break
          default:
            throw new Error(`unknown history event kind ${e.kind}`)
        }
      } catch (error) {
        skip(e, error)
      }
    }
    runJobs(m, state, jobs.length)
    finish(m)
  }

  /** Moves the allocations gathered so far into `rows.allocations` (one row per debit and bucket). */
  const drainAllocations = () => {
    for (const [k, v] of allocations) {
      const [entryId, bucketId] = k.split(':')
      rows.allocations.push(Number(entryId), Number(bucketId), v)
    }
    allocations.clear()
  }

  return {
    rows,
    counts,
    skippedReasons,
    /** The distinct times of the expiry runs that expired points. */
    expiryRunTimes,
    replayMember,
    /** Counts the refusal of an event that belongs to no member replayed here. */
    skip,
    drainAllocations,
    /** The next surrogate ids (each table's sequence continues from them). */
    nextIds: () => ({ entry: nextEntry, bucket: nextBucket, change: nextChange }),
  }
}
