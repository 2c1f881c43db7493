/**
 * The loyalty rules engine — the one implementation of the program's rules, without I/O.
 *
 * Its first half is the rules as pure functions of the program and the facts they need: what an order or a
 * bonus earns (multipliers, per-order and per-day caps, pending period, expiry date), how a redemption, an
 * expiry run or a return takes points from the buckets (and how a return's claw-back is computed and a debt
 * paid), the tier qualification, immediate upgrades and the periodic review with its grace period. The live
 * service (`ledger.service.ts`, `tiers.service.ts`) reads those facts from its store under the member's lock,
 * asks these functions, and writes what they decide.
 *
 * Its second half is a member engine over the same functions: given the program, the shared jobs (the expiry
 * run at the start of every day the history crosses, the tier review at the start of every review period) and
 * a member's events in time order — orders, the points paid in them, returns, check-ins and reviews — it keeps
 * the member's state in memory and computes the rows the live ledger writes for them (entries, buckets,
 * allocations, orders, returns, tier changes, the account and the stored request results under the live keys),
 * in the live ledger's table layout. The bulk replay (`bulk-replay.ts`) feeds it members and writes its rows
 * with `COPY`.
 *
 * Members are independent — every rule reads only the member's own history — so each member is replayed
 * alone, with the shared jobs applied at the points of the member's time line where the live replay runs them.
 * Surrogate ids (entry, bucket, change) are numbered member after member; within a member they are in the
 * live order.
 * @module
 */
import { createHash } from 'node:crypto'
import {
  InputError,
  InsufficientPointsError,
  LedgerConflictError,
  NotFoundError,
} from '../core/errors.js'
import type { Program, TierLevel } from './program.js'
import {
  AMOUNT_RE,
  compareDecimal,
  entryTier,
  findTier,
  scaleDecimal,
  unscaleDecimal,
} from './program.js'
import {
  activeCampaign,
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
  type SpendInput,
} from './rules.js'

// ---------------------------------------------------------------------------------------------------------------
// The rules. Each is a pure function of the program and the facts it needs; the member engine below keeps those
// facts in memory, the live service reads them from its store under the member's lock. Both decide only here.
// ---------------------------------------------------------------------------------------------------------------

/** Member ids as the analytics store writes them (numbers) or any similar opaque id. */
export const MEMBER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/
const SOURCE_ID_RE = /^[^\s\p{Cc}][^\p{Cc}]{0,127}$/u

/** The hash stored with an idempotency key: the operation, the member and the normalised request. */
export function hashRequest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex')
}

export function checkMember(memberId: unknown): string {
  if (typeof memberId !== 'string' || !MEMBER_ID_RE.test(memberId)) {
    throw InputError.single({
      field: 'memberId',
      value: String(memberId),
      reason: 'malformed member id',
    })
  }
  return memberId
}

export function checkSourceId(field: string, v: unknown): string {
  if (typeof v !== 'string' || !SOURCE_ID_RE.test(v)) {
    throw InputError.single({
      field,
      value: String(v),
      reason: 'expected a non-empty id (≤128 characters)',
    })
  }
  return v
}

export function checkAmount(field: string, v: unknown): string {
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : ''
  if (!AMOUNT_RE.test(s) || (typeof v === 'number' && !Number.isFinite(v))) {
    throw InputError.single({
      field,
      value: String(v),
      reason: 'expected a non-negative amount with at most 4 decimal places',
    })
  }
  return unscaleDecimal(scaleDecimal(s))
}

/** What an order earns: its spend points, capped per order and then per day and per year. */
export interface OrderEarn {
  readonly points: number
  /** Points before the per-order cap. */
  readonly uncapped: number
  readonly campaignId: string | null
  /** The entry's reason: `spend`, or `spend (campaign <id>)`. */
  readonly reason: string
}

/** Points a member has earned (all earn kinds, returns not netted) so far in a local day and a local year. */
export interface EarnedSoFar {
  /** In the local day of the earn. */
  readonly today: number
  /** In the local calendar year of the earn (read only when the program sets `caps.per_year`). */
  readonly year: number
}

