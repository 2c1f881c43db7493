import { rm } from 'node:fs/promises'
import pc from 'picocolors'
import { simulate } from '../../simulate/simulate.js'
import { translator, type Lang } from '../lang.js'
import { count, printJson, table } from '../output.js'
import { createProgress } from '../progress.js'
import type { IngestTable } from '../../core/schema.js'
import { csvFilesToParquet } from '../../duckdb/parquet.js'

export interface SimulateFlags {
  members: number
  months: number
  seed: number
  end: string
  out: string
  format: 'csv' | 'parquet'
  tables?: readonly IngestTable[]
  calendarDemand?: boolean
  /** Plant covariate effects (registration channel, high season) for the CLV covariate model. */
  plantedCovariates?: boolean
  /** Also simulate the randomised multi-arm retention campaign. */
  upliftCampaign?: boolean
  /** Also hold members out of every member campaign (a universal holdout recorded as an experiment). */
  universalHoldout?: boolean
  json: boolean
  quiet: boolean
  lang?: Lang
  identityCases?: boolean
  /** Also plant points-farming rings and honest look-alikes (for `loyalty farming`). */
  plantedFarming?: boolean
}

/** Writes simulated source files (CSV, or Parquet converted by DuckDB) and the ground truth. */
export async function runSimulate(flags: SimulateFlags): Promise<void> {
  const progress = createProgress(!flags.json && !flags.quiet)
  progress.phase('simulating members', flags.members)
  const started = performance.now()
  const result = await simulate(flags.out, {
    members: flags.members,
    months: flags.months,
    seed: flags.seed,
    end: flags.end,
    ...(flags.tables === undefined ? {} : { tables: flags.tables }),
    ...(flags.calendarDemand === true ? { calendarDemand: true } : {}),
    ...(flags.plantedCovariates === true ? { plantedCovariates: true } : {}),
    ...(flags.identityCases === true ? { identityCases: true } : {}),
    ...(flags.plantedFarming === true ? { plantedFarming: true } : {}),
    upliftCampaign: flags.upliftCampaign === true,
    ...(flags.universalHoldout === true ? { universalHoldout: true } : {}),
    onProgress: (done) => progress.update(done),
  })
  progress.stop()
  const files: Record<string, string> = { ...(result.files as Record<string, string>) }
  if (flags.format === 'parquet') {
    const pairs = Object.entries(files).map(([t, csv]) => ({
      t,
      csv,
      parquet: csv.replace(/\.csv$/, '.parquet'),
    }))
    await csvFilesToParquet(pairs)
    for (const { t, csv, parquet } of pairs) {
      await rm(csv)
      files[t] = parquet
    }
  }
  const seconds = (performance.now() - started) / 1000
  if (flags.json) {
    printJson({ files, rows: result.rows, truthFile: result.truthFile, seconds })
    return
  }
  if (!flags.quiet) {
    const lang = flags.lang ?? 'en'
    const t = translator(lang)
    process.stdout.write(
      `${table(
        [t('table'), t('rows'), t('file')],
        Object.entries(files).map(([name, f]) => [name, count(result.rows[name] ?? 0, lang), f]),
      )}\n` +
        pc.dim(
          `${t('ground truth: {file} · {seconds} s', { file: result.truthFile, seconds: seconds.toFixed(1) })}\n`,
        ),
    )
  }
}
