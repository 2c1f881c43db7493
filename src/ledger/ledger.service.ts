/**
 * The loyalty ledger: earn, redeem, reverse, expire and adjust points, each in one transaction that locks the
 * member's account row, writes append-only entries and keeps the buckets and the cached balance in step.
 *
 * Every write carries an idempotency key. A repeat of a key with the same request returns the first result and
 * changes nothing; the same key with a different request is a {@link LedgerConflictError}. Requests that fail
 * (bad input, too few points) record nothing, so they can be retried with the same key.
 *
 * Return rule (claw-back): a return reverses round(earned × returned / net) points of its order, cumulatively.
 * They are taken from the order's own bucket first, then from the member's other unexpired buckets (pending
 * ones included) earliest-expiring first; whatever is still missing (points already redeemed) becomes a debt: the
 * balance goes negative, and later earns pay the debt before they add spendable points. Points of the order that
 * already expired are not clawed back a second time. This is the only way a balance goes below zero.
 * @module
 */
import type { Clock } from '../core/clock.js'
import {
  InputError,
  InsufficientPointsError,
  LedgerConflictError,
  NotFoundError,
  RewardOutOfStockError,
} from '../core/errors.js'
import { GroupCommitQueue, type GroupCommitOptions, type Queued } from './group-commit.js'
import * as repo from './ledger.repository.js'
import type { Account, LedgerEntry, PointsBucket, SourceType, TierChange } from './ledger.table.js'
import type { Program, TierLevel } from './program.js'
import { entryTier, scaleDecimal } from './program.js'
import {
  bonusCanUpgrade,
  bonusEarn,
  bonusSource,
  bucketTimes,
  checkAmount,
  checkMember,
  checkSourceId,
  consumption,
  memberCapped,
  debtPayments,
  expiryDue,
  hashRequest,
  immediateUpgrade,
  orderEarn,
  qualificationWindow,
  qualify,
  redemption,
  requireBonusRule,
  returnReversal,
  reversalOrder,
  withOrder,
  BONUS_KINDS,
  type BonusKind,
  type TierQualification,
} from './replay-engine.js'
import { dayStart, localDay, yearBounds, type OrderLine } from './rules.js'
import {
  RETRYABLE_SQLSTATES,
  sqlState,
  type LedgerStore,
  type SqlExecutor,
} from './stores/store.js'

/** Idempotency keys: 4–128 characters, letters, digits and `_ . : - /`, starting with a letter or digit. */
export const IDEMPOTENCY_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_.:\-/]{3,127}$/
export {
  BONUS_KINDS,
  checkAmount,
  checkMember,
  checkSourceId,
  hashRequest,
  MEMBER_ID_RE,
} from './replay-engine.js'
export type { BonusKind } from './replay-engine.js'

/** How often a write is retried after a concurrent duplicate key or a deadlock before giving up. */
const MAX_ATTEMPTS = 8
/** Unlocked tries of an order earn before it takes the account lock (another write came between each time). */
const OPTIMISTIC_EARN_TRIES = 3
/** What an unlocked earn try returns when another write for the member came between its read and its write. */
const CONTENDED = Symbol('contended')
/** What an unlocked earn try returns when the earn needs the account lock (it pays a debt). */
const LOCK_NEEDED = Symbol('lock needed')

export interface WriteBase {
  readonly memberId: string
  readonly idempotencyKey: string
  /** When it happened (order time, check-in time); defaults to the clock. Replays pass the historical time. */
  readonly at?: Date
}

export interface EnrollRequest extends WriteBase {
  /** YYYY-MM-DD, for the birthday bonus. */
  readonly birthday?: string
}

export interface EarnOrderRequest extends WriteBase {
  readonly orderId: string
  /** Net amount paid, a decimal (string or number) with at most four places. */
  readonly amount: string | number
  readonly channel: string
  readonly lines?: readonly OrderLine[]
}

export interface EarnBonusRequest extends WriteBase {
  readonly kind: BonusKind
  /** Review id, referred member id, or campaign id (required for review, referral and campaign). */
  readonly sourceId?: string
}

export interface RedeemRequest extends WriteBase {
  /** A catalogue reward; or leave it out and give `points` to spend points as payment. */
  readonly rewardId?: string
  readonly quantity?: number
  readonly points?: number
  readonly channel?: string
  /** The order the points paid for (payment only): the entry's source id, `payment for order <id>`. */
  readonly orderId?: string
}

export interface ReturnRequest {
  readonly idempotencyKey: string
  readonly returnId: string
  readonly orderId: string
  readonly amount: string | number
  readonly at?: Date
}

export interface AdjustRequest extends WriteBase {
  /** Signed: positive credits a new bucket, negative debits spendable points (never below zero). */
  readonly points: number
  readonly reason: string
}

/** What every write returns. Timestamps are ISO strings so that a replayed result is identical. */
export interface WriteResult {
  readonly memberId: string
  /** The entry written, or null when the write moved no points (e.g. capped to zero). */
  readonly entryId: number | null
  /** Signed points of the entry (0 when none). */
  readonly points: number
  /** Balance after the write (Σ entries; negative only by the return rule). */
  readonly balance: number
  readonly tier: string
  /** True when this is a repeat of an earlier request with the same key. */
  readonly replayed: boolean
  readonly details: Readonly<Record<string, string | number | boolean | null>>
}