/**
 * Points still allowed under the member caps (all earn kinds): the per-day cap after `earned.today` points that
 * local day, then the per-year cap after `earned.year` points that local calendar year.
 */
export function memberCapped(program: Program, points: number, earned: EarnedSoFar): number {
  if (points <= 0) return points
  const { per_day: day, per_year: year } = program.earn.caps
  let left = points
  if (day !== undefined) left = Math.min(left, day - earned.today)
  if (year !== undefined) left = Math.min(left, year - earned.year)
  return Math.max(0, left)
}

/** The earn of an order for a member in `tierId` who already earned `earned` points that local day and year. */
export function orderEarn(
  program: Program,
  tierId: string,
  input: SpendInput,
  earned: EarnedSoFar,
): OrderEarn {
  const tier = findTier(program, tierId) ?? entryTier(program)
  const sp = spendPoints(program, tier, input)
  return {
    points: memberCapped(program, sp.points, earned),
    uncapped: sp.uncapped,
    campaignId: sp.campaignId,
    reason: sp.campaignId ? `spend (campaign ${sp.campaignId})` : 'spend',
  }
}

/** When a new bucket's points become spendable (spend points wait the pending period) and when they expire. */
export function bucketTimes(
  program: Program,
  at: Date,
  spend: boolean,
): { availableAt: Date; expiresAt: Date | null } {
  return { availableAt: spend ? availableFor(program, at) : at, expiresAt: expiryFor(program, at) }
}

/**
 * How a new credit of `points` pays the member's `debt`: the oldest unsettled debits first, each allocated to
 * the new bucket for as much as is left.
 */
export function debtPayments(
  debits: readonly { readonly entryId: number; readonly open: number }[],
  debt: number,
  points: number,
): Array<{ entryId: number; points: number }> {
  const out: Array<{ entryId: number; points: number }> = []
  let left = Math.min(debt, points)
  for (const d of debits) {
    if (left <= 0) break
    const take = Math.min(left, d.open)
    if (take <= 0) continue
    out.push({ entryId: d.entryId, points: take })
    left -= take
  }
  return out
}

/** How `points` are taken from buckets in the given order: (bucket, points) pairs; their sum may fall short. */
export function consumption<B extends { readonly remaining: number }>(
  buckets: readonly B[],
  points: number,
): Array<[B, number]> {
  const out: Array<[B, number]> = []
  let left = points
  for (const b of buckets) {
    if (left === 0) break
    const take = Math.min(left, b.remaining)
    if (take <= 0) continue
    out.push([b, take])
    left -= take
  }
  return out
}

/** Open buckets in consumption order: earliest expiry first (never-expiring last), then oldest. */
export function consumptionOrder<
  B extends { readonly bucketId: number; readonly expiresAt: number | null },
>(buckets: readonly B[]): B[] {
  return [...buckets].sort(
    (a, b) => (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity) || a.bucketId - b.bucketId,
  )
}

/** The buckets a redemption of `cost` takes from (spendable, in consumption order), or a refusal. */
export function redemption<B extends { readonly remaining: number }>(
  memberId: string,
  spendable: readonly B[],
  cost: number,
): Array<[B, number]> {
  const available = spendable.reduce((n, b) => n + b.remaining, 0)
  if (available < cost) {
    throw new InsufficientPointsError(
      `member ${memberId} has ${available} spendable points; ${cost} needed`,
    )
  }
  return consumption(spendable, cost)
}

/** The buckets an expiry run at `at` empties, in expiry order, and the points it removes. */
export function expiryDue<
  B extends {
    readonly bucketId: number
    readonly remaining: number
    readonly expiresAt: number | null
  },
>(buckets: readonly B[], at: number): { due: B[]; points: number } {
  const due = consumptionOrder(
    buckets.filter((b) => b.remaining > 0 && b.expiresAt !== null && b.expiresAt <= at),
  )
  return { due, points: due.reduce((s, b) => s + b.remaining, 0) }
}

/** What an order looks like to a return: its net amount, what was returned and reversed, what expired. */
export interface ReturnedOrder {
  readonly orderId: string
  readonly netAmount: string
  readonly returnedAmount: string
  readonly earnedPoints: number
  readonly reversedPoints: number
  /** Points of the order's bucket taken by expiry (not clawed back a second time). */
  readonly expiredPoints: number
}

