/**
 * `memberlens rollups rebuild | status`: the member × day activity rollup that ingest keeps and metric queries
 * read for activity, engagement and retention (docs/engine.md, "Rollups").
 * @module
 */
import { Command, Option } from 'commander'
import { systemClock } from '../../core/clock.js'
import { rebuildRollups, rollupStatus } from '../../duckdb/rollups/member-days.js'
import type { Database } from '../../store/database.js'
import { dbOption, withDatabase } from '../database.js'
import { langOption, translator, type Lang } from '../lang.js'
import { count, keyValues, printJson } from '../output.js'
import { createProgress } from '../progress.js'
import { addTimeZoneOption } from '../time-zone-option.js'

interface RebuildFlags {
  readonly db: string
  readonly tz: string
  readonly json: boolean
  readonly lang: Lang
}

interface StatusFlags {
  readonly db: string
  readonly json: boolean
  readonly lang: Lang
}

async function runRebuild(db: Database, flags: RebuildFlags): Promise<void> {
  const t = translator(flags.lang)
  const progress = createProgress(!flags.json)
  progress.phase(t('rebuilding rollups'), 100, 'percent')
  const timer = setInterval(() => {
    const p = db.driver.progress()
    if (p.percentage >= 0) progress.update(Math.round(p.percentage))
  }, 200)
  timer.unref()
  try {
    const r = await rebuildRollups(db.driver, { timezone: flags.tz, clock: systemClock })
    progress.update(100)
    progress.stop()
    if (flags.json) {
      printJson({ rollups: r })
      return
    }
    process.stdout.write(
      `${t('Rollups rebuilt in {seconds} s', { seconds: r.seconds.toFixed(1) })}\n${keyValues([
        [t('days counted in'), r.timezone],
        [t('rows'), count(r.rows, flags.lang)],
        [t('members'), count(r.members, flags.lang)],
        [t('days'), count(r.days, flags.lang)],
        [t('member-month rows'), count(r.monthRows, flags.lang)],
      ])}\n`,
    )
  } finally {
    clearInterval(timer)
    progress.stop()
  }
}

async function runStatus(db: Database, flags: StatusFlags): Promise<void> {
  const t = translator(flags.lang)
  const s = await rollupStatus(db.driver)
  if (flags.json) {
    printJson({ rollups: s ?? null })
    return
  }
  if (s === undefined) {
    process.stdout.write(
      `${t('No rollups: the next ingest or `memberlens rollups rebuild` creates them.')}\n`,
    )
    return
  }
  process.stdout.write(
    `${keyValues([
      [
        t('rollup state'),
        s.current
          ? t('current: matches the raw tables')
          : t('stale: run `memberlens rollups rebuild` (raw tables read meanwhile)'),
      ],
      [t('days counted in'), s.timezone],
      [t('rows'), count(s.rollupRows, flags.lang)],
      [
        t('member × month table'),
        s.monthsCurrent
          ? t('current: {rows} member-month rows', {
              rows: count(s.monthRows ?? 0, flags.lang),
            })
          : t(
              'not current: the next load or `memberlens rollups rebuild` recomputes it (month queries group the day rollup meanwhile)',
            ),
      ],
      [t('last written'), s.updatedAt],
    ])}\n`,
  )
}

/** Registers the `rollups` command group. */
export function registerRollupCommands(program: Command): void {
  const rollups = program
    .command('rollups')
    .description(
      'the member × day activity rollup (and its member × month table) that ingest keeps and metrics read for activity, engagement and retention',
    )
  addTimeZoneOption(
    rollups
      .command('rebuild')
      .description(
        'recompute the rollup from the raw tables, keyed by the local days of --tz (one transaction)',
      )
      .addOption(dbOption()),
  )
    .addOption(langOption())
    .addOption(new Option('--json', 'machine-readable JSON on stdout').default(false))
    .addHelpText(
      'after',
      '\nIngest keeps the rollup current by itself; rebuild it after changing the project time zone, or after\nwriting orders, events or feedback other than through ingest.\n\nExamples:\n  memberlens rollups rebuild\n  memberlens rollups rebuild --tz UTC --json',
    )
    .action(async (flags: RebuildFlags) => {
      await withDatabase(flags.db, 'write', (db) => runRebuild(db, flags))
    })
  rollups
    .command('status')
    .description('the rollup’s time zone, size and whether it matches the raw tables')
    .addOption(dbOption())
    .addOption(langOption())
    .addOption(new Option('--json', 'machine-readable JSON on stdout').default(false))
    .action(async (flags: StatusFlags) => {
      await withDatabase(flags.db, 'read', (db) => runStatus(db, flags))
    })
}
