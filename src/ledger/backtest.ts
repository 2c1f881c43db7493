/**
 * Program backtest: a whole history replayed through the rules engine (`replay-engine.ts`) in memory, for any
 * program, with nothing written anywhere — the engine's rows of each member are read into monthly figures and
 * dropped before the next member. The same engine and the same shared jobs as the bulk replay, so the backtest
 * of the program the ledger runs is the ledger: the same entries, balances and tiers.
 *
 * Figures, by month in the program's time zone (its `utc_offset`):
 * - issued (earn entries), redeemed, expired and reversed points;
 * - liability at each month end: Σ of the members' positive balances then, in points and in money
 *   (× `point_value`);
 * - tier movements (upgrades, downgrades) and, at the end of the reported period, the tier distribution;
 * - caps: the earns the per-order and per-day caps cut, the points cut, and the members they cut;
 * - breakage: realised, expired / (expired + redeemed), and a forecast for the points still outstanding at the
 *   end of the period (method below) with the IFRS 15 deferral it implies.
 *
 * Breakage forecast (age cohorts). Every settled point — one taken by a redemption or by expiry — has an age:
 * the whole 30-day months from the moment it was earned to the moment it was taken. For each age a, among the
 * settled points that were still outstanding at age a (taken at age ≥ a), the share that expired is the
 * historical chance that a point of age a ends in breakage. The forecast applies that chance to each
 * outstanding bucket by its age at the end of the period; ages with no settled history use the overall share.
 * Points taken by returns are neither redeemed nor broken and are left out. Only the history up to the end of
 * the period is used. The deferral is the outstanding points expected to be redeemed, (outstanding − forecast
 * breakage) × point value — the point value standing in for the stand-alone selling price of a point.
 *
 * Redemptions are replayed as they happened (the points paid in orders): under a program that issues fewer
 * points some of them are refused for want of spendable points; they are counted, not redeemed.
 * @module
 */
import { NotFoundError } from '../core/errors.js'
import { replayJobs, type BulkReplaySource } from './bulk-replay.js'
import type { Budget, Program } from './program.js'
import { scaleDecimal, SCALE } from './program.js'
import { createReplayEngine, REPLAY_KEYS, type ReplayEvent } from './replay-engine.js'
import { checkInPoints, localDay } from './rules.js'

/** One month of a backtest (`month` YYYY-MM in the program's zone). */
export interface BacktestMonth {
  readonly month: string
  readonly issued: number
  readonly redeemed: number
  readonly expired: number
  readonly reversed: number
  /** Σ positive balances at the month's end. */
  readonly liabilityPoints: number
  readonly liabilityAmount: number
  readonly upgrades: number
  readonly downgrades: number
  /** Orders the per-order cap cut, and the members it cut. */
  readonly perOrderCapHits: number
  readonly perOrderCapMembers: number
  /** Earns (orders and bonuses) the per-day or the per-year cap cut, and the members it cut. */
  readonly perDayCapHits: number
  readonly perDayCapMembers: number
  /** Points the caps took off the earns. */
  readonly cappedPoints: number
}

export interface BacktestBreakage {
  /** expired / (expired + redeemed) over the history to the end of the period; null when nothing settled. */
  readonly realised: number | null
  /** Points outstanding at the end of the period (the buckets' remaining points). */
  readonly outstandingPoints: number
  /** Outstanding points expected to expire unredeemed (age-cohort method), and their share and money. */
  readonly forecastPoints: number
  readonly forecastRate: number | null
  readonly forecastAmount: number
  /** The IFRS 15 deferral: outstanding points expected to be redeemed, in money. */
  readonly deferredRevenue: number
  /** The chance a point of each age (whole 30-day months) ends in breakage; null where nothing settled. */
  readonly byAge: ReadonlyArray<{
    readonly ageMonths: number
    readonly outstandingPoints: number
    readonly rate: number | null
  }>
}

