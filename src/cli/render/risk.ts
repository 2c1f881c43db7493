/**
 * The latest churn-risk scoring as text: the score summary and the list of members at risk (`risk`, `demo`).
 * @module
 */
import { CHURN_CLASSES, SIGNALS } from '../../analytics/risk/early-warning.js'
import { type RiskListRow } from '../../analytics/risk/risk.js'
import { translator, type Lang } from '../lang.js'
import { CHURN_CLASS_NAMES, riskCodeName } from '../messages.js'
import { MISSING, pct, table, money } from '../output.js'

/** Counts of a scoring: by churn class, by signal, and how many score ≥ 50 %. */
export interface RiskScoreSummary {
  readonly members: number
  readonly meanScore: number
  readonly atRisk: number
  readonly byClass: Readonly<
    Record<(typeof CHURN_CLASSES)[number], { readonly members: number; readonly atRisk: number }>
  >
  readonly signals: Readonly<Record<(typeof SIGNALS)[number], number>>
}

/** Summarises scores for people. */
export function summariseScores(
  scores: ReadonlyArray<{
    readonly score: number
    readonly churnClass: (typeof CHURN_CLASSES)[number]
    readonly signals: readonly (typeof SIGNALS)[number][]
  }>,
): RiskScoreSummary {
  const byClass = Object.fromEntries(
    CHURN_CLASSES.map((c) => [c, { members: 0, atRisk: 0 }]),
  ) as Record<(typeof CHURN_CLASSES)[number], { members: number; atRisk: number }>
  const signals = Object.fromEntries(SIGNALS.map((s) => [s, 0])) as Record<
    (typeof SIGNALS)[number],
    number
  >
  let total = 0
  let atRisk = 0
  for (const s of scores) {
    total += s.score
    const c = byClass[s.churnClass]
    c.members++
    if (s.score >= 0.5) {
      atRisk++
      c.atRisk++
    }
    for (const sig of s.signals) signals[sig]++
  }
  return {
    members: scores.length,
    meanScore: scores.length > 0 ? total / scores.length : NaN,
    atRisk,
    byClass,
    signals,
  }
}

/** The at-risk table: member, score, signals, reason codes, class → playbook, P(alive), CLV at risk. */
export function renderRiskRows(rows: readonly RiskListRow[], lang: Lang = 'en'): string {
  const t = translator(lang)
  const names = CHURN_CLASS_NAMES as Readonly<
    Record<string, { zh: string; playbook: { zh: string } } | undefined>
  >
  const cls = (c: string) => names[c]
  return table(
    [
      t('member'),
      t('risk'),
      t('signals'),
      t('reason codes'),
      t('churn class → playbook'),
      'P(alive)',
      'CLV',
      t('CLV at risk'),
    ],
    rows.map((r) => [
      String(r.memberId),
      pct(r.score),
      r.signals === ''
        ? '·'
        : r.signals
            .split(',')
            .map((x) => riskCodeName(x, lang))
            .join(lang === 'zh' ? '、' : ' '),
      r.reasons
        .split(',')
        .map((x) => riskCodeName(x, lang))
        .join(lang === 'zh' ? '、' : ' '),
      lang === 'zh'
        ? `${cls(r.churnClass)?.zh ?? r.churnClass} → ${cls(r.churnClass)?.playbook.zh ?? r.playbook}`
        : `${r.churnClass} → ${r.playbook}`,
      r.pAlive === null ? MISSING : pct(r.pAlive),
      money(r.clv, lang),
      money(r.clvAtRisk, lang),
    ]),
  )
}
