/**
 * The earn, expiry and tier rules as pure functions of the program and plain values: no SQL, no clock.
 * Money and multipliers are integers of ten-thousandths (`scaleDecimal`), so a point total is one exact integer
 * division with the program's rounding mode — never a float.
 * @module
 */
import type { Campaign, Program, RoundingMode, TierLevel } from './program.js'
import { SCALE, scaleDecimal } from './program.js'

/** Integer division of non-negative `n` by positive `d` with the rounding mode (round = half up). */
export function divRound(n: bigint, d: bigint, mode: RoundingMode): bigint {
  const q = n / d
  const r = n % d
  if (r === 0n) return q
  switch (mode) {
    case 'floor':
      return q
    case 'ceil':
      return q + 1n
    case 'round':
      return 2n * r >= d ? q + 1n : q
    default: {
      const _exhaustive: never = mode
      return _exhaustive
    }
  }
}

/** Offset of the program's zone in minutes east of UTC. */
export function offsetMinutes(program: Pick<Program, 'utc_offset'>): number {
  const known = offsets.get(program.utc_offset)
  if (known !== undefined) return known
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(program.utc_offset)
  const v = m ? Number(m[2]) * 60 + Number(m[3]) : 0
  const value = m?.[1] === '-' ? -v : v
  offsets.set(program.utc_offset, value)
  return value
}
const offsets = new Map<string, number>()

/** The calendar day (YYYY-MM-DD) of an instant in the program's zone. */
export function localDay(program: Pick<Program, 'utc_offset'>, at: Date): string {
  const day = Math.floor((at.getTime() + offsetMinutes(program) * 60_000) / 86_400_000)
  let text = dayTexts.get(day)
  if (text === undefined) {
    text = new Date(day * 86_400_000).toISOString().slice(0, 10)
    if (dayTexts.size >= 4096) dayTexts.clear()
    dayTexts.set(day, text)
  }
  return text
}
/** Recent day numbers (days since the epoch) and their YYYY-MM-DD texts. */
const dayTexts = new Map<number, string>()