export interface BacktestResult {
  readonly program: string
  readonly currency: string
  readonly pointValue: string
  /** The reported months, first and last (YYYY-MM); null for an empty history. */
  readonly from: string | null
  readonly to: string | null
  readonly months: readonly BacktestMonth[]
  readonly total: {
    readonly issued: number
    readonly redeemed: number
    readonly expired: number
    readonly reversed: number
    readonly issuedAmount: number
    /** At the end of the period. */
    readonly liabilityPoints: number
    readonly liabilityAmount: number
    readonly upgrades: number
    readonly downgrades: number
    /** Members enrolled by the end of the period, and the issued money per member. */
    readonly members: number
    readonly costPerMember: number | null
    readonly perOrderCapHits: number
    readonly perOrderCapMembers: number
    readonly perDayCapHits: number
    readonly perDayCapMembers: number
    readonly cappedPoints: number
    /** Points paid in orders the program could not redeem (too few spendable points), over the whole history. */
    readonly refusedRedemptions: number
    readonly refusedRedemptionPoints: number
  }
  readonly breakage: BacktestBreakage
  /** The program's budgets across members (`budgets`), in file order: when each would have been hit. */
  readonly budgets: readonly BacktestBudget[]
  /** Members per tier at the end of the period, in ladder order. */
  readonly tiers: ReadonlyArray<{ readonly tier: string; readonly members: number }>
}

/** One month in which a budget was reached. */
export interface BacktestBudgetHit {
  /** YYYY-MM, program time zone. */
  readonly month: string
  /** The first day (YYYY-MM-DD) the budget was reached in the month. */
  readonly date: string
  /** The month's points issued (monthly budgets) or the month's highest day-end liability (liability budget). */
  readonly used: number
  /** Points beyond the budget: `used` − limit (0 when it was reached exactly). */
  readonly beyond: number
}

/** A budget of the program and when the replayed history would have reached it. */
export interface BacktestBudget {
  readonly id: string
  readonly scope: Budget['scope']
  /** The channels of a channel budget; null for a global one. */
  readonly match: string[] | null
  readonly kind: 'points_per_month' | 'liability'
  /** The limit in points, and in money (× point value). */
  readonly limit: number
  readonly limitAmount: number
  /** The first day in the reported period the budget was reached; null when it never was. */
  readonly firstHit: string | null
  /**
   * Points beyond the budget over the period: the sum of the months' excess (monthly budgets) or the highest
   * excess at a day's end (liability). The backtest does not trim earns to a budget: it says when the budget
   * would have been exhausted and how far the program went past it.
   */
  readonly pointsBeyond: number
  readonly amountBeyond: number
  readonly hits: readonly BacktestBudgetHit[]
}

export interface BacktestOptions {
  /** First and last month reported (YYYY-MM, inclusive); default the whole history. */
  readonly from?: string
  readonly to?: string
  /** Members per batch read from the source (default 20,000). */
  readonly membersPerBatch?: number
  /** Called with each member's final balance and tier (for checks against a ledger). */
  readonly onMember?: (memberId: string, balance: number, tier: string) => void
}

/** Oldest age (months) the breakage cohorts tell apart; older points share the last cohort. */
const MAX_AGE = 36
const AGE_MS = 30 * 86_400_000

const money = (points: number, pointValue: bigint) =>
  Math.round((points * Number(pointValue)) / Number(SCALE / 100n)) / 100

/** YYYY-MM as a month number, and back. */
const monthNumber = (ym: string) => Number(ym.slice(0, 4)) * 12 + Number(ym.slice(5, 7)) - 1
const monthText = (n: number) =>
  `${String(Math.floor(n / 12)).padStart(4, '0')}-${String((n % 12) + 1).padStart(2, '0')}`