/**
 * The claw-back of a return of `amount`: the order's returned amount after it and the points to reverse now —
 * cumulatively round(earned × returned / net), less what expired and what earlier returns reversed. A return
 * above the order's net amount is refused.
 */
export function returnReversal(
  program: Program,
  o: ReturnedOrder,
  amount: string,
): { returned: string; points: number } {
  const returned = unscaleDecimal(scaleDecimal(o.returnedAmount) + scaleDecimal(amount))
  if (compareDecimal(returned, o.netAmount) > 0) {
    throw InputError.single({
      field: 'amount',
      value: amount,
      reason: `returns of order ${o.orderId} would exceed its net amount ${o.netAmount} (${o.returnedAmount} already returned)`,
    })
  }
  const target = cumulativeReversal(program, o.earnedPoints, o.netAmount, returned)
  const points = Math.max(0, Math.min(target, o.earnedPoints - o.expiredPoints) - o.reversedPoints)
  return { returned, points }
}

/** The order a reversal takes points from: the order's own bucket first, then the others as given. */
export function reversalOrder<B extends { readonly bucketId: number }>(
  open: readonly B[],
  ownBucketId: number | null,
): B[] {
  return [
    ...open.filter((b) => b.bucketId === ownBucketId),
    ...open.filter((b) => b.bucketId !== ownBucketId),
  ]
}

/** A member's qualification figures over a window: net spend (scaled), orders not fully returned, net points. */
export interface TierFigures {
  readonly spend: bigint
  readonly orders: number
  readonly points: number
}

export interface TierQualification {
  readonly basis: Program['tiers']['basis']
  /** The figure in the basis (spend as a decimal string, orders or points as an integer string). */
  readonly value: string
  readonly tier: TierLevel
}

/** The tier the figures qualify for — never the spendable balance. */
export function qualify(program: Program, f: TierFigures): TierQualification {
  const basis = program.tiers.basis
  const value =
    basis === 'spend'
      ? unscaleDecimal(f.spend)
      : basis === 'orders'
        ? String(f.orders)
        : String(Math.max(0, f.points))
  return { basis, value, tier: qualifyingTier(program, scaleDecimal(value)) }
}

/** The figures right after a new order of `amount` earning `points`, from those just before it. */
export function withOrder(before: TierFigures, amount: string, points: number): TierFigures {
  const net = scaleDecimal(amount)
  return {
    spend: before.spend + net,
    orders: before.orders + (net > 0n ? 1 : 0),
    points: before.points + points,
  }
}

/** The start of the qualification window that ends at `at`. */
export function qualificationWindow(program: Program, at: Date): Date {
  return windowStart(program, at)
}

/** The history's reason for an immediate upgrade. */
export function upgradeReason(
  program: Program,
  basis: Program['tiers']['basis'],
  value: string,
  at: Date,
  tier: TierLevel,
): string {
  return `${basis} ${value} in the ${program.tiers.window_months} months to ${at.toISOString().slice(0, 10)} reached ${tier.id} (threshold ${tier.threshold})`
}

/** An immediate upgrade (after an earn) when the qualification reaches a higher tier; downgrades wait for review. */
export function immediateUpgrade(
  program: Program,
  currentTier: string,
  q: TierQualification,
  at: Date,
): { to: TierLevel; reason: string } | null {
  if (tierRank(program, q.tier.id) <= tierRank(program, currentTier)) return null
  return { to: q.tier, reason: upgradeReason(program, q.basis, q.value, at, q.tier) }
}

/** Whether a member in `tier` can lose it at a review (every tier above the entry tier can). */
export function canDrop(program: Program, tier: string): boolean {
  return tierRank(program, tier) > 0
}

/** Whether the qualification leaves a member below `tier`: a review would start the grace period or downgrade. */
export function belowTier(program: Program, tier: string, q: TierQualification): boolean {
  return tierRank(program, q.tier.id) < tierRank(program, tier)
}

export type ReviewDecision =
  | { kind: 'none' }
  | { kind: 'upgrade' | 'downgrade'; to: string; reason: string }
  | { kind: 'grace_started'; due: Date; reason: string }
  | { kind: 'grace_cleared'; reason: string }

