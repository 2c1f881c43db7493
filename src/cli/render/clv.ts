/**
 * The CLV distribution of a run as a table: total, mean, quantiles and the top decile's share of value
 * (`clv fit`, `demo`).
 * @module
 */
import type { ClvDistribution } from '../../analytics/clv/clv.js'
import type { Lang } from '../lang.js'
import { translator } from '../lang.js'
import { fmt, money, pct, table } from '../output.js'

/** The distribution's table; `withMembers` adds the number of members scored as the first column. */
export function clvDistributionTable(d: ClvDistribution, lang: Lang, withMembers = false): string {
  const t = translator(lang)
  const q = d.quantiles
  return table(
    [
      ...(withMembers ? [t('members')] : []),
      t('total'),
      t('mean'),
      'p10',
      'p25',
      t('median'),
      'p75',
      'p90',
      'p99',
      t('top 10 % share'),
    ],
    [
      [
        ...(withMembers ? [fmt(d.members)] : []),
        money(d.total, lang),
        money(d.mean, lang),
        money(q.p10, lang),
        money(q.p25, lang),
        money(q.p50, lang),
        money(q.p75, lang),
        money(q.p90, lang),
        money(q.p99, lang),
        pct(d.top10Share),
      ],
    ],
  )
}
