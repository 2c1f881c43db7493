/**
 * The report of a load as text: rows read, inserted, updated and rejected per file (`ingest`, `demo`).
 * @module
 */
import pc from 'picocolors'
import { type IngestReport } from '../../duckdb/ingest/ingest.js'
import { type PresetReport } from '../../duckdb/ingest/presets/index.js'
import { translator, type Lang } from '../lang.js'
import { count, table } from '../output.js'
import { heldBackReason, identityTypeName } from './members.js'

export function renderIngest(
  results: ReadonlyArray<IngestReport | PresetReport>,
  lang: Lang = 'en',
): string {
  const t = translator(lang)
  const rows: string[][] = []
  const notes: string[] = []
  for (const r of results) {
    const reports = 'preset' in r ? r.tables : [r]
    for (const x of reports) {
      rows.push([
        x.file.split('/').pop() ?? x.file,
        x.table,
        count(x.rowsRead, lang),
        count(x.rowsInserted, lang),
        count(x.rowsUpdated, lang),
        count(x.rowsUnchanged, lang),
        count(x.membersCreated, lang),
        count(x.membersMerged, lang),
      ])
      if (x.identitiesHeldBack > 0) {
        const file = x.file.split('/').pop() ?? x.file
        const listed = x.heldBack
          .map((h) =>
            t('{id} ({n} members, {reason})', {
              id: `${identityTypeName(h.identityType, lang)}:${h.identityValue}`,
              n: count(h.members, lang),
              reason: heldBackReason(h.reason, lang),
            }),
          )
          .join('; ')
        const more = x.identitiesHeldBack > x.heldBack.length ? '; …' : ''
        notes.push(
          t('{file}: {n} identifier(s) kept but not used to merge: {listed}', {
            file,
            n: count(x.identitiesHeldBack, lang),
            listed: `${listed}${more}`,
          }),
        )
      }
    }
    if ('preset' in r) {
      const skipped = Object.entries(r.skipped)
      if (skipped.length > 0) {
        notes.push(
          t('{preset}: {n} source lines; skipped by rule: {skipped}', {
            preset: r.preset,
            n: count(r.rowsRead, lang),
            skipped: skipped.map(([k, n]) => `${k} ${count(n, lang)}`).join(', '),
          }),
        )
      }
    }
  }
  const dry = results.some((r) => r.dryRun)
  const head = table(
    [
      t('file'),
      t('table'),
      t('rows'),
      t('inserted'),
      t('ingest|updated'),
      t('unchanged'),
      t('new members'),
      t('merged'),
    ],
    rows,
  )
  return [
    dry ? pc.yellow(t('dry run: validated and resolved, nothing written')) : '',
    head,
    ...notes,
  ]
    .filter((s) => s !== '')
    .join('\n')
}