/**
 * The periodic review of a member's tier at `at`: an upgrade when qualified higher; below the tier, first a grace
 * period (`grace_days`), then at a review on or after its end a downgrade to the tier qualified for; qualified
 * again during the grace period clears it.
 */
export function reviewDecision(
  program: Program,
  account: { readonly tier: string; readonly downgradeDueAt: Date | null },
  q: TierQualification,
  at: Date,
): ReviewDecision {
  const current = tierRank(program, account.tier)
  const qualified = tierRank(program, q.tier.id)
  const figure = `${q.basis} ${q.value} in the ${program.tiers.window_months} months to ${at.toISOString().slice(0, 10)}`
  if (qualified > current)
    return { kind: 'upgrade', to: q.tier.id, reason: `${figure} reached ${q.tier.id}` }
  if (qualified === current) {
    return account.downgradeDueAt
      ? { kind: 'grace_cleared', reason: `${figure} keeps ${account.tier}` }
      : { kind: 'none' }
  }
  const threshold = findTier(program, account.tier)?.threshold ?? '?'
  if (account.downgradeDueAt === null && program.tiers.grace_days > 0) {
    const due = new Date(at.getTime() + program.tiers.grace_days * 86_400_000)
    return {
      kind: 'grace_started',
      due,
      reason: `${figure} is below ${account.tier} (${threshold}); downgrade due ${due.toISOString().slice(0, 10)}`,
    }
  }
  if (account.downgradeDueAt === null || at.getTime() >= account.downgradeDueAt.getTime()) {
    return {
      kind: 'downgrade',
      to: q.tier.id,
      reason: `${figure} is below ${account.tier} (${threshold}) after the grace period`,
    }
  }
  return { kind: 'none' }
}

export const BONUS_KINDS = ['check_in', 'review', 'referral', 'birthday', 'campaign'] as const
export type BonusKind = (typeof BONUS_KINDS)[number]

/** The source a bonus is recorded under (one bonus per source): its entry's source type and id. */
export function bonusSource(
  kind: BonusKind,
  sourceId: string | undefined,
  day: string,
): { sourceType: 'rule' | 'campaign'; source: string } {
  switch (kind) {
    case 'check_in':
      return { sourceType: 'rule', source: `check_in:${day}` }
    case 'review':
      return { sourceType: 'rule', source: `review:${sourceId}` }
    case 'referral':
      return { sourceType: 'rule', source: `referral:${sourceId}` }
    case 'birthday':
      return { sourceType: 'rule', source: `birthday:${day.slice(0, 4)}` }
    case 'campaign':
      return { sourceType: 'campaign', source: String(sourceId) }
    default: {
      const _exhaustive: never = kind
      throw new Error(`unknown bonus ${String(_exhaustive)}`)
    }
  }
}

/** What a bonus rule needs to know about the member. */
export interface BonusFacts {
  /** Whether the bonus's source already earned points. */
  readonly alreadyEarned: boolean
  /** Review bonuses already credited in the local day. */
  readonly rewardedReviewsToday: number
  readonly birthday: string | null
  readonly lastCheckIn: string | null
  readonly checkInStreak: number
}

/**
 * The points of a bonus (before the per-day cap) on local `day`, and the check-in streak it makes; a refusal
 * (a second check-in in a day, a review or referral already rewarded, the daily review maximum, a birthday
 * outside its month, a campaign not running) throws.
 */
