/**
 * Retention as text: the cohort matrix with shaded rates (`cohorts`) and the demo's retention summary.
 * @module
 */
import pc from 'picocolors'
import { getCohortRetention, type RetentionTable } from '../../engine/cohorts/cohort-retention.js'
import type { Driver } from '../../engine/drivers/driver.js'
import { STAGE_NAMES } from '../../engine/lifecycle/lifecycle-config.js'
import { getStageCounts } from '../../engine/lifecycle/lifecycle-stages.js'
import { translator, type Lang, codeName } from '../lang.js'
import { fmt, pct, table, MISSING } from '../output.js'
import { resolveZonedAsOf } from '../validations/retention.js'
import stringWidth from 'string-width'

const ANSI_RE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g')
const stripAnsi = (s: string) => s.replace(ANSI_RE, '')
/** The demo's retention summary as of the day `asOf` (YYYY-MM-DD) in the project time zone `timezone`. */
export async function renderRetentionSummary(
  driver: Driver,
  asOf: string,
  timezone = 'UTC',
  lang: Lang = 'en',
): Promise<string> {
  const tr = translator(lang)
  const from = new Date(Date.parse(`${asOf}T00:00:00Z`))
  from.setUTCMonth(from.getUTCMonth() - 12, 1)
  const t = await getCohortRetention(driver, {
    grain: 'month',
    periods: 11,
    asOf,
    from: from.toISOString().slice(0, 10),
    timezone,
  })
  const at = await resolveZonedAsOf(driver, asOf, timezone)
  const stages = await getStageCounts(driver, at.instant)
  const total = stages.reduce((sum, c) => sum + c.members, 0)
  return [
    renderRetention(t, lang),
    '',
    pc.bold(tr('Lifecycle stages as of {asOf}', { asOf: at.label })),
    table(
      [tr('stage'), tr('members'), tr('share')],
      stages.map((c) => [
        lang === 'zh'
          ? STAGE_NAMES[c.stage].zh
          : `${STAGE_NAMES[c.stage].en} ${STAGE_NAMES[c.stage].zh}`,
        fmt(c.members),
        pct(total > 0 ? c.members / total : null),
      ]),
    ),
  ].join('\n')
}

/** The cohort table: one row per cohort (and dimension value), one shaded column per period, averages last. */
export function renderRetention(t: RetentionTable, lang: Lang = 'en'): string {
  const tr = translator(lang)
  const periods = t.spec.periods
  const head = [
    tr('cohort'),
    ...(t.spec.dimension ? [t.spec.dimension] : []),
    tr('members'),
    ...Array.from({ length: periods + 1 }, (_, k) => `${k}`),
  ]
  const cellText = (rate: number | null) => (rate === null ? '' : pct(rate, 1)).padStart(6)
  const rows = t.cohorts.map((c) => [
    c.cohort,
    ...(t.spec.dimension ? [c.dimension ?? MISSING] : []),
    fmt(c.size).padStart(7),
    ...c.cells.map((x) => shade(x.rate, cellText(x.rate))),
  ])
  const widths = head.map((h, i) =>
    Math.max(stringWidth(h), ...rows.map((r) => stripAnsi(r[i] ?? '').length)),
  )
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) =>
        i < (t.spec.dimension ? 2 : 1)
          ? c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - stringWidth(stripAnsi(c))))
          : ' '.repeat(Math.max(0, (widths[i] ?? 0) - stringWidth(stripAnsi(c)))) + c,
      )
      .join(' ')
  const out = [pc.bold(line(head.map((h) => h))), ...rows.map(line)]
  for (const [dim, avg] of Object.entries(t.averages)) {
    out.push(
      line([
        pc.bold(tr('average')),
        ...(t.spec.dimension ? [dim || MISSING] : []),
        '',
        ...avg.map((a) => shade(a.rate, cellText(a.rate))),
      ]),
    )
  }
  const title = tr(
    t.form === 'unbounded'
      ? 'Unbounded retention · {anchor} cohorts by {grain} · activity {activity} · as of {asOf}'
      : 'N-period retention · {anchor} cohorts by {grain} · activity {activity} · as of {asOf}',
    {
      anchor: codeName(t.spec.anchor, lang),
      grain: codeName(t.spec.grain, lang),
      activity: codeName(t.spec.activity, lang),
      asOf: `${t.spec.asOf.length > 10 ? t.spec.asOf.slice(0, 16) : `${t.spec.asOf} 00:00`} ${t.spec.timezone ?? 'UTC'}`,
    },
  )
  return [
    pc.bold(title),
    ...out,
    pc.dim(
      tr('Blank cells: the period has not ended. Averages weight complete cells by cohort size.'),
    ),
  ].join('\n')
}

/** Background shade of a retention rate: darker for higher, so the table reads as a heat map. */
export function shade(rate: number | null, text: string): string {
  if (rate === null) return pc.dim(text)
  if (rate >= 0.6) return pc.bgGreen(pc.black(text))
  if (rate >= 0.4) return pc.bgCyan(pc.black(text))
  if (rate >= 0.2) return pc.bgBlue(pc.white(text))
  if (rate >= 0.05) return pc.bgMagenta(pc.white(text))
  return text
}
