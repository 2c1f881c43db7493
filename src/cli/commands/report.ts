/** `memberlens report`: a self-contained HTML report of the metric tree for a period. */
import { writeFile } from 'node:fs/promises'
import { Command } from 'commander'
import { buildHtmlReport, type ReportLang } from '../../analytics/reporting/report.js'
import { systemClock } from '../../core/clock.js'
import { formatInZone } from '../../core/time-zone.js'
import { timeZoneOption } from '../time-zone-option.js'
import { openDatabase } from '../../store/database.js'
import { langOption } from '../lang.js'
import { dbOption } from '../database.js'

export function registerReportCommands(program: Command): void {
  program
    .command('report')
    .description(
      'write a self-contained HTML report (metric tree, key figures, charts) that reads offline',
    )
    .addOption(dbOption())
    .option('--period <YYYY-MM>', 'month to report (default: the last complete month of the data)')
    .addOption(langOption('the report'))
    .requiredOption('--out <file>', 'HTML file to write')
    .addOption(timeZoneOption())
    .action(
      async (flags: { db: string; period?: string; lang: ReportLang; out: string; tz: string }) => {
        const db = await openDatabase(flags.db, { readOnly: true })
        try {
          const html = await buildHtmlReport(db.driver, {
            ...(flags.period === undefined ? {} : { period: flags.period }),
            lang: flags.lang,
            timezone: flags.tz,
            generatedAt: formatInZone(systemClock.now(), flags.tz),
          })
          await writeFile(flags.out, html)
          process.stdout.write(`wrote ${flags.out} (${Math.round(html.length / 1024)} kB)\n`)
        } finally {
          await db.close()
        }
      },
    )
}
