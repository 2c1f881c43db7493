/**
 * Voice of the member (DOMAIN §2 satisfaction and service, §6): NPS, CSAT and review ratings per period
 * and dimension with small-sample intervals; service metrics (support requests per 1,000 active members,
 * complaint rate, return rates and reasons); the churn of members after a complaint against matched
 * members without one; sentiment and topics of free text (zh + en); and members at risk from what they said.
 * @module
 */
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { memberOutcomes } from '../../duckdb/experiments/member-outcomes.js'
import {
  answerCounts,
  complaintUnits,
  feedbackTexts,
  memberSignals,
  returnReasons,
  serviceCounts,
  type DateRange,
  type VoiceDimension,
  type VoiceGrain,
} from '../../duckdb/voice/feedback-queries.js'
import { studentTQuantile } from '../../models/stats/distributions.js'
import { netPromoterScore, type NpsResult } from '../../models/stats/nps.js'
import { wilsonInterval } from '../../models/stats/proportions.js'
import { stratifiedDifference, type StratifiedEffect } from '../../models/stats/stratified.js'
import { matchingStrata } from '../experiments/effects-matching.js'
import { analyseText, type Sentiment, type TopicConfig } from './text.js'
import { DEFAULT_TOPICS } from './lexicon.js'

/** A proportion with its Wilson interval. */
export interface Rate {
  readonly n: number
  readonly count: number
  readonly rate: number
  readonly ci: readonly [number, number]
}

function rate(count: number, n: number, level = 0.95): Rate {
  return { n, count, rate: n > 0 ? count / n : NaN, ci: wilsonInterval(count, n, level) }
}

/** Satisfaction of one period × dimension value. */
export interface SatisfactionRow {
  readonly period: string
  readonly dimension: string
  readonly nps: NpsResult
  /** Share of CSAT answers scoring 4–5. */
  readonly csat: Rate
  /** Mean review rating (1–5) with a t interval. */
  readonly review: {
    readonly n: number
    readonly mean: number
    readonly ci: readonly [number, number]
  }
  /** Share of reviews scoring 1–2. */
  readonly negativeReviews: Rate
}

/** Service metrics of one period. */
export interface ServiceRow {
  readonly period: string
  readonly activeMembers: number
  readonly tickets: number
  readonly ticketsPer1000Active: number
  readonly complaints: number
  /** Active members with a complaint / active members. */
  readonly complaintRate: Rate
  /** Returned amount / purchase amount. */
  readonly returnRateAmount: number
  /** Returned orders / orders (Wilson interval). */
  readonly returnRateOrders: Rate
}

/** Options of {@link voiceSummary}. */
export interface VoiceSummaryOptions extends DateRange {
  readonly grain?: VoiceGrain
  readonly by?: VoiceDimension
  /** Churn horizon after a complaint, days. Default 90. */
  readonly churnDays?: number
}

/** The voice-of-the-member summary. */
export interface VoiceSummary {
  readonly range: DateRange
  readonly grain: VoiceGrain
  readonly by: VoiceDimension | null
  readonly satisfaction: readonly SatisfactionRow[]
  /** The whole range in one row per dimension value. */
  readonly total: readonly SatisfactionRow[]
  readonly service: readonly ServiceRow[]
  readonly returnReasons: readonly { reason: string; returns: number; amount: number }[]
  /** Churn (no purchase within churnDays) after a first complaint vs matched members without. */
  readonly complaintChurn:
    (StratifiedEffect & { readonly churnDays: number; readonly caveat: string }) | null
}

function satisfaction(
  c: Awaited<ReturnType<typeof answerCounts>>[number],
  level: number,
): SatisfactionRow {
  const n = c.reviewN
  const mean = n > 0 ? c.reviewSum / n : NaN
  const variance = n > 1 ? (c.reviewSumSq - n * mean * mean) / (n - 1) : NaN
  const h =
    n > 1
      ? studentTQuantile(1 - (1 - level) / 2, n - 1) * Math.sqrt(Math.max(0, variance) / n)
      : NaN
  return {
    period: c.period,
    dimension: c.dimension,
    nps: netPromoterScore(c, level),
    csat: rate(c.csatSatisfied, c.csatN, level),
    review: { n, mean, ci: [mean - h, mean + h] },
    negativeReviews: rate(c.reviewNegative, n, level),
  }
}

/**
 * NPS / CSAT / reviews per period (and dimension), service metrics per period, return reasons, and the
 * complaint → churn comparison over the range.
 */