interface MonthAcc {
  issued: number
  redeemed: number
  expired: number
  reversed: number
  liability: number
  upgrades: number
  downgrades: number
  perOrderHits: number
  perDayHits: number
  perOrderMembers: number
  perDayMembers: number
  capped: number
}
const emptyMonth = (): MonthAcc => ({
  issued: 0,
  redeemed: 0,
  expired: 0,
  reversed: 0,
  liability: 0,
  upgrades: 0,
  downgrades: 0,
  perOrderHits: 0,
  perDayHits: 0,
  perOrderMembers: 0,
  perDayMembers: 0,
  capped: 0,
})

/** Replays the history of `source` under `program` in memory and sums it up by month. */
export async function backtestProgram(
  source: BulkReplaySource,
  program: Program,
  options: BacktestOptions = {},
): Promise<BacktestResult> {
  const days = await source.days()
  const jobs = replayJobs(program, days, await source.months())
  const engine = createReplayEngine(program, new Date(0), jobs, { reasons: 0 })
  const { rows, counts } = engine
  const pointValue = scaleDecimal(program.point_value)
  const firstDay = days[0]?.localDay
  const lastDay = days.at(-1)?.localDay
  const from =
    options.from ?? (firstDay === undefined ? undefined : firstDay.slice(0, 7)) ?? undefined
  const to = options.to ?? (lastDay === undefined ? undefined : lastDay.slice(0, 7)) ?? undefined
  const fromN = from === undefined ? 0 : monthNumber(from)
  const toN = to === undefined ? -1 : monthNumber(to)
  const span = Math.max(0, toN - fromN + 1)
  const months = Array.from({ length: span }, emptyMonth)
  /** The first instant after the reported period (the start of the month after `to`, in the program's zone). */
  const endMs =
    to === undefined
      ? 0
      : Date.parse(`${monthText(toN + 1)}-01T00:00:00Z`) - offsetMs(program.utc_offset)
  const monthOf = (ms: number) => monthNumber(localDay(program, new Date(ms)).slice(0, 7)) - fromN

  const expiredByAge = new Float64Array(MAX_AGE + 1)
  const redeemedByAge = new Float64Array(MAX_AGE + 1)
  const outstandingByAge = new Float64Array(MAX_AGE + 1)
  const tierCounts = new Map<string, number>()
  let members = 0
  let perOrderMembers = 0
  let perDayMembers = 0
  const perOrderCap = program.earn.caps.per_order
  // Budgets: points issued by local day (all earns, and order earns by channel) and the change of the
  // liability (Σ positive balances) by local day, over the whole history.
  const offset = offsetMs(program.utc_offset)
  const dayIndex = (ms: number) => Math.floor((ms + offset) / 86_400_000)
  const budgetChannels = new Set(program.budgets.flatMap((b) => b.match ?? []))
  const issuedByDay = new Map<number, number>()
  const channelIssuedByDay = new Map<string, Map<number, number>>()
  const liabilityByDay = new Map<number, number>()
  const addTo = (m: Map<number, number>, k: number, v: number) => m.set(k, (m.get(k) ?? 0) + v)
  const reviewPoints = program.earn.review?.points ?? 0

  const E = rows.entries.cols
  const B = rows.buckets.cols
  const A = rows.allocations.cols
  const C = rows.changes.cols
  const R = rows.requests.cols
  const ACC = rows.accounts.cols

  /** Adds the member's issued points and liability changes to the budgets' daily figures. */
  const absorbBudgets = (events: readonly ReplayEvent[]) => {
    const channelOf = new Map<string, string>()
    if (budgetChannels.size > 0) {
      for (const e of events) {
        if (e.kind === 'order' && e.channel !== null && budgetChannels.has(e.channel))
          channelOf.set(e.id, e.channel)
      }
    }
    const netByDay = new Map<number, number>()
    for (let i = 0; i < rows.entries.length; i++) {
      const kind = E[2]?.[i] as string
      const points = E[3]?.[i] as number
      const day = dayIndex(Date.parse(E[4]?.[i] as string))
      addTo(netByDay, day, points)
      if (!(kind === 'earn' || (kind === 'adjust' && points > 0))) continue
      addTo(issuedByDay, day, points)
      const channel = E[7]?.[i] === 'order' ? channelOf.get(E[8]?.[i] as string) : undefined
      if (channel !== undefined) {
        let m = channelIssuedByDay.get(channel)
        if (!m) channelIssuedByDay.set(channel, (m = new Map()))
        addTo(m, day, points)
      }
    }
    let balance = 0
    for (const day of [...netByDay.keys()].sort((a, b) => a - b)) {
      const next = balance + (netByDay.get(day) ?? 0)
      const change = Math.max(0, next) - Math.max(0, balance)
      if (change !== 0) addTo(liabilityByDay, day, change)
      balance = next
    }
  }

  /** Reads the rows of the member just replayed into the figures, then drops them. */
  const absorb = (events: readonly ReplayEvent[]) => {
    engine.drainAllocations()
    if (program.budgets.length > 0) absorbBudgets(events)
    // Entries: flows by month, the balance changes for the month-end liability, and each entry's time and kind.
    const deltas = new Map<number, number>()
    const entryAt = new Map<number, { at: number; kind: string }>()
    for (let i = 0; i < rows.entries.length; i++) {
      const kind = E[2]?.[i] as string
      const points = E[3]?.[i] as number
      const at = Date.parse(E[4]?.[i] as string)
      entryAt.set(E[0]?.[i] as number, { at, kind })
      const m = monthOf(at)
      if (at < endMs) {
        const k = Math.max(m, -1)
        deltas.set(k, (deltas.get(k) ?? 0) + points)
      }
      const acc = m >= 0 && m < span ? months[m] : undefined
      if (!acc) continue
      if (kind === 'earn' || (kind === 'adjust' && points > 0)) acc.issued += points
      else if (kind === 'redeem') acc.redeemed -= points
      else if (kind === 'expire') acc.expired -= points
      else if (kind === 'reverse') acc.reversed -= points
    }
    if (deltas.size > 0) {
      let balance = deltas.get(-1) ?? 0
      for (let m = 0; m < span; m++) {
        balance += deltas.get(m) ?? 0
        if (balance > 0) (months[m] as MonthAcc).liability += balance
      }
    }
    // Buckets and their allocations: the age of every settled point, and what is left at the period's end.
    const taken = new Map<number, Array<{ at: number; kind: string; points: number }>>()
    for (let i = 0; i < rows.allocations.length; i++) {
      const e = entryAt.get(A[0]?.[i] as number)
      if (!e) continue
      const bucketId = A[1]?.[i] as number
      let list = taken.get(bucketId)
      if (!list) taken.set(bucketId, (list = []))
      list.push({ at: e.at, kind: e.kind, points: A[2]?.[i] as number })
    }
    for (let i = 0; i < rows.buckets.length; i++) {
      const earnedAt = Date.parse(B[4]?.[i] as string)
      if (earnedAt >= endMs) continue
      let left = B[7]?.[i] as number
      for (const t of taken.get(B[0]?.[i] as number) ?? []) {
        // A debt paid from a new bucket is taken the moment the bucket is earned.
        const at = Math.max(t.at, earnedAt)
        if (at >= endMs) continue
        left -= t.points
        const age = Math.min(MAX_AGE, Math.floor((at - earnedAt) / AGE_MS))
        if (t.kind === 'expire') expiredByAge[age] = (expiredByAge[age] ?? 0) + t.points
        else if (t.kind === 'redeem') redeemedByAge[age] = (redeemedByAge[age] ?? 0) + t.points
      }
      if (left > 0) {
        const age = Math.min(MAX_AGE, Math.floor((endMs - 1 - earnedAt) / AGE_MS))
        outstandingByAge[age] = (outstandingByAge[age] ?? 0) + left
      }
    }
    // Tier changes: movements by month, and the tier at the period's end.
    let tier: string | null = null
    let tierAt = -Infinity
    for (let i = 0; i < rows.changes.length; i++) {
      const at = Date.parse(C[5]?.[i] as string)
      const kind = C[4]?.[i] as string
      if (at < endMs && at >= tierAt) {
        tier = C[3]?.[i] as string
        tierAt = at
      }
      const acc = months[monthOf(at)]
      if (!acc) continue
      if (kind === 'upgrade') acc.upgrades++
      else if (kind === 'downgrade') acc.downgrades++
    }
    if (tier !== null) {
      members++
      tierCounts.set(tier, (tierCounts.get(tier) ?? 0) + 1)
    }
    // Caps: the stored results of the earns say what the caps cut.
    if (program.earn.caps.per_order !== undefined || program.earn.caps.per_day !== undefined) {
      const times = new Map<string, number>()
      for (const e of events) {
        if (e.kind === 'order') times.set(REPLAY_KEYS.order(e.id), Number(e.ts))
        else if (e.kind === 'check_in') times.set(REPLAY_KEYS.check_in(e.id), Number(e.ts))
        else if (e.kind === 'review') times.set(REPLAY_KEYS.review(e.id), Number(e.ts))
      }
      const hitOrder = new Set<number>()
      const hitDay = new Set<number>()
      for (let i = 0; i < rows.requests.length; i++) {
        const operation = R[2]?.[i] as string
        if (operation !== 'earn_order' && operation !== 'earn_bonus') continue
        const at = times.get(R[0]?.[i] as string)
        if (at === undefined || at >= endMs) continue
        const result = JSON.parse(R[4]?.[i] as string) as {
          points: number
          details: { uncapped?: number; kind?: string; streak?: number | null }
        }
        const d = result.details
        const full =
          operation === 'earn_order'
            ? (d.uncapped ?? result.points)
            : d.kind === 'check_in'
              ? checkInPoints(program, d.streak ?? 1)
              : reviewPoints
        if (result.points >= full) continue
        const m = monthOf(at)
        const acc = months[m]
        const orderCut =
          operation === 'earn_order' && perOrderCap !== undefined && full > perOrderCap
        const dayCut = result.points < (orderCut ? (perOrderCap as number) : full)
        if (!acc) continue
        acc.capped += full - result.points
        if (orderCut) {
          acc.perOrderHits++
          hitOrder.add(m)
        }
        if (dayCut) {
          acc.perDayHits++
          hitDay.add(m)
        }
      }
      for (const m of hitOrder) (months[m] as MonthAcc).perOrderMembers++
      for (const m of hitDay) (months[m] as MonthAcc).perDayMembers++
      if (hitOrder.size > 0) perOrderMembers++
      if (hitDay.size > 0) perDayMembers++
    }
    for (let i = 0; i < rows.accounts.length; i++) {
      options.onMember?.(ACC[0]?.[i] as string, ACC[3]?.[i] as number, ACC[5]?.[i] as string)
    }
    for (const r of Object.values(rows)) r.clear()
  }

  for await (const batch of source.members(options.membersPerBatch ?? 20_000)) {
    for (const h of batch) {
      engine.replayMember(h.member, h.events)
      absorb(h.events)
    }
  }
  for (const e of await source.orphans()) {
    engine.skip(
      e,
      e.kind === 'return'
        ? new NotFoundError(`unknown order ${e.orderId} (it never earned points)`)
        : new NotFoundError(`unknown member ${e.memberId} (not enrolled in the program)`),
    )
  }

  const sum = (k: keyof MonthAcc) => months.reduce((s, m) => s + m[k], 0)
  const outMonths: BacktestMonth[] = months.map((m, i) => ({
    month: monthText(fromN + i),
    issued: m.issued,
    redeemed: m.redeemed,
    expired: m.expired,
    reversed: m.reversed,
    liabilityPoints: m.liability,
    liabilityAmount: money(m.liability, pointValue),
    upgrades: m.upgrades,
    downgrades: m.downgrades,
    perOrderCapHits: m.perOrderHits,
    perOrderCapMembers: m.perOrderMembers,
    perDayCapHits: m.perDayHits,
    perDayCapMembers: m.perDayMembers,
    cappedPoints: m.capped,
  }))
  const liabilityPoints = months.at(-1)?.liability ?? 0
  const issued = sum('issued')
  const issuedAmount = money(issued, pointValue)
  return {
    program: program.program,
    currency: program.currency,
    pointValue: program.point_value,
    from: from ?? null,
    to: to ?? null,
    months: outMonths,
    total: {
      issued,
      redeemed: sum('redeemed'),
      expired: sum('expired'),
      reversed: sum('reversed'),
      issuedAmount,
      liabilityPoints,
      liabilityAmount: money(liabilityPoints, pointValue),
      upgrades: sum('upgrades'),
      downgrades: sum('downgrades'),
      members,
      costPerMember: members > 0 ? Math.round((issuedAmount / members) * 100) / 100 : null,
      perOrderCapHits: sum('perOrderHits'),
      perOrderCapMembers: perOrderMembers,
      perDayCapHits: sum('perDayHits'),
      perDayCapMembers: perDayMembers,
      cappedPoints: sum('capped'),
      refusedRedemptions: counts.refusedRedemptions,
      refusedRedemptionPoints: counts.refusedRedemptionPoints,
    },
    breakage: breakageForecast(expiredByAge, redeemedByAge, outstandingByAge, pointValue),
    budgets: program.budgets.map((b) =>
      budgetHits(b, {
        issued:
          b.scope === 'global'
            ? issuedByDay
            : sumDays((b.match ?? []).map((c) => channelIssuedByDay.get(c))),
        liability: liabilityByDay,
        from: from ?? null,
        to: to ?? null,
        pointValue,
      }),
    ),
    tiers: program.tiers.levels.map((l) => ({ tier: l.id, members: tierCounts.get(l.id) ?? 0 })),
  }
}

