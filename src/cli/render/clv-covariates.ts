/**
 * Text view of the CLV covariate fit (`clv fit --covariates`, `clv report --covariates`): coding, the
 * likelihood-ratio test against plain BG/NBD and every effect with its standard error and interval.
 * @module
 */
import pc from 'picocolors'
import type { ClvCovariateReport } from '../../analytics/clv/covariates.js'
import { translator, type Lang } from '../lang.js'
import { decimal, fmt, keyValues, pct, table } from '../output.js'

function pValue(p: number): string {
  return p < 0.001 ? '< 0.001' : decimal(p, 3)
}

/** The covariate fit as text in `lang`. */
export function renderCovariates(c: ClvCovariateReport, lang: Lang = 'en'): string {
  const t = translator(lang)
  const coding = c.coding.map((k) => [
    k.covariate,
    `${t('clvcov|reference {level}', { level: k.reference })}; ${k.levels
      .map((l) => `${l.level} ${fmt(l.members)}`)
      .join(', ')}`,
  ])
  const windows =
    c.windows === null
      ? []
      : [[t('clvcov|season windows'), t('{n} windows (年货节, 618, 双11)', { n: c.windows.length })]]
  const p = c.params
  const rows = c.effects.map((e) => [
    t(
      e.process === 'purchase'
        ? 'clvcov|purchase rate'
        : c.model === 'pareto-nbd'
          ? 'clvcov|drop-out rate'
          : 'clvcov|drop-out odds',
    ),
    e.name === 'season' ? t('clvcov|season') : e.name,
    decimal(e.estimate, 3),
    decimal(e.standardError, 3),
    `[${decimal(e.lower, 3)}, ${decimal(e.upper, 3)}]`,
    `×${decimal(e.multiplier, 2)}`,
    pValue(e.pValue),
  ])
  return [
    pc.bold(
      t('Covariates on {model} ({level} intervals)', {
        model: c.model === 'pareto-nbd' ? 'Pareto/NBD' : 'BG/NBD',
        level: pct(c.confidenceLevel, 0),
      }),
    ),
    keyValues([
      ...(coding as [string, string][]),
      ...(windows as [string, string][]),
      [t('members'), fmt(c.members)],
      [
        t('LRT vs the model without covariates'),
        t('χ² {stat}, df {df}, p {p}', {
          stat: decimal(c.lrt.statistic, 1),
          df: c.lrt.df,
          p: pValue(c.lrt.pValue),
        }),
      ],
      [t('log-likelihood'), decimal(c.logLikelihood, 1)],
      [t('log-likelihood (without covariates)'), decimal(c.baseline.logLikelihood, 1)],
      [t('AIC / BIC'), `${decimal(c.aic, 1)} / ${decimal(c.bic, 1)}`],
      [
        t('base parameters (reference levels, outside windows)'),
        Object.entries(p)
          .map(([k, v]) => `${k} ${decimal(v as number, 4)}`)
          .join(', '),
      ],
    ]),
    '',
    table(
      [
        t('clvcov|process'),
        t('covariate'),
        t('clvcov|estimate'),
        t('clvcov|SE'),
        t('clvcov|interval'),
        t('clvcov|multiplier'),
        t('p-value'),
      ],
      rows,
    ),
    '',
    t(
      'Scores and CLV come from the model without covariates; the covariate fit explains differences between members.',
    ),
  ].join('\n')
}