export async function voiceSummary(
  driver: DuckDbDriver,
  o: VoiceSummaryOptions,
): Promise<VoiceSummary> {
  const grain = o.grain ?? 'month'
  const level = 0.95
  const range = { from: o.from, to: o.to }
  const counts = await answerCounts(driver, range, grain, o.by)
  const byDim = new Map<string, (typeof counts)[number]>()
  for (const c of counts) {
    const t = byDim.get(c.dimension)
    byDim.set(
      c.dimension,
      t
        ? {
            ...t,
            npsN: t.npsN + c.npsN,
            promoters: t.promoters + c.promoters,
            passives: t.passives + c.passives,
            detractors: t.detractors + c.detractors,
            csatN: t.csatN + c.csatN,
            csatSatisfied: t.csatSatisfied + c.csatSatisfied,
            reviewN: t.reviewN + c.reviewN,
            reviewSum: t.reviewSum + c.reviewSum,
            reviewSumSq: t.reviewSumSq + c.reviewSumSq,
            reviewNegative: t.reviewNegative + c.reviewNegative,
          }
        : { ...c, period: `${o.from}…${o.to}` },
    )
  }
  const service = (await serviceCounts(driver, range, grain)).map((s): ServiceRow => ({
    period: s.period,
    activeMembers: s.activeMembers,
    tickets: s.tickets,
    ticketsPer1000Active: s.activeMembers > 0 ? (1000 * s.tickets) / s.activeMembers : NaN,
    complaints: s.complaints,
    complaintRate: rate(s.complainers, s.activeMembers, level),
    returnRateAmount: s.spend > 0 ? s.returnedAmount / s.spend : NaN,
    returnRateOrders: rate(Math.min(s.returnedOrders, s.orders), s.orders, level),
  }))
  return {
    range,
    grain,
    by: o.by ?? null,
    satisfaction: counts.map((c) => satisfaction(c, level)),
    total: [...byDim.values()].map((c) => satisfaction(c, level)),
    service,
    returnReasons: await returnReasons(driver, range),
    complaintChurn: await complaintChurn(driver, range, o.churnDays ?? 90, level),
  }
}

/**
 * Churn after a complaint: members whose first complaint in the range starts their clock, against members
 * without a complaint (clock spread over the range), matched on pre-period purchases, recency, tenure and
 * activity; churned = no purchase within `churnDays` after the clock starts. Members whose window is not
 * over are left out. Observational.
 */
export async function complaintChurn(
  driver: DuckDbDriver,
  range: DateRange,
  churnDays: number,
  level = 0.95,
): Promise<VoiceSummary['complaintChurn']> {
  const data = await memberOutcomes(driver, complaintUnits(range, churnDays), {
    windowDays: churnDays,
    preDays: 90,
    retentionFromDays: churnDays,
    retentionToDays: churnDays + 1,
  })
  const treated = data.arms.indexOf('complaint')
  if (treated < 0 || data.arms.length < 2) return null
  const c = data.columns
  const strata = matchingStrata(data)
  const keep: number[] = []
  for (let i = 0; i < c.arm.length; i++) if (c.complete_post[i] === 1) keep.push(i)
  if (!keep.some((i) => c.arm[i] === treated)) return null
  const effect = stratifiedDifference(
    Int32Array.from(keep, (i) => strata[i] as number),
    Uint8Array.from(keep, (i) => (c.arm[i] === treated ? 1 : 0)),
    Float64Array.from(keep, (i) => ((c.orders_post[i] as number) > 0 ? 0 : 1)),
    level,
  )
  return {
    ...effect,
    churnDays,
    caveat:
      'Observational: complainers are compared with members without a complaint in the same strata of pre-period ' +
      'purchases, recency, tenure and activity; the gap is an association, not the effect of complaining.',
  }
}

/** One analysed feedback text. */
export interface AnalysedFeedback {
  readonly feedbackId: string
  readonly memberId: number | null
  readonly ts: string
  readonly kind: string
  readonly score: number | null
  readonly text: string
  readonly language: 'zh' | 'en'
  readonly sentiment: Sentiment
  readonly sentimentScore: number
  readonly topics: readonly string[]
}

/** Topic statistics. */
export interface TopicRow {
  readonly topic: string
  readonly mentions: number
  /** Share of texts mentioning the topic. */
  readonly share: number
  /** Negative share of the topic's mentions (Wilson interval). */
  readonly negative: Rate
  readonly byLanguage: Readonly<Record<'zh' | 'en', number>>
  readonly examples: readonly string[]
}

/** Options of {@link voiceTopics}. */
export interface VoiceTopicsOptions extends DateRange {
  readonly kinds?: readonly string[]
  readonly topics?: TopicConfig
}