export function bonusEarn(
  program: Program,
  req: {
    readonly kind: BonusKind
    readonly memberId: string
    readonly sourceId: string | undefined
    readonly at: Date
    readonly day: string
  },
  facts: BonusFacts,
): { points: number; streak: number | null } {
  const e = program.earn
  const { memberId, sourceId, day } = req
  switch (req.kind) {
    case 'check_in': {
      if (facts.lastCheckIn === day)
        throw new LedgerConflictError(`member ${memberId} already checked in on ${day}`)
      if (facts.lastCheckIn !== null && facts.lastCheckIn > day) {
        throw InputError.single({
          field: 'at',
          value: day,
          reason: `before the last check-in (${facts.lastCheckIn})`,
        })
      }
      const streak =
        facts.lastCheckIn !== null && dayDiff(facts.lastCheckIn, day) === 1
          ? facts.checkInStreak + 1
          : 1
      return { points: checkInPoints(program, streak), streak }
    }
    case 'review': {
      if (facts.alreadyEarned)
        throw new LedgerConflictError(`review ${sourceId} has already earned points`)
      const max = e.review?.max_per_day
      if (max !== undefined && facts.rewardedReviewsToday >= max) {
        throw new LedgerConflictError(
          `member ${memberId} reached the ${max} rewarded reviews of ${day}`,
        )
      }
      return { points: e.review?.points ?? 0, streak: null }
    }
    case 'referral': {
      if (facts.alreadyEarned)
        throw new LedgerConflictError(`the referral of ${sourceId} has already earned points`)
      return { points: e.referral?.points ?? 0, streak: null }
    }
    case 'birthday': {
      if (!facts.birthday)
        throw InputError.single({
          field: 'birthday',
          reason: `member ${memberId} has no birthday on file`,
        })
      if (facts.birthday.slice(5, 7) !== day.slice(5, 7)) {
        throw InputError.single({
          field: 'at',
          value: day,
          reason: 'the birthday bonus is granted in the birthday month',
        })
      }
      if (facts.alreadyEarned) {
        throw new LedgerConflictError(
          `member ${memberId} already received the ${day.slice(0, 4)} birthday bonus`,
        )
      }
      return { points: e.birthday?.points ?? 0, streak: null }
    }
    case 'campaign': {
      const c = e.campaigns.find((x) => x.id === sourceId)
      if (!c) throw new NotFoundError(`unknown campaign ${sourceId}`)
      if (activeCampaign({ ...program, earn: { ...e, campaigns: [c] } }, req.at)?.id !== c.id) {
        throw InputError.single({
          field: 'at',
          value: day,
          reason: `campaign ${c.id} runs ${c.starts} to ${c.ends}`,
        })
      }
      if (c.bonus_points <= 0)
        throw InputError.single({
          field: 'sourceId',
          value: c.id,
          reason: 'the campaign has no bonus points',
        })
      if (facts.alreadyEarned) {
        throw new LedgerConflictError(
          `member ${memberId} already received the bonus of campaign ${c.id}`,
        )
      }
      return { points: c.bonus_points, streak: null }
    }
    default: {
      const _exhaustive: never = req.kind
      throw new Error(`unknown bonus ${String(_exhaustive)}`)
    }
  }
}

/**
 * The buckets with points left that have not expired by `at` (nor are still pending, for `spendableOnly`), in
 * consumption order.
 */
export function openAt<
  B extends {
    readonly bucketId: number
    readonly remaining: number
    readonly expiresAt: number | null
    readonly availableAt: number
  },
>(buckets: readonly B[], at: number, spendableOnly: boolean): B[] {
  return consumptionOrder(
    buckets.filter(
      (b) =>
        b.remaining > 0 &&
        (b.expiresAt === null || b.expiresAt > at) &&
        (!spendableOnly || b.availableAt <= at),
    ),
  )
}

/** Refuses a bonus the program has no earn rule for (campaign bonuses are defined per campaign). */
export function requireBonusRule(program: Program, kind: BonusKind): void {
  if (kind !== 'campaign' && !program.earn[kind]) {
    throw InputError.single({
      field: 'kind',
      value: kind,
      reason: 'the program has no such earn rule',
    })
  }
}

/** Whether a bonus of this kind upgrades at once (it does when the tiers count points earned). */
export function bonusCanUpgrade(program: Program): boolean {
  return program.tiers.basis === 'points_earned'
}

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
  readonly bucketId: number
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
  /** The local year (YYYY) `capYearEarned` counts, for the per-year cap. */
  capYear: string | null
  capYearEarned: number
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
  /**
   * Surrogate ids as `offset + 1`, `offset + 1 + stride`, … (default 0 and 1: 1, 2, 3, …), so that several
   * engines replaying disjoint members — one per worker thread — never hand out the same id.
   */
  readonly idOffset?: number
  readonly idStride?: number
}