/** The age-cohort breakage forecast (see the module notes). */
export function breakageForecast(
  expiredByAge: ArrayLike<number>,
  redeemedByAge: ArrayLike<number>,
  outstandingByAge: ArrayLike<number>,
  pointValue: bigint,
): BacktestBreakage {
  const n = outstandingByAge.length
  let expiredAll = 0
  let redeemedAll = 0
  for (let a = 0; a < n; a++) {
    expiredAll += expiredByAge[a] ?? 0
    redeemedAll += redeemedByAge[a] ?? 0
  }
  const overall = expiredAll + redeemedAll > 0 ? expiredAll / (expiredAll + redeemedAll) : null
  // Suffix sums: settled points taken at age ≥ a.
  const rates: Array<number | null> = new Array<number | null>(n).fill(null)
  let exp = 0
  let red = 0
  for (let a = n - 1; a >= 0; a--) {
    exp += expiredByAge[a] ?? 0
    red += redeemedByAge[a] ?? 0
    rates[a] = exp + red > 0 ? exp / (exp + red) : null
  }
  let outstanding = 0
  let forecast = 0
  const byAge: Array<{ ageMonths: number; outstandingPoints: number; rate: number | null }> = []
  for (let a = 0; a < n; a++) {
    const o = outstandingByAge[a] ?? 0
    outstanding += o
    forecast += o * (rates[a] ?? overall ?? 0)
    if (o > 0 || rates[a] !== null)
      byAge.push({ ageMonths: a, outstandingPoints: o, rate: rates[a] ?? null })
  }
  const forecastPoints = Math.round(forecast)
  return {
    realised: overall,
    outstandingPoints: outstanding,
    forecastPoints,
    forecastRate: outstanding > 0 ? forecastPoints / outstanding : null,
    forecastAmount: money(forecastPoints, pointValue),
    deferredRevenue: money(outstanding - forecastPoints, pointValue),
    byAge,
  }
}