/** Sentiment and topics of every feedback text in the range. */
export async function voiceTopics(
  driver: DuckDbDriver,
  o: VoiceTopicsOptions,
): Promise<{
  texts: number
  sentiment: Readonly<Record<Sentiment, number>>
  byKind: readonly { kind: string; texts: number; negative: Rate }[]
  topics: readonly TopicRow[]
}> {
  const analysed = await analyseFeedback(driver, o)
  const sentiment = { positive: 0, neutral: 0, negative: 0 }
  const kinds = new Map<string, { n: number; neg: number }>()
  for (const a of analysed) {
    sentiment[a.sentiment]++
    const k = kinds.get(a.kind) ?? { n: 0, neg: 0 }
    k.n++
    if (a.sentiment === 'negative') k.neg++
    kinds.set(a.kind, k)
  }
  const topics = Object.keys(o.topics ?? DEFAULT_TOPICS).map((topic): TopicRow => {
    const hits = analysed.filter((a) => a.topics.includes(topic))
    const neg = hits.filter((a) => a.sentiment === 'negative')
    const examples = [...new Set(neg.map((a) => a.text))].slice(0, 3)
    return {
      topic,
      mentions: hits.length,
      share: analysed.length > 0 ? hits.length / analysed.length : NaN,
      negative: rate(neg.length, hits.length),
      byLanguage: {
        zh: hits.filter((a) => a.language === 'zh').length,
        en: hits.filter((a) => a.language === 'en').length,
      },
      examples,
    }
  })
  return {
    texts: analysed.length,
    sentiment,
    byKind: [...kinds.entries()].map(([kind, k]) => ({
      kind,
      texts: k.n,
      negative: rate(k.neg, k.n),
    })),
    topics: topics.sort((a, b) => b.mentions - a.mentions),
  }
}

/** Every feedback text in the range with its sentiment and topics (texts repeat: analysis is cached). */
export async function analyseFeedback(
  driver: DuckDbDriver,
  o: VoiceTopicsOptions,
): Promise<AnalysedFeedback[]> {
  const rows = await feedbackTexts(driver, o, o.kinds)
  const cache = new Map<string, ReturnType<typeof analyseText>>()
  return rows.map((r) => {
    let a = cache.get(r.text)
    if (!a) {
      a = analyseText(r.text, o.topics)
      cache.set(r.text, a)
    }
    return {
      feedbackId: r.feedbackId,
      memberId: r.memberId,
      ts: r.ts,
      kind: r.kind,
      score: r.score,
      text: r.text,
      language: a.language,
      sentiment: a.sentiment,
      sentimentScore: a.score,
      topics: a.topics,
    }
  })
}

/** A member whose feedback signals churn risk. */
export interface MemberAtRisk {
  readonly memberId: number
  /** 2·complaints + negative texts + negative reviews + (NPS detractor ? 2 : 0) + tickets/2. */
  readonly riskScore: number
  readonly complaints: number
  readonly tickets: number
  readonly negativeReviews: number
  readonly negativeTexts: number
  readonly lastNps: number | null
  readonly topics: readonly string[]
  readonly lastFeedbackAt: string
  readonly lastPurchaseAt: string | null
  /** Seed 004's playbook for service-dissatisfied members. */
  readonly action: string
}

/**
 * Members with negative feedback in the range, ranked by a transparent score (see {@link MemberAtRisk}):
 * the early-warning signal "more negative reviews or complaints" of DOMAIN §4, with the topics they raised.
 */
export async function membersAtRisk(
  driver: DuckDbDriver,
  o: DateRange & { readonly limit?: number; readonly topics?: TopicConfig },
): Promise<MemberAtRisk[]> {
  const signals = await memberSignals(driver, o)
  const texts = await analyseFeedback(driver, o)
  const byMember = new Map<number, { neg: number; topics: Set<string> }>()
  for (const t of texts) {
    if (t.memberId === null || t.sentiment !== 'negative') continue
    const m = byMember.get(t.memberId) ?? { neg: 0, topics: new Set<string>() }
    m.neg++
    for (const x of t.topics) m.topics.add(x)
    byMember.set(t.memberId, m)
  }
  return signals
    .map((s): MemberAtRisk => {
      const m = byMember.get(s.memberId)
      const detractor = s.lastNps !== null && s.lastNps <= 6
      const riskScore =
        2 * s.complaints + (m?.neg ?? 0) + s.negativeReviews + (detractor ? 2 : 0) + s.tickets / 2
      return {
        ...s,
        riskScore,
        negativeTexts: m?.neg ?? 0,
        topics: [...(m?.topics ?? [])].sort(),
        action:
          s.complaints > 0 || (m?.neg ?? 0) > 0
            ? 'care call / service recovery on the topics raised'
            : 'follow-up survey or personal outreach',
      }
    })
    .filter((m) => m.riskScore >= 1)
    .sort((a, b) => b.riskScore - a.riskScore || a.memberId - b.memberId)
    .slice(0, o.limit ?? 50)
}
