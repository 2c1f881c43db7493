/**
 * One metric of an experiment or a program effect as text: each arm's estimate with its interval, each variant
 * against the control, and the verdict (`experiments report`, `effects`).
 * @module
 */
import pc from 'picocolors'
import { type MetricResult } from '../../analytics/experiments/experiments.js'
import type { Effect } from '../../models/stats/effect.js'
import { codeName, translator, type Lang } from '../lang.js'
import { MISSING, fmt, pct, table } from '../output.js'

function diff(kind: MetricResult['kind'], v: number): string {
  return kind === 'proportion'
    ? `${v >= 0 ? '+' : ''}${(100 * v).toFixed(2)} pp`
    : `${v >= 0 ? '+' : ''}${fmt(v, 2)}`
}

export function pValue(p: number): string {
  return p < 0.0001 ? '<0.0001' : p.toFixed(4)
}
/** Formats a metric value: proportions as %, others with 2 decimals. */
export function metricValue(kind: MetricResult['kind'], v: number): string {
  return kind === 'proportion' ? pct(v, 2) : fmt(v, 2)
}

/** The table of one metric: arms, then each variant against the control. */
export function renderMetric(result: MetricResult, role: string, lang: Lang = 'en'): string {
  const t = translator(lang)
  // Return rates are ratios shown as percentages.
  const m = result.metric.startsWith('return_')
    ? { ...result, kind: 'proportion' as const }
    : result
  const head = pc.bold(
    lang === 'zh'
      ? `${role}：${m.name.zh} — ${m.higherIsBetter ? '越高越好' : '越低越好'}`
      : `${role}: ${m.name.en} (${m.name.zh}) — ${m.higherIsBetter ? 'higher' : 'lower'} is better`,
  )
  const arms = table(
    [t('variant'), t('members'), t('value'), t('CI')],
    m.arms.map((a) => [
      codeName(a.arm, lang) +
        (a.arm === m.control && a.arm !== 'control' ? ` ${t('(control)')}` : ''),
      fmt(a.members),
      metricValue(m.kind, a.value),
      `${metricValue(m.kind, a.ci[0])} … ${metricValue(m.kind, a.ci[1])}`,
    ]),
  )
  const rows = m.comparisons.map((c) => {
    const e: Effect = c.effect
    const mark = c.harmful ? pc.red(` ✗ ${t('harm')}`) : c.significant ? pc.green(' ✓') : ''
    return [
      codeName(c.arm, lang),
      diff(m.kind, e.difference),
      `${diff(m.kind, e.ci[0])} … ${diff(m.kind, e.ci[1])}`,
      pct(e.relativeLift, 1),
      pValue(e.pValue),
      pValue(c.pAdjusted) + mark,
      c.cuped ? `CUPED −${pct(c.cuped.varianceReduction, 0)} ${t('var')}` : e.method,
    ]
  })
  const cmp = table(
    [
      t('vs control'),
      t('effect'),
      t('{level}% CI', { level: Math.round(100 * (m.comparisons[0]?.effect.level ?? 0.95)) }),
      t('lift'),
      'p',
      'Holm p',
      t('method'),
    ],
    rows,
  )
  const width = (v: number) =>
    m.kind === 'proportion' ? `${(100 * v).toFixed(2)} pp` : fmt(v, m.kind === 'ratio' ? 4 : 2)
  const narrowing = m.comparisons
    .map((c) =>
      c.cuped
        ? `\n  ${t('{arm}: interval width {raw} without CUPED, {adjusted} with it ({narrowing} narrower)', {
            arm: codeName(c.arm, lang),
            raw: width(c.cuped.widthRaw),
            adjusted: width(c.cuped.width),
            narrowing: pct(c.cuped.narrowing, 1),
          })}`
        : '',
    )
    .join('')
  const run = m.clvRun
  const incomplete =
    run !== undefined
      ? `\n  (${t('predicted CLV of run {run}: {horizon}-month horizon, scores as of {date}; {n} members without a score left out', {
          run: run.runId,
          horizon: run.horizonMonths ?? MISSING,
          date: run.calibrationEnd ?? MISSING,
          n: fmt(run.unscored),
        })})`
      : m.incomplete > 0
        ? `\n  (${t('{n} members left out: window not over', { n: fmt(m.incomplete) })})`
        : ''
  return `${head}\n${arms}\n${cmp}${narrowing}${incomplete}`
}