export interface BalanceView {
  readonly memberId: string
  readonly balance: number
  /** Spendable now: unexpired, past the pending period. */
  readonly available: number
  readonly pending: number
  readonly debt: number
  /** Points in buckets past their expiry that the expiry job has not removed yet. */
  readonly expiredUnprocessed: number
  readonly tier: string
  readonly tierSince: Date
  readonly downgradeDueAt: Date | null
  readonly nextExpiry: { readonly at: Date; readonly points: number } | null
}

export interface LedgerOptions {
  readonly clock: Clock
  /**
   * Group commit for order earns: concurrent earns are queued and written one transaction per batch, each
   * answered once its batch has committed (see `group-commit.ts`). Off by default.
   */
  readonly groupCommit?: GroupCommitOptions | boolean
}

/** An order earn, validated, ready to run in a transaction (locked) or on its own. */
interface PreparedEarn {
  readonly memberId: string
  readonly attempt: (
    tx: SqlExecutor,
    locked: boolean,
  ) => Promise<WriteResult | typeof CONTENDED | typeof LOCK_NEEDED>
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY_RE.test(key)) {
    throw InputError.single({
      field: 'idempotencyKey',
      value: typeof key === 'string' ? key : String(key),
      reason: 'malformed idempotency key (4–128 characters: letters, digits, _ . : - /)',
    })
  }
  return key
}

function checkPoints(field: string, v: unknown, allowNegative = false): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v === 0 || (!allowNegative && v < 0)) {
    throw InputError.single({
      field,
      value: String(v),
      reason: allowNegative
        ? 'points must be a non-zero whole number'
        : 'points must be a positive whole number',
    })
  }
  return v
}

function checkDate(field: string, v: unknown): Date | undefined {
  if (v === undefined) return undefined
  if (!(v instanceof Date) || Number.isNaN(v.getTime())) {
    throw InputError.single({ field, value: String(v), reason: 'expected a valid time' })
  }
  return v
}

/**
 * The ledger service over one store and one program.
 * @example
 * const ledger = new Ledger(await openLedgerStore('./memberlens-ledger'), program, { clock: systemClock })
 * await ledger.enroll({ memberId: '42', idempotencyKey: 'enroll-42' })
 * await ledger.earnForOrder({ memberId: '42', orderId: 'O1', amount: '99.50', channel: 'app', idempotencyKey: 'order-O1' })
 */
export class Ledger {
  readonly clock: Clock
  private readonly batches: GroupCommitQueue<PreparedEarn, WriteResult> | null

  constructor(
    readonly store: LedgerStore,
    readonly program: Program,
    options: LedgerOptions,
  ) {
    this.clock = options.clock
    const group = options.groupCommit
    this.batches = group
      ? new GroupCommitQueue<PreparedEarn, WriteResult>(
          (batch) => this.earnBatch(batch),
          group === true ? {} : group,
        )
      : null
  }

  /**
   * The write protocol: validate the key, then in one transaction lock the account, answer a repeated key from
   * its stored result, run `body`, and store the result under the key. Retries when a concurrent request with
   * the same key commits first (unique violation) or on a deadlock.
   * @internal Used by the tier review, which shares the write protocol.
   */
  async write(
    operation: string,
    memberId: string,
    idempotencyKey: string,
    request: unknown,
    body: (tx: SqlExecutor, account: Account, now: Date) => Promise<Omit<WriteResult, 'replayed'>>,
    requireAccount = true,
  ): Promise<WriteResult> {
    const hash = hashRequest({ operation, memberId, request })
    return this.retrying(() =>
      this.store.transaction(async (tx) => {
        const account = await repo.lockAccount(tx, memberId)
        const prior = await repo.findRequest(tx, idempotencyKey)
        if (prior) return answerRepeat(prior, hash, idempotencyKey)
        if (!account && requireAccount)
          throw new NotFoundError(`unknown member ${memberId} (not enrolled in the program)`)
        const now = this.clock.now()
        const result = await body(tx, account as Account, now)
        await repo.insertRequest(
          tx,
          idempotencyKey,
          { memberId, operation, requestHash: hash, result: JSON.stringify(result) },
          now,
        )
        return { ...result, replayed: false }
      }),
    )
  }