/** What a replay counts, all zero. */
export function emptyReplayCounts() {
  return {
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
  const counts = emptyReplayCounts()
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
  const idStride = options.idStride ?? 1
  const idOffset = options.idOffset ?? 0
  if (!Number.isInteger(idStride) || idStride < 1 || !Number.isInteger(idOffset) || idOffset < 0) {
    throw new Error(`bad surrogate id numbering: offset ${idOffset}, stride ${idStride}`)
  }
  let nextEntry = idOffset + 1
  let nextBucket = idOffset + 1
  let nextChange = idOffset + 1

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
    const changeId = nextChange
    nextChange += idStride
    rows.changes.push(changeId, m.memberId, from, to, kind, iso(at), reason)
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
    const id = nextEntry
    nextEntry += idStride
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
      throw new Error(`bucket ${bucket.bucketId} has fewer than ${points} points left`)
    bucket.remaining -= points
    const k = `${entryId}:${bucket.bucketId}`
    allocations.set(k, (allocations.get(k) ?? 0) + points)
  }
  const consumeFrom = (entryId: number, takes: ReadonlyArray<[Bucket, number]>): number => {
    let taken = 0
    for (const [b, take] of takes) {
      allocate(entryId, b, take)
      taken += take
    }
    return taken
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
  const qualification = (m: MemberState, at: number) =>
    qualify(program, figures(m, qualificationWindow(program, new Date(at)).getTime(), at + 1))

  const runExpiry = (m: MemberState, at: number) => {
    const { due, points } = expiryDue(m.buckets, at)
    if (due.length === 0) return
    expiryRunTimes.add(at)
    const key = `expire:${m.memberId}:${iso(at)}`
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
    const d = reviewDecision(
      program,
      {
        tier: m.tier,
        downgradeDueAt: m.downgradeDueAt === null ? null : new Date(m.downgradeDueAt),
      },
      qualification(m, at),
      new Date(at),
    )
    const from = m.tier
    switch (d.kind) {
      case 'none':
        return
      case 'upgrade':
      case 'downgrade':
        tierChange(m, from, d.to, d.kind, at, d.reason)
        m.tier = d.to
        m.tierSince = at
        m.downgradeDueAt = null
        break
      case 'grace_started':
        tierChange(m, from, from, d.kind, at, d.reason)
        m.downgradeDueAt = d.due.getTime()
        break
      case 'grace_cleared':
        tierChange(m, from, from, d.kind, at, d.reason)
        m.downgradeDueAt = null
        break
      default: {
        const _exhaustive: never = d
        return _exhaustive
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
        details: { decision: d.kind },
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

  /** Moves the member's cap counters to the local day and year of `at` (a new day or year starts at 0). */
  const capPeriod = (m: MemberState, at: number): void => {
    const day = localDay(program, new Date(at))
    if (m.capDay !== day) {
      m.capDay = day
      m.capEarned = 0
    }
    const year = day.slice(0, 4)
    if (m.capYear !== year) {
      m.capYear = year
      m.capYearEarned = 0
    }
  }

  /** The points the member earned (all earn kinds) in the local day and year of `at`, for the member caps. */
  const earnedSoFar = (m: MemberState, at: number): EarnedSoFar => {
    capPeriod(m, at)
    return { today: m.capEarned, year: m.capYearEarned }
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
    spend: boolean,
  ): { entryId: number; bucket: Bucket } => {
    const entryId = newEntry(m, 'earn', points, at, reason, sourceType, sourceId, key)
    const times = bucketTimes(program, new Date(at), spend)
    const bucket: Bucket = {
      bucketId: (nextBucket += idStride) - idStride,
      entryId,
      orderId,
      earnedAt: at,
      availableAt: times.availableAt.getTime(),
      expiresAt: times.expiresAt === null ? null : times.expiresAt.getTime(),
      points,
      remaining: points,
      expired: 0,
    }
    m.buckets.push(bucket)
    m.earned.push({ at, points })
    capPeriod(m, at)
    m.capEarned += points
    m.capYearEarned += points
    if (m.debt > 0) {
      for (const pay of debtPayments(m.debits, m.debt, points)) {
        allocate(pay.entryId, bucket, pay.points)
        const debit = m.debits[0] as { entryId: number; open: number }
        debit.open -= pay.points
        if (debit.open === 0) m.debits.shift()
        m.debt -= pay.points
      }
    }
    m.balance += points
    return { entryId, bucket }
  }

  /** An immediate upgrade when the qualification at `at` reaches a higher tier; the new tier or null. */
  const maybeUpgrade = (m: MemberState, at: number): string | null => {
    const up = immediateUpgrade(program, m.tier, qualification(m, at), new Date(at))
    if (up === null) return null
    tierChange(m, m.tier, up.to.id, 'upgrade', at, up.reason)
    m.tier = up.to.id
    m.tierSince = at
    m.downgradeDueAt = null
    return up.to.id
  }

  /** A check-in or review bonus (the live `earnBonus`): refusals change nothing. */
  const bonus = (m: MemberState, e: ReplayEvent, at: number) => {
    const kind = e.kind === 'check_in' ? 'check_in' : 'review'
    const sourceId = kind === 'review' ? checkSourceId('sourceId', e.id) : undefined
    requireBonusRule(program, kind)
    const key = REPLAY_KEYS[kind](e.id)
    const when = new Date(at)
    const hash = claim(m, key, 'earn_bonus', { kind, sourceId, at: when })
    if (hash === null) return
    const day = localDay(program, when)
    const { source } = bonusSource(kind, sourceId, day)
    const earned = bonusEarn(
      program,
      { kind, memberId: m.memberId, sourceId, at: when, day },
      {
        alreadyEarned: m.reviewSources.has(source),
        rewardedReviewsToday: m.reviewDay === day ? m.reviewCount : 0,
        birthday: m.birthday,
        lastCheckIn: m.lastCheckIn,
        checkInStreak: m.checkInStreak,
      },
    )
    const streak = earned.streak
    const points = memberCapped(program, earned.points, earnedSoFar(m, at))
    if (streak !== null) {
      m.lastCheckIn = day
      m.checkInStreak = streak
    }
    let entryId: number | null = null
    if (points > 0) {
      ;({ entryId } = credit(m, points, at, kind, 'rule', source, key, null, false))
      if (kind === 'review') {
        m.reviewSources.add(source)
        if (m.reviewDay !== day) {
          m.reviewDay = day
          m.reviewCount = 0
        }
        m.reviewCount++
      }
    }
    const upgradedTo = bonusCanUpgrade(program) ? maybeUpgrade(m, at) : null
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
    const takes = redemption(m.memberId, openAt(m.buckets, at, true), cost)
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
    consumeFrom(entryId, takes)
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
    const sp = orderEarn(
      program,
      m.tier,
      { amount, channel, orderedAt, lines: [] },
      earnedSoFar(m, at),
    )
    const points = sp.points
    let entryId: number | null = null
    let bucket: Bucket | null = null
    if (points > 0) {
      ;({ entryId, bucket } = credit(
        m,
        points,
        at,
        sp.reason,
        'order',
        orderId,
        key,
        orderId,
        true,
      ))
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
    const r = returnReversal(
      program,
      {
        orderId,
        netAmount: o.netText,
        returnedAmount: unscaleDecimal(o.returned),
        earnedPoints: o.earned,
        reversedPoints: o.reversed,
        expiredPoints: o.bucket === null ? 0 : o.bucket.expired,
      },
      amount,
    )
    const points = r.points
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
      const open = reversalOrder(openAt(m.buckets, at, false), o.bucket?.bucketId ?? null)
      const taken = consumeFrom(entryId, consumption(open, points))
      m.balance -= points
      m.debt += points - taken
      if (points - taken > 0) m.debits.push({ entryId, open: points - taken })
    }
    o.returned = scaleDecimal(r.returned)
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
        b.bucketId,
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
        o.bucket?.bucketId ?? null,
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
      capYear: null,
      capYearEarned: 0,
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
    /** The last surrogate ids handed out (0 or less: none); each table's sequence continues after them. */
    lastIds: () => ({
      entry: nextEntry - idStride,
      bucket: nextBucket - idStride,
      change: nextChange - idStride,
    }),
  }
}
