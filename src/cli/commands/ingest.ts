import { systemClock } from '../../core/clock.js'
import { InputError } from '../../core/errors.js'
import { INGEST_TABLES, isIngestTable } from '../../core/schema.js'
import {
  ingestFile,
  type IngestOptions,
  type IngestPhase,
  type IngestReport,
} from '../../duckdb/ingest/ingest.js'
import { PRESETS, findPreset, type PresetReport } from '../../duckdb/ingest/presets/index.js'
import type { Database } from '../../store/database.js'
import { configuredFallback } from '../config.js'
import { printJson } from '../output.js'
import { createProgress, type Progress } from '../progress.js'
import {
  identityGuardOptions,
  readMappingFile,
  type IngestFlags,
  parseMapFlags,
} from '../validations/ingest.js'
import { renderIngest } from '../render/ingest.js'

/** Loads each file in turn (each file is atomic); stops at the first bad file. */
export async function runIngest(
  db: Database,
  target: string,
  files: readonly string[],
  flags: IngestFlags,
): Promise<void> {
  const progress = createProgress(!flags.json && !flags.quiet)
  const preset = findPreset(target)
  const results: Array<IngestReport | PresetReport> = []
  try {
    if (preset) {
      // A flag, then MEMBERLENS_INGEST_TZ / ingest_tz in memberlens.config.yaml (a preset has no mapping file).
      const presetZone = flags.tz ?? configuredFallback('ingest_tz')
      for (const file of files) {
        const watch = watchPhases(db, progress)
        try {
          results.push(
            await preset.load(db.driver, file, {
              clock: systemClock,
              dryRun: flags.dryRun,
              maxIssues: flags.maxErrors,
              ...(presetZone === undefined ? {} : { timezone: presetZone }),
              onPhase: watch.onPhase,
            }),
          )
        } finally {
          watch.stop()
        }
      }
    } else {
      if (!isIngestTable(target)) {
        throw InputError.single({
          field: 'table',
          value: target,
          reason: `unknown table or preset (tables: ${INGEST_TABLES.join(', ')}; presets: ${Object.keys(PRESETS).join(', ')})`,
        })
      }
      const fromFile = flags.mapping === undefined ? {} : await readMappingFile(flags.mapping)
      if (fromFile.table !== undefined && fromFile.table !== target) {
        throw InputError.single({
          file: flags.mapping,
          field: 'table',
          value: fromFile.table,
          reason: `mapping is for ${fromFile.table}, not ${target}`,
        })
      }
      const ignore = [
        ...(fromFile.ignore ?? []),
        ...(flags.ignore ? flags.ignore.split(',').map((s) => s.trim()) : []),
      ]
      // A flag, then the mapping file, then MEMBERLENS_INGEST_TZ / ingest_tz in memberlens.config.yaml. Never
      // the project time zone: it says how to count days, not how the source wrote its timestamps.
      const timezone = flags.tz ?? fromFile.timezone ?? configuredFallback('ingest_tz')
      const projectZone = configuredFallback('tz')
      const dateFormat = flags.dateFormat ?? fromFile.date_format
      const currency = flags.currency ?? fromFile.currency ?? configuredFallback('currency')
      const delimiter = flags.delimiter ?? fromFile.delimiter
      const encoding = flags.encoding ?? fromFile.encoding
      const maxLineSize = flags.maxLineSize ?? fromFile.max_line_size
      const format = flags.format ?? fromFile.format
      const countryCode = flags.countryCode ?? fromFile.country_code
      const options: IngestOptions = {
        table: target,
        clock: systemClock,
        columns: { ...(fromFile.columns ?? {}), ...parseMapFlags(flags.map) },
        ignore,
        unknownIdentity: flags.unknownIdentity ?? fromFile.unknown_identity ?? 'create',
        identityGuards: identityGuardOptions(fromFile, flags),
        dryRun: flags.dryRun,
        maxIssues: flags.maxErrors,
        ...(timezone === undefined ? {} : { timezone }),
        ...(dateFormat === undefined ? {} : { dateFormat }),
        ...(currency === undefined ? {} : { currency }),
        ...(delimiter === undefined ? {} : { delimiter: delimiter === '\\t' ? '\t' : delimiter }),
        ...(encoding === undefined ? {} : { encoding }),
        ...(maxLineSize === undefined ? {} : { maxLineSize }),
        ...(format === undefined ? {} : { format }),
        ...(countryCode === undefined ? {} : { defaultCountryCode: countryCode }),
        // A database without a rollup gets one keyed by the project's days (its --tz is another setting).
        ...(projectZone === undefined ? {} : { rollupTimezone: projectZone }),
      }
      for (const file of files) {
        const watch = watchPhases(db, progress)
        try {
          results.push(await ingestFile(db.driver, file, { ...options, onPhase: watch.onPhase }))
        } finally {
          watch.stop()
        }
      }
    }
  } finally {
    progress.stop()
  }
  if (flags.json) {
    printJson({ loads: results })
    return
  }
  if (!flags.quiet) process.stdout.write(`${renderIngest(results, flags.lang)}\n`)
}

/** Drives the progress bar from the engine's own progress while a phase runs. */
function watchPhases(
  db: Database,
  progress: Progress,
): { onPhase: (p: IngestPhase, d?: { rows?: number }) => void; stop: () => void } {
  let timer: NodeJS.Timeout | undefined
  let rows = 0
  const stop = () => {
    if (timer) clearInterval(timer)
    timer = undefined
  }
  return {
    onPhase(phase, detail) {
      stop()
      if (detail?.rows !== undefined) rows = detail.rows
      if (phase === 'done') {
        progress.update(rows)
        return
      }
      const label =
        phase === 'reading' ? 'reading file' : phase === 'rollups' ? 'updating rollups' : phase
      progress.phase(
        label,
        phase === 'reading' ? 100 : Math.max(rows, 1),
        phase === 'reading' ? 'percent' : 'rows',
      )
      timer = setInterval(() => {
        const p = db.driver.progress()
        if (p.percentage < 0) return
        progress.update(
          phase === 'reading' ? Math.round(p.percentage) : Math.round((p.percentage / 100) * rows),
        )
      }, 100)
      timer.unref()
    },
    stop,
  }
}