  /** Runs a write transaction again after a concurrent duplicate key or a deadlock (then it sees the winner). */
  private async retrying<T>(run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run()
      } catch (error) {
        const state = sqlState(error)
        if (state !== undefined && RETRYABLE_SQLSTATES.has(state) && attempt < MAX_ATTEMPTS)
          continue
        throw error
      }
    }
  }

  /** Opens an account in the entry tier. Enrolling an enrolled member changes nothing. */
  async enroll(req: EnrollRequest): Promise<WriteResult> {
    const memberId = checkMember(req.memberId)
    const key = checkKey(req.idempotencyKey)
    const at = checkDate('at', req.at)
    if (
      req.birthday !== undefined &&
      (!/^\d{4}-\d{2}-\d{2}$/.test(req.birthday) || Number.isNaN(Date.parse(req.birthday)))
    ) {
      throw InputError.single({
        field: 'birthday',
        value: req.birthday,
        reason: 'expected YYYY-MM-DD',
      })
    }
    return this.write(
      'enroll',
      memberId,
      key,
      { birthday: req.birthday ?? null, at },
      async (tx, existing, now) => {
        if (existing) {
          return {
            memberId,
            entryId: null,
            points: 0,
            balance: existing.balance,
            tier: existing.tier,
            details: { created: false },
          }
        }
        const enrolledAt = at ?? now
        const tier = entryTier(this.program).id
        await repo.insertAccount(tx, {
          memberId,
          enrolledAt,
          birthday: req.birthday ?? null,
          tier,
          now,
        })
        await repo.insertTierChange(tx, {
          memberId,
          fromTier: null,
          toTier: tier,
          kind: 'enroll',
          changedAt: enrolledAt,
          reason: 'enrolled in the entry tier',
        })
        return { memberId, entryId: null, points: 0, balance: 0, tier, details: { created: true } }
      },
      false,
    )
  }

  /** Earns the spend points of an order (tier, channel, category and campaign multipliers; caps). */
  async earnForOrder(req: EarnOrderRequest): Promise<WriteResult> {
    const memberId = checkMember(req.memberId)
    const key = checkKey(req.idempotencyKey)
    const orderId = checkSourceId('orderId', req.orderId)
    const amount = checkAmount('amount', req.amount)
    const channel = checkSourceId('channel', req.channel)
    const at = checkDate('at', req.at)
    const lines = (req.lines ?? []).map((l, i) => ({
      category: checkSourceId(`lines.${i}.category`, l.category),
      amount: checkAmount(`lines.${i}.amount`, l.amount),
    }))
    const request = { orderId, amount, channel, lines, at }
    const hash = hashRequest({ operation: 'earn_order', memberId, request })
    const program = this.program
    /**
     * One try. Unlocked (`tx` is the store: each statement commits on its own), it reads the context, then
     * writes in one statement only if no other write for the member came between — CONTENDED otherwise — and
     * leaves the debt case (several statements) to the locked try. Locked (`tx` is a transaction), it locks the
     * account with the read and always writes.
     */
    const attempt = async (
      tx: SqlExecutor,
      locked: boolean,
    ): Promise<WriteResult | typeof CONTENDED | typeof LOCK_NEEDED> => {
      const now = this.clock.now()
      const orderedAt = at ?? now
      const dayFrom = dayStart(program, localDay(program, orderedAt))
      // One round trip (locking the account when `locked`) reads the key, the order, the day's earns and the
      // window.
      const ctx = await repo.earnContext(tx, {
        memberId,
        key,
        orderId,
        dayFrom,
        dayTo: new Date(dayFrom.getTime() + 86_400_000),
        windowFrom: qualificationWindow(program, orderedAt),
        windowTo: new Date(orderedAt.getTime() + 1),
        lock: locked,
      })
      if (ctx.request) return answerRepeat(ctx.request, hash, key)
      const account = ctx.account
      if (!account)
        throw new NotFoundError(`unknown member ${memberId} (not enrolled in the program)`)
      if (ctx.orderExists) {
        throw new LedgerConflictError(
          `order ${orderId} has already earned points (under another idempotency key)`,
        )
      }
      // The year's earns, for the per-year cap, in a read of their own (only when the cap is set): unlocked,
      // a write for the member since the context was read changes its transaction id and the write below
      // answers CONTENDED; locked, the account lock keeps other writes out.
      const sp = orderEarn(
        program,
        account.tier,
        { amount, channel, orderedAt, lines },
        { today: ctx.earnedToday, year: await this.earnedThisYear(tx, memberId, orderedAt) },
      )
      const { points, reason } = sp
      const times = bucketTimes(program, orderedAt, true)
      const details = (upgradedTo: string | null) => ({
        orderId,
        uncapped: sp.uncapped,
        campaign: sp.campaignId,
        upgradedTo,
      })
      if (account.debt > 0 && points > 0) {
        // The new bucket first pays the debt: the general path, statement by statement, under the lock.
        if (!locked) return LOCK_NEEDED
        const { entryId, bucketId, state } = await this.credit(
          tx,
          account,
          { balance: account.balance, debt: account.debt },
          {
            points,
            at: orderedAt,
            now,
            reason,
            sourceType: 'order',
            sourceId: orderId,
            key,
            orderId,
            spend: true,
          },
        )
        await repo.insertOrder(tx, {
          orderId,
          memberId,
          orderedAt,
          channel,
          netAmount: amount,
          earnedPoints: points,
          bucketId,
          returnedAmount: '0',
          reversedPoints: 0,
        })
        const upgraded = await this.maybeUpgrade(tx, account, orderedAt)
        await repo.updateAccount(tx, memberId, now, {
          ...state,
          ...(upgraded ? { tier: upgraded.id, tierSince: orderedAt, downgradeDueAt: null } : {}),
        })
        const result = {
          memberId,
          entryId,
          points,
          balance: state.balance,
          tier: upgraded?.id ?? account.tier,
          details: details(upgraded?.id ?? null),
        }
        await repo.insertRequest(
          tx,
          key,
          {
            memberId,
            operation: 'earn_order',
            requestHash: hash,
            result: JSON.stringify(result),
          },
          now,
        )
        return { ...result, replayed: false }
      }
      // No debt: the qualification after this order is the window's figures plus the order itself, and the
      // whole write is one statement.
      const before = {
        spend: scaleDecimal(ctx.spend),
        orders: ctx.orders,
        points: ctx.pointsEarned,
      }
      const up = immediateUpgrade(
        program,
        account.tier,
        qualify(program, withOrder(before, amount, points)),
        orderedAt,
      )
      const upgraded = up?.to
      const balance = account.balance + points
      const result = {
        memberId,
        points,
        balance,
        tier: upgraded?.id ?? account.tier,
        details: details(upgraded?.id ?? null),
      }
      const written = await repo.writeEarn(tx, {
        memberId,
        orderId,
        orderedAt,
        now,
        channel,
        netAmount: amount,
        points,
        reason,
        availableAt: times.availableAt,
        expiresAt: times.expiresAt,
        key,
        requestHash: hash,
        result,
        balance,
        upgrade: up ? { from: account.tier, to: up.to.id, reason: up.reason } : null,
        expectTxId: locked ? null : account.txId,
      })
      if (!written.applied) return CONTENDED
      return { ...result, entryId: written.entryId, replayed: false }
    }
    const earn: PreparedEarn = { memberId, attempt }
    return this.batches ? this.batches.submit(memberId, earn) : this.earnAlone(earn)
  }

  /** One earn in transactions of its own. */
  private earnAlone(earn: PreparedEarn): Promise<WriteResult> {
    const { attempt } = earn
    return this.retrying(async () => {
      // Most earns need no lock: two statements, each its own transaction, instead of BEGIN, a locked read,
      // the write and COMMIT. A member written to meanwhile, or with a debt, takes the locked path.
      for (let i = 0; i < OPTIMISTIC_EARN_TRIES; i++) {
        const r = await attempt(this.store, false)
        if (r === LOCK_NEEDED) break
        if (r !== CONTENDED) return r
      }
      const r = await this.store.transaction((tx) => attempt(tx, true))
      if (r === CONTENDED || r === LOCK_NEEDED) throw new Error('a locked earn wrote nothing')
      return r
    })
  }

  /**
   * Group commit: the earns of one batch (one per member) in one transaction, each under its account lock, the
   * locks taken in member order (so that batches written at the same time cannot deadlock). A refusal answers
   * its own caller only. A database error (a concurrent duplicate key, a lost connection) rolls the batch back;
   * then every earn of it runs again on its own, with its own retries, and answers its caller.
   */
  private async earnBatch(batch: readonly Queued<PreparedEarn, WriteResult>[]): Promise<void> {
    const ordered = [...batch].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    let settled: PromiseSettledResult<WriteResult>[]
    try {
      settled = await this.store.transaction(async (tx) => {
        const one = async (q: Queued<PreparedEarn, WriteResult>) => {
          const r = await q.request.attempt(tx, true)
          if (r === CONTENDED || r === LOCK_NEEDED) throw new Error('a locked earn wrote nothing')
          return r
        }
        let out: PromiseSettledResult<WriteResult>[]
        if (this.store.kind === 'postgres') {
          // On the server the earns' statements are sent without waiting for each other's answers (postgres.js
          // pipelines them on the transaction's connection, in this order: the locks in member order).
          out = await Promise.allSettled(ordered.map(one))
        } else {
          out = []
          for (const q of ordered) {
            try {
              out.push({ status: 'fulfilled', value: await one(q) })
            } catch (error) {
              out.push({ status: 'rejected', reason: error })
            }
          }
        }
        // A database error leaves the transaction unusable: give the batch up.
        const failed = out.find((o) => o.status === 'rejected' && sqlState(o.reason) !== undefined)
        if (failed) throw (failed as PromiseRejectedResult).reason
        return out
      })
    } catch {
      await Promise.all(ordered.map((q) => this.earnAlone(q.request).then(q.resolve, q.reject)))
      return
    }
    ordered.forEach((q, i) => {
      const s = settled[i] as PromiseSettledResult<WriteResult>
      if (s.status === 'fulfilled') q.resolve(s.value)
      else q.reject(s.reason)
    })
  }

  /** Resolves when every earn queued for group commit so far has been answered. */
  async drained(): Promise<void> {
    await this.batches?.drained()
  }

  /** Earns a rule bonus: daily check-in (with streak bonus), review, referral, birthday or campaign bonus. */
  async earnBonus(req: EarnBonusRequest): Promise<WriteResult> {
    const memberId = checkMember(req.memberId)
    const key = checkKey(req.idempotencyKey)
    const at = checkDate('at', req.at)
    if (!(BONUS_KINDS as readonly string[]).includes(req.kind)) {
      throw InputError.single({
        field: 'kind',
        value: String(req.kind),
        reason: `one of ${BONUS_KINDS.join(', ')}`,
      })
    }
    const needsSource = req.kind === 'review' || req.kind === 'referral' || req.kind === 'campaign'
    const sourceId = needsSource ? checkSourceId('sourceId', req.sourceId) : undefined
    requireBonusRule(this.program, req.kind)
    return this.write(
      'earn_bonus',
      memberId,
      key,
      { kind: req.kind, sourceId, at },
      async (tx, account, now) => {
        const when = at ?? now
        const day = localDay(this.program, when)
        const { source, sourceType } = bonusSource(req.kind, sourceId, day)
        // The facts the rule needs, read under the lock: only those of this kind.
        const alreadyEarned =
          req.kind !== 'check_in' &&
          (await repo.countEntriesBySource(tx, memberId, sourceType, source)) > 0
        const rewardedReviewsToday =
          req.kind === 'review' && this.program.earn.review?.max_per_day !== undefined
            ? await repo.countEntriesSince(tx, memberId, 'review', dayStart(this.program, day))
            : 0
        const earned = bonusEarn(
          this.program,
          { kind: req.kind, memberId, sourceId, at: when, day },
          {
            alreadyEarned,
            rewardedReviewsToday,
            birthday: account.birthday,
            lastCheckIn: account.lastCheckIn,
            checkInStreak: account.checkInStreak,
          },
        )
        const patch: repo.AccountPatch =
          earned.streak === null ? {} : { lastCheckIn: day, checkInStreak: earned.streak }
        const points = await this.applyMemberCaps(tx, memberId, when, earned.points)
        let state = { balance: account.balance, debt: account.debt }
        let entryId: number | null = null
        if (points > 0) {
          ;({ entryId, state } = await this.credit(tx, account, state, {
            points,
            at: when,
            now,
            reason: req.kind,
            sourceType,
            sourceId: source,
            key,
            orderId: null,
            spend: false,
          }))
        }
        const upgraded = bonusCanUpgrade(this.program)
          ? await this.maybeUpgrade(tx, account, when)
          : undefined
        await repo.updateAccount(tx, memberId, now, {
          ...patch,
          ...state,
          ...(upgraded ? { tier: upgraded.id, tierSince: when, downgradeDueAt: null } : {}),
        })
        return {
          memberId,
          entryId,
          points,
          balance: state.balance,
          tier: upgraded?.id ?? account.tier,
          details: {
            kind: req.kind,
            source,
            upgradedTo: upgraded?.id ?? null,
            streak: patch.checkInStreak ?? null,
          },
        }
      },
    )
  }

  /** Redeems a catalogue reward (or spends `points` as payment), consuming spendable buckets oldest-first. */
  async redeem(req: RedeemRequest): Promise<WriteResult> {
    const memberId = checkMember(req.memberId)
    const key = checkKey(req.idempotencyKey)
    const at = checkDate('at', req.at)
    const quantity = req.quantity === undefined ? 1 : checkPoints('quantity', req.quantity)
    let cost: number
    let rewardId: string | null = null
    if (req.rewardId !== undefined) {
      if (req.points !== undefined) {
        throw InputError.single({
          field: 'points',
          reason: 'give either a reward or points, not both',
        })
      }
      const reward = this.program.redemption.catalogue.find((r) => r.id === req.rewardId)
      if (!reward) throw new NotFoundError(`unknown reward ${String(req.rewardId)}`)
      rewardId = reward.id
      cost = reward.points * quantity
      if (!Number.isSafeInteger(cost))
        throw InputError.single({ field: 'quantity', reason: 'too large' })
    } else {
      cost = checkPoints('points', req.points)
    }
    const channel = req.channel === undefined ? null : checkSourceId('channel', req.channel)
    const orderId = req.orderId === undefined ? undefined : checkSourceId('orderId', req.orderId)
    if (orderId !== undefined && rewardId !== null) {
      throw InputError.single({
        field: 'orderId',
        reason: 'an order is paid with points, not with a reward',
      })
    }
    return this.write(
      'redeem',
      memberId,
      key,
      // Without an order the request (and its hash) is what it was before orders could be given.
      { rewardId, quantity, cost, channel, at, orderId },
      async (tx, account, now) => {
        const when = at ?? now
        const day = localDay(this.program, when)
        if (rewardId !== null) {
          const reward = this.program.redemption.catalogue.find((r) => r.id === rewardId)
          if (reward?.valid_until && day > reward.valid_until) {
            throw InputError.single({
              field: 'rewardId',
              value: rewardId,
              reason: `reward expired on ${reward.valid_until}`,
            })
          }
          if (reward?.valid_from && day < reward.valid_from) {
            throw InputError.single({
              field: 'rewardId',
              value: rewardId,
              reason: `reward is available from ${reward.valid_from}`,
            })
          }
          if (reward?.tiers && !reward.tiers.includes(account.tier)) {
            throw InputError.single({
              field: 'rewardId',
              value: rewardId,
              reason: `reward is for tiers ${reward.tiers.join(', ')}`,
            })
          }
          // The reward row is locked after the account row, always in this order, so redemptions cannot deadlock.
          const redeemed = await repo.lockReward(tx, rewardId)
          if (reward?.stock !== undefined && redeemed + quantity > reward.stock) {
            throw new RewardOutOfStockError(rewardId, Math.max(0, reward.stock - redeemed))
          }
          await repo.addRedeemed(tx, rewardId, quantity)
        }
        const takes = redemption(memberId, await repo.openBuckets(tx, memberId, when, true), cost)
        const entryId = await repo.insertEntry(tx, {
          memberId,
          kind: 'redeem',
          points: -cost,
          occurredAt: when,
          recordedAt: now,
          reason:
            rewardId !== null
              ? `reward ${rewardId} × ${quantity}`
              : orderId !== undefined
                ? `payment for order ${orderId}`
                : 'payment',
          sourceType: 'redemption',
          sourceId: rewardId ?? orderId ?? null,
          idempotencyKey: key,
        })
        await consume(tx, entryId, takes)
        const balance = account.balance - cost
        await repo.updateAccount(tx, memberId, now, { balance })
        return {
          memberId,
          entryId,
          points: -cost,
          balance,
          tier: account.tier,
          details: { rewardId, quantity, channel, ...(orderId === undefined ? {} : { orderId }) },
        }
      },
    )
  }

  /** Reverses the points an order earned, in proportion to the returned amount (see the module's return rule). */
  async reverseForReturn(req: ReturnRequest): Promise<WriteResult> {
    const key = checkKey(req.idempotencyKey)
    const returnId = checkSourceId('returnId', req.returnId)
    const orderId = checkSourceId('orderId', req.orderId)
    const amount = checkAmount('amount', req.amount)
    const at = checkDate('at', req.at)
    // The order → member link never changes, so it can be read before the account is locked.
    const order = await repo.findOrder(this.store, orderId)
    if (!order) throw new NotFoundError(`unknown order ${orderId} (it never earned points)`)
    return this.write(
      'reverse',
      order.memberId,
      key,
      { returnId, orderId, amount, at },
      async (tx, account, now) => {
        const when = at ?? now
        if (await repo.findReturn(tx, returnId)) {
          throw new LedgerConflictError(
            `return ${returnId} was already applied (under another idempotency key)`,
          )
        }
        const o = (await repo.findOrder(tx, orderId)) as repo.OrderRow
        const { points } = returnReversal(
          this.program,
          {
            ...o,
            expiredPoints: o.bucketId === null ? 0 : await repo.expiredFromBucket(tx, o.bucketId),
          },
          amount,
        )
        let balance = account.balance
        let debt = account.debt
        let entryId: number | null = null
        if (points > 0) {
          entryId = await repo.insertEntry(tx, {
            memberId: o.memberId,
            kind: 'reverse',
            points: -points,
            occurredAt: when,
            recordedAt: now,
            reason: `return ${returnId} of order ${orderId}`,
            sourceType: 'return',
            sourceId: returnId,
            idempotencyKey: key,
          })
          const open = await repo.openBuckets(tx, o.memberId, when, false)
          const taken = await consume(
            tx,
            entryId,
            consumption(reversalOrder(open, o.bucketId), points),
          )
          balance -= points
          debt += points - taken
        }
        await repo.recordReturn(tx, {
          returnId,
          orderId,
          amount,
          returnedAt: when,
          reversedPoints: points,
        })
        await repo.updateAccount(tx, o.memberId, now, { balance, debt })
        return {
          memberId: o.memberId,
          entryId,
          points: -points,
          balance,
          tier: account.tier,
          details: { returnId, orderId, debt },
        }
      },
    )
  }

  /** Removes the member's points whose expiry has passed at `at` (one entry for all due buckets). */
  async expire(req: WriteBase): Promise<WriteResult> {
    const memberId = checkMember(req.memberId)
    const key = checkKey(req.idempotencyKey)
    const at = checkDate('at', req.at)
    return this.write('expire', memberId, key, { at }, async (tx, account, now) => {
      const when = at ?? now
      const { due, points } = expiryDue(
        (await repo.expiredBuckets(tx, memberId, when)).map(inMs),
        when.getTime(),
      )
      if (points === 0) {
        return {
          memberId,
          entryId: null,
          points: 0,
          balance: account.balance,
          tier: account.tier,
          details: { buckets: 0 },
        }
      }
      const entryId = await repo.insertEntry(tx, {
        memberId,
        kind: 'expire',
        points: -points,
        occurredAt: when,
        recordedAt: now,
        reason: 'points expired',
        sourceType: 'system',
        sourceId: null,
        idempotencyKey: key,
      })
      await consume(
        tx,
        entryId,
        due.map((b) => [b, b.remaining]),
      )
      const balance = account.balance - points
      await repo.updateAccount(tx, memberId, now, { balance })
      return {
        memberId,
        entryId,
        points: -points,
        balance,
        tier: account.tier,
        details: { buckets: due.length },
      }
    })
  }

  /**
   * The expiry job: expires every member's due points at `at`. Keys are `expire:<member>:<at>`, so running the
   * job again for the same instant changes nothing.
   */
  async expireDue(at: Date, batch = 500): Promise<{ members: number; points: number }> {
    let members = 0
    let points = 0
    for (;;) {
      const ids = await repo.membersWithExpiredPoints(this.store, at, batch)
      if (ids.length === 0) break
      for (const memberId of ids) {
        const r = await this.expire({
          memberId,
          at,
          idempotencyKey: `expire:${memberId}:${at.toISOString()}`,
        })
        members++
        points -= r.points
      }
      if (ids.length < batch) break
    }
    return { members, points }
  }

  /** An operator's correction: positive credits a new bucket, negative debits spendable points. */
  async adjust(req: AdjustRequest): Promise<WriteResult> {
    const memberId = checkMember(req.memberId)
    const key = checkKey(req.idempotencyKey)
    const points = checkPoints('points', req.points, true)
    const at = checkDate('at', req.at)
    if (typeof req.reason !== 'string' || req.reason.trim() === '' || req.reason.length > 500) {
      throw InputError.single({
        field: 'reason',
        reason: 'an adjustment needs a reason (≤500 characters)',
      })
    }
    return this.write(
      'adjust',
      memberId,
      key,
      { points, reason: req.reason, at },
      async (tx, account, now) => {
        const when = at ?? now
        let state = { balance: account.balance, debt: account.debt }
        let entryId: number
        if (points > 0) {
          ;({ entryId, state } = await this.credit(tx, account, state, {
            points,
            at: when,
            now,
            reason: req.reason,
            sourceType: 'operator',
            sourceId: null,
            key,
            orderId: null,
            spend: false,
            kind: 'adjust',
          }))
        } else {
          const buckets = await repo.openBuckets(tx, memberId, when, true)
          const available = buckets.reduce((s, b) => s + b.remaining, 0)
          if (available < -points) {
            throw new InsufficientPointsError(
              `member ${memberId} has ${available} spendable points; cannot deduct ${-points}`,
            )
          }
          entryId = await repo.insertEntry(tx, {
            memberId,
            kind: 'adjust',
            points,
            occurredAt: when,
            recordedAt: now,
            reason: req.reason,
            sourceType: 'operator',
            sourceId: null,
            idempotencyKey: key,
          })
          await consume(tx, entryId, consumption(buckets, -points))
          state = { balance: state.balance + points, debt: state.debt }
        }
        await repo.updateAccount(tx, memberId, now, state)
        return {
          memberId,
          entryId,
          points,
          balance: state.balance,
          tier: account.tier,
          details: { reason: req.reason },
        }
      },
    )
  }

  /** Balance, spendable and pending points, debt, tier and the next expiry, at `at` (default now). */
  async balance(memberId: string, at?: Date): Promise<BalanceView> {
    checkMember(memberId)
    const when = at ?? this.clock.now()
    return this.store.transaction(async (tx) => {
      const a = await repo.findAccount(tx, memberId)
      if (!a) throw new NotFoundError(`unknown member ${memberId} (not enrolled in the program)`)
      const open = await repo.openBuckets(tx, memberId, when, false)
      const expired = await repo.expiredBuckets(tx, memberId, when)
      let available = 0
      let pending = 0
      for (const b of open) {
        if (b.availableAt.getTime() <= when.getTime()) available += b.remaining
        else pending += b.remaining
      }
      const first = open.find((b) => b.expiresAt !== null)
      const nextExpiry = first?.expiresAt
        ? {
            at: first.expiresAt,
            points: open
              .filter((b) => b.expiresAt?.getTime() === first.expiresAt?.getTime())
              .reduce((s, b) => s + b.remaining, 0),
          }
        : null
      return {
        memberId,
        balance: a.balance,
        available,
        pending,
        debt: a.debt,
        expiredUnprocessed: expired.reduce((s, b) => s + b.remaining, 0),
        tier: a.tier,
        tierSince: a.tierSince,
        downgradeDueAt: a.downgradeDueAt,
        nextExpiry,
      }
    })
  }

  /** The member's entries, newest first. */
  async history(
    memberId: string,
    options: { limit?: number; beforeEntryId?: number } = {},
  ): Promise<LedgerEntry[]> {
    checkMember(memberId)
    if (!(await repo.findAccount(this.store, memberId))) {
      throw new NotFoundError(`unknown member ${memberId} (not enrolled in the program)`)
    }
    return repo.listEntries(this.store, memberId, options.limit ?? 50, options.beforeEntryId)
  }

  /** The member's tier changes, oldest first. */
  async tierHistory(memberId: string): Promise<TierChange[]> {
    checkMember(memberId)
    return repo.listTierChanges(this.store, memberId)
  }

  /** The member's buckets with points left (for tests and support tools). */
  async openBuckets(memberId: string, at?: Date): Promise<PointsBucket[]> {
    return repo.openBuckets(this.store, memberId, at ?? this.clock.now(), false)
  }

  /** Points the member earned (all earn kinds) in the local calendar year of `at`; 0 without a per-year cap. */
  private async earnedThisYear(tx: SqlExecutor, memberId: string, at: Date): Promise<number> {
    if (this.program.earn.caps.per_year === undefined) return 0
    const { from, to } = yearBounds(this.program, at)
    return repo.earnedBetween(tx, memberId, from, to)
  }

  /** `points` trimmed to the member caps (per day, per year) for an earn at `at`. */
  private async applyMemberCaps(
    tx: SqlExecutor,
    memberId: string,
    at: Date,
    points: number,
  ): Promise<number> {
    const caps = this.program.earn.caps
    if ((caps.per_day === undefined && caps.per_year === undefined) || points <= 0) return points
    const from = dayStart(this.program, localDay(this.program, at))
    const to = new Date(from.getTime() + 86_400_000)
    const today = caps.per_day === undefined ? 0 : await repo.earnedBetween(tx, memberId, from, to)
    const year = await this.earnedThisYear(tx, memberId, at)
    return memberCapped(this.program, points, { today, year })
  }

  /** Writes an earn (or positive adjust) entry and its bucket, paying any debt first. */
  private async credit(
    tx: SqlExecutor,
    account: Pick<Account, 'memberId'>,
    state: { balance: number; debt: number },
    c: {
      points: number
      at: Date
      now: Date
      reason: string
      sourceType: SourceType
      sourceId: string | null
      key: string
      orderId: string | null
      /** Spend points wait the pending period; bonuses and adjustments are spendable at once. */
      spend: boolean
      kind?: 'earn' | 'adjust'
    },
  ): Promise<{ entryId: number; bucketId: number; state: { balance: number; debt: number } }> {
    const entryId = await repo.insertEntry(tx, {
      memberId: account.memberId,
      kind: c.kind ?? 'earn',
      points: c.points,
      occurredAt: c.at,
      recordedAt: c.now,
      reason: c.reason,
      sourceType: c.sourceType,
      sourceId: c.sourceId,
      idempotencyKey: c.key,
    })
    const bucketId = await repo.insertBucket(tx, {
      memberId: account.memberId,
      entryId,
      orderId: c.orderId,
      earnedAt: c.at,
      ...bucketTimes(this.program, c.at, c.spend),
      points: c.points,
      remaining: c.points,
    })
    let debt = state.debt
    if (debt > 0) {
      // Pay the oldest unsettled debits from the new bucket: their allocations then cover them in full.
      const debits = await repo.unsettledDebits(tx, account.memberId)
      for (const pay of debtPayments(debits, debt, c.points)) {
        await repo.consumeBucket(tx, pay.entryId, bucketId, pay.points)
        debt -= pay.points
      }
    }
    return { entryId, bucketId, state: { balance: state.balance + c.points, debt } }
  }

  /** Qualification at `at` and an immediate upgrade when it reaches a higher tier (downgrades wait for review). */
  private async maybeUpgrade(
    tx: SqlExecutor,
    account: Pick<Account, 'memberId' | 'tier'>,
    at: Date,
  ): Promise<TierLevel | undefined> {
    const q = await qualificationAt(tx, this.program, account.memberId, at)
    const up = immediateUpgrade(this.program, account.tier, q, at)
    if (up === null) return undefined
    await repo.insertTierChange(tx, {
      memberId: account.memberId,
      fromTier: account.tier,
      toTier: up.to.id,
      kind: 'upgrade',
      changedAt: at,
      reason: up.reason,
    })
    return up.to
  }
}