/** Day figures summed over several maps (a channel budget's channels). */
function sumDays(
  maps: ReadonlyArray<ReadonlyMap<number, number> | undefined>,
): Map<number, number> {
  const out = new Map<number, number>()
  for (const m of maps) for (const [k, v] of m ?? []) out.set(k, (out.get(k) ?? 0) + v)
  return out
}

const dayText = (day: number) => new Date(day * 86_400_000).toISOString().slice(0, 10)

/** A local day number (days since 1970-01-01 in the program's zone) of a YYYY-MM month's first day. */
const monthFirstDay = (n: number) => Date.parse(`${monthText(n)}-01T00:00:00Z`) / 86_400_000

/**
 * When a budget was reached in the reported months `from`…`to` (YYYY-MM): a monthly budget in each month whose
 * running total of issued points reached the limit (the day it did, and the month's total); the liability
 * budget in each month with a day-end liability (all history before counted) at or above it (the first such
 * day, and the month's highest). `issued` and `liability` are by local day number.
 */
export function budgetHits(
  b: Budget,
  d: {
    readonly issued: ReadonlyMap<number, number>
    /** The change of the liability by day. */
    readonly liability: ReadonlyMap<number, number>
    readonly from: string | null
    readonly to: string | null
    readonly pointValue: bigint
  },
): BacktestBudget {
  const liability = b.max_liability !== undefined
  const limit = (liability ? b.max_liability : b.max_points_per_month) as number
  const hits: BacktestBudgetHit[] = []
  const fromN = d.from === null ? 0 : monthNumber(d.from)
  const toN = d.to === null ? -1 : monthNumber(d.to)
  const source = liability ? d.liability : d.issued
  const days = [...source.keys()].sort((x, y) => x - y)
  let i = 0
  let level = 0
  // Changes before the period: the liability carried into it.
  const start = monthFirstDay(fromN)
  for (; i < days.length && (days[i] as number) < start; i++)
    level += liability ? (source.get(days[i] as number) ?? 0) : 0
  for (let m = fromN; m <= toN; m++) {
    const end = monthFirstDay(m + 1)
    if (!liability) level = 0
    let date: string | null = liability && level >= limit ? dayText(monthFirstDay(m)) : null
    let used = level
    for (; i < days.length && (days[i] as number) < end; i++) {
      const day = days[i] as number
      level += source.get(day) ?? 0
      if (date === null && level >= limit) date = dayText(day)
      used = liability ? Math.max(used, level) : level
    }
    if (date !== null) hits.push({ month: monthText(m), date, used, beyond: used - limit })
  }
  const pointsBeyond = liability
    ? hits.reduce((m, h) => Math.max(m, h.beyond), 0)
    : hits.reduce((s, h) => s + h.beyond, 0)
  return {
    id: b.id,
    scope: b.scope,
    match: b.match ?? null,
    kind: liability ? 'liability' : 'points_per_month',
    limit,
    limitAmount: money(limit, d.pointValue),
    firstHit: hits[0]?.date ?? null,
    pointsBeyond,
    amountBeyond: money(pointsBeyond, d.pointValue),
    hits,
  }
}