/** The instant a local day starts. */
export function dayStart(program: Pick<Program, 'utc_offset'>, day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00Z`) - offsetMinutes(program) * 60_000)
}

/** The local calendar year holding `at` as the instants [from, to): the per-year cap's period. */
export function yearBounds(program: Pick<Program, 'utc_offset'>, at: Date): { from: Date; to: Date } {
  const year = Number(localDay(program, at).slice(0, 4))
  const jan1 = (y: number) => `${String(y).padStart(4, '0')}-01-01`
  return { from: dayStart(program, jan1(year)), to: dayStart(program, jan1(year + 1)) }
}

/** Days from local day `a` to local day `b` (b − a). */
export function dayDiff(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000)
}

/** Adds calendar months to the first day of a local month, returning that month's first day. */
function addMonths(day: string, months: number): string {
  const y = Number(day.slice(0, 4))
  const m = Number(day.slice(5, 7)) - 1 + months
  const yy = y + Math.floor(m / 12)
  const mm = ((m % 12) + 12) % 12
  return `${String(yy).padStart(4, '0')}-${String(mm + 1).padStart(2, '0')}-01`
}

/**
 * When points earned at `earnedAt` expire (exclusive: they are gone from that instant), or null for never.
 * `end_of_month` with months = 12: earned any day in March 2026 → usable through 31 March 2027, gone at
 * 1 April 2027 00:00 in the program's zone.
 */
export function expiryFor(program: Program, earnedAt: Date): Date | null {
  const e = program.expiry
  switch (e.policy) {
    case 'never':
      return null
    case 'days':
      return new Date(earnedAt.getTime() + e.days * 86_400_000)
    case 'end_of_month': {
      const month = `${localDay(program, earnedAt).slice(0, 7)}-01`
      return dayStart(program, addMonths(month, e.months + 1))
    }
    default: {
      const _exhaustive: never = e
      return _exhaustive
    }
  }
}

/** When spend points of an order placed at `at` become spendable (the pending period). */
export function availableFor(program: Program, at: Date): Date {
  return new Date(at.getTime() + program.pending_days * 86_400_000)
}

/** One line of an order for category multipliers: its net amount as a decimal string. */
export interface OrderLine {
  readonly category: string
  readonly amount: string
}

export interface SpendInput {
  /** Net amount paid, decimal string with at most four places. */
  readonly amount: string
  readonly channel: string
  readonly orderedAt: Date
  /** Lines with categories; the part of `amount` not covered by lines earns at the base rate. */
  readonly lines?: readonly OrderLine[]
}

export interface SpendPoints {
  readonly points: number
  /** Points before the per-order cap. */
  readonly uncapped: number
  readonly campaignId: string | null
}

/** The campaign whose multiplier applies to an order: the highest among those active that day and channel. */
export function activeCampaign(program: Program, at: Date, channel?: string): Campaign | undefined {
  const day = localDay(program, at)
  let best: Campaign | undefined
  for (const c of program.earn.campaigns) {
    if (day < c.starts || day > c.ends) continue
    if (channel !== undefined && c.channels && !c.channels.includes(channel)) continue
    if (!best || scaleDecimal(c.multiplier) > scaleDecimal(best.multiplier)) best = c
  }
  return best
}

/**
 * Points for an order's net spend: amount / unit × points_per_unit × tier × channel × campaign × category,
 * summed over lines, then rounded once, then capped per order. The daily cap is applied by the ledger, which
 * knows what the member already earned that day.
 */
export function spendPoints(program: Program, tier: TierLevel, input: SpendInput): SpendPoints {
  const s = program.earn.spend
  const amount = scaleDecimal(input.amount)
  const campaign = activeCampaign(program, input.orderedAt, input.channel)
  const common =
    scaleDecimal(s.points_per_unit) *
    scaleDecimal(tier.points_multiplier) *
    scaleDecimal(s.channel_multipliers[input.channel] ?? '1') *
    scaleDecimal(campaign?.multiplier ?? '1')
  let numerator = 0n
  let covered = 0n
  for (const line of input.lines ?? []) {
    const a = scaleDecimal(line.amount)
    covered += a
    numerator += a * scaleDecimal(s.category_multipliers[line.category] ?? '1')
  }
  const rest = amount > covered ? amount - covered : 0n
  numerator += rest * SCALE
  // numerator carries scale^6 (amount, rate, tier, channel, campaign, category); unit carries scale^1.
  const denominator = scaleDecimal(s.unit) * SCALE ** 5n
  const uncapped = Number(divRound(numerator * common, denominator, program.rounding))
  const cap = program.earn.caps.per_order
  return {
    points: cap === undefined ? uncapped : Math.min(uncapped, cap),
    uncapped,
    campaignId: campaign && campaign.multiplier !== '1' ? campaign.id : null,
  }
}

/** Points for a check-in on the `streak`-th consecutive day (1 = first day). */
export function checkInPoints(program: Program, streak: number): number {
  const c = program.earn.check_in
  if (!c) return 0
  let pts = c.points
  for (const b of c.streak_bonus) if (streak % b.every_days === 0) pts += b.points
  return pts
}

/**
 * Points to reverse so that the cumulative reversal for an order is proportional to the cumulative returned
 * amount: round(earned × returned / net) with the program's rounding, never more than was earned. Working
 * cumulatively means several partial returns add up to exactly the full reversal.
 */
export function cumulativeReversal(
  program: Program,
  earned: number,
  netAmount: string,
  returnedAmount: string,
): number {
  const net = scaleDecimal(netAmount)
  const ret = scaleDecimal(returnedAmount)
  if (net <= 0n || ret >= net) return earned
  return Number(divRound(BigInt(earned) * ret, net, program.rounding))
}

/** The tier a qualification value reaches (the highest whose threshold it meets). */
export function qualifyingTier(program: Program, value: bigint): TierLevel {
  let tier = program.tiers.levels[0] as TierLevel
  for (const l of program.tiers.levels) if (value >= scaleDecimal(l.threshold)) tier = l
  return tier
}

/** Position of a tier on the ladder (0 = entry tier), -1 when unknown. */
export function tierRank(program: Program, id: string): number {
  return program.tiers.levels.findIndex((l) => l.id === id)
}

/** The start of the qualification window ending at `at` (rolling `window_months`). */
export function windowStart(program: Program, at: Date): Date {
  const d = new Date(at.getTime())
  d.setUTCMonth(d.getUTCMonth() - program.tiers.window_months)
  return d
}