/** The answer to a repeated idempotency key: the first result, or a conflict when the request differs. */
function answerRepeat(prior: repo.StoredRequest, hash: string, key: string): WriteResult {
  if (prior.requestHash !== hash) {
    throw new LedgerConflictError(
      `idempotency key ${key} was already used for a different request (${prior.operation} for member ${prior.memberId})`,
    )
  }
  return { ...(JSON.parse(prior.result) as Omit<WriteResult, 'replayed'>), replayed: true }
}

/** Takes the planned points from each bucket for the debit entry; returns how many it took. */
async function consume(
  tx: SqlExecutor,
  entryId: number,
  takes: ReadonlyArray<readonly [{ readonly bucketId: number }, number]>,
): Promise<number> {
  let taken = 0
  for (const [b, take] of takes) {
    await repo.consumeBucket(tx, entryId, b.bucketId, take)
    taken += take
  }
  return taken
}

/** A stored bucket with its times in epoch milliseconds, as the rules read them. */
function inMs(b: PointsBucket) {
  return { ...b, expiresAt: b.expiresAt?.getTime() ?? null, availableAt: b.availableAt.getTime() }
}

export interface Qualification extends TierQualification {
  readonly from: Date
  readonly to: Date
}

/**
 * The tier a member qualifies for at `at` from the rolling window's net spend, order count or net points
 * earned — never from the spendable balance. Activity at `at` itself counts.
 */
export async function qualificationAt(
  tx: SqlExecutor,
  program: Program,
  memberId: string,
  at: Date,
  windowEnd: Date = at,
): Promise<Qualification> {
  const to = new Date(at.getTime() + 1)
  const from = qualificationWindow(program, windowEnd)
  const f = await repo.qualificationFigures(tx, memberId, from, to)
  const q = qualify(program, {
    spend: scaleDecimal(f.spend),
    orders: f.orders,
    points: f.pointsEarned,
  })
  return { ...q, from, to }
}