/** The program's UTC offset in milliseconds. */
function offsetMs(offset: string): number {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(offset)
  if (!m) return 0
  const v = (Number(m[2]) * 60 + Number(m[3])) * 60_000
  return m[1] === '-' ? -v : v
}

/** A figure of the proposed program beside the current one. */
export interface BacktestDelta {
  readonly current: number
  readonly proposed: number
  readonly change: number
  /** change / current; null when current is 0. */
  readonly ratio: number | null
}

const emptyFigures = (): Record<DiffField, number> => ({
  issued: 0,
  redeemed: 0,
  expired: 0,
  reversed: 0,
  liabilityPoints: 0,
  liabilityAmount: 0,
  upgrades: 0,
  downgrades: 0,
  perOrderCapHits: 0,
  perDayCapHits: 0,
  cappedPoints: 0,
})

const delta = (current: number, proposed: number): BacktestDelta => ({
  current,
  proposed,
  change: Math.round((proposed - current) * 100) / 100,
  ratio: current !== 0 ? (proposed - current) / current : null,
})

/** The monthly figures a diff of two backtests compares (also each month's fields in the API answer). */
export const DIFF_FIELDS = [
  'issued',
  'redeemed',
  'expired',
  'reversed',
  'liabilityPoints',
  'liabilityAmount',
  'upgrades',
  'downgrades',
  'perOrderCapHits',
  'perDayCapHits',
  'cappedPoints',
] as const satisfies ReadonlyArray<keyof BacktestMonth>
type DiffField = (typeof DIFF_FIELDS)[number]

export interface BacktestDiff {
  readonly months: ReadonlyArray<{ readonly month: string } & Record<DiffField, BacktestDelta>>
  readonly total: Record<
    | DiffField
    | 'issuedAmount'
    | 'members'
    | 'perOrderCapMembers'
    | 'perDayCapMembers'
    | 'refusedRedemptionPoints'
    | 'forecastBreakagePoints'
    | 'forecastBreakageAmount'
    | 'deferredRevenue',
    BacktestDelta
  > & { readonly forecastBreakageRate: { current: number | null; proposed: number | null } }
  readonly tiers: ReadonlyArray<{ readonly tier: string } & BacktestDelta>
}

/** The proposed program's figures beside the current program's, month by month and in total. */
export function diffBacktests(current: BacktestResult, proposed: BacktestResult): BacktestDiff {
  const byMonth = new Map(proposed.months.map((m) => [m.month, m]))
  const zero = (month: string): BacktestMonth => ({
    month,
    ...emptyFigures(),
    perOrderCapMembers: 0,
    perDayCapMembers: 0,
  })
  const months = current.months.map((c) => {
    const p = byMonth.get(c.month) ?? zero(c.month)
    return {
      month: c.month,
      ...(Object.fromEntries(DIFF_FIELDS.map((f) => [f, delta(c[f], p[f])])) as Record<
        DiffField,
        BacktestDelta
      >),
    }
  })
  const ct = current.total
  const pt = proposed.total
  const tierIds = [...new Set([...current.tiers, ...proposed.tiers].map((t) => t.tier))]
  const tierOf = (r: BacktestResult, id: string) => r.tiers.find((t) => t.tier === id)?.members ?? 0
  return {
    months,
    total: {
      ...(Object.fromEntries(DIFF_FIELDS.map((f) => [f, delta(ct[f], pt[f])])) as Record<
        DiffField,
        BacktestDelta
      >),
      issuedAmount: delta(ct.issuedAmount, pt.issuedAmount),
      members: delta(ct.members, pt.members),
      perOrderCapMembers: delta(ct.perOrderCapMembers, pt.perOrderCapMembers),
      perDayCapMembers: delta(ct.perDayCapMembers, pt.perDayCapMembers),
      refusedRedemptionPoints: delta(ct.refusedRedemptionPoints, pt.refusedRedemptionPoints),
      forecastBreakagePoints: delta(
        current.breakage.forecastPoints,
        proposed.breakage.forecastPoints,
      ),
      forecastBreakageAmount: delta(
        current.breakage.forecastAmount,
        proposed.breakage.forecastAmount,
      ),
      deferredRevenue: delta(current.breakage.deferredRevenue, proposed.breakage.deferredRevenue),
      forecastBreakageRate: {
        current: current.breakage.forecastRate,
        proposed: proposed.breakage.forecastRate,
      },
    },
    tiers: tierIds.map((tier) => ({
      tier,
      ...delta(tierOf(current, tier), tierOf(proposed, tier)),
    })),
  }
}
