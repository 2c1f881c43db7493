/**
 * `memberlens segments save|list|show|export|delete`: saved member segments and their export for SMS,
 * email, WeChat and push tools.
 * @module
 */
import { timeZoneOption } from '../time-zone-option.js'
import { writeFile } from 'node:fs/promises'
import { Command, Option } from 'commander'
import pc from 'picocolors'
import { systemClock } from '../../core/clock.js'
import { InputError } from '../../core/errors.js'
import {
  EXPORT_FORMATS,
  formatExport,
  getSegmentExportRows,
  type ExportFormat,
} from '../../engine/segments/segment-export.js'
import { countSegmentMembers } from '../../engine/segments/segment-summary.js'
import { segmentFilterSchema } from '../../engine/segments/segment-schema.js'
import {
  deleteSegment,
  getSegment,
  listSegments,
  saveSegment,
} from '../../engine/segments/segment-store.js'
import { fmt, printJson, table } from '../output.js'
import { zonedAsOfOption, parseWith, resolveZonedAsOf } from '../validations/retention.js'
import { addEngineOptions, withEngine, type EngineFlags } from '../engine-options.js'
import { langOption, translator, type Lang } from '../lang.js'

import { dbOption, withDatabase } from '../database.js'
import { readConfigFile } from '../config-file.js'
const jsonOption = () => new Option('--json', 'machine-readable JSON on stdout').default(false)

/** Registers `memberlens segments …`. */
export function registerSegmentCommands(program: Command): void {
  const segments = program
    .command('segments')
    .description(
      'saved member segments (filters on attributes, lifecycle stage, RFM segment, cohort) and their export',
    )
    .addHelpText(
      'after',
      `
Definitions are kept in the DuckDB database (--db): save, list and delete work there. show and export
count and export the members on the engine chosen with --engine (DuckDB by default, or ClickHouse).

Examples:
  memberlens segments save lapsed-vips --config examples/segments.yaml
  memberlens segments save app-sms --filter '{"registrationChannel":["app"],"consent":{"sms":true}}'
  memberlens segments list
  memberlens segments show lapsed-vips
  memberlens segments export lapsed-vips --format csv --out lapsed-vips.csv`,
    )

  segments
    .command('save')
    .description('validate and save (or replace) a segment')
    .argument('<name>', 'segment name')
    .addOption(dbOption())
    .option(
      '--config <file>',
      'YAML/JSON with the filter (a `filter:` key, or the filter itself) and an optional description',
    )
    .option('--filter <json>', 'the filter as JSON')
    .option('--description <text>', 'what the segment is for')
    .addOption(langOption())
    .addOption(jsonOption())
    .action(
      async (
        name: string,
        flags: {
          db: string
          config?: string
          filter?: string
          description?: string
          lang?: Lang
          json: boolean
        },
      ) => {
        let body: Record<string, unknown>
        if (flags.config !== undefined) {
          const raw = await readConfigFile(flags.config)
          const obj = (raw ?? {}) as Record<string, unknown>
          body = 'filter' in obj ? obj : { filter: obj }
        } else if (flags.filter !== undefined) {
          try {
            body = { filter: JSON.parse(flags.filter) as unknown }
          } catch (e) {
            throw InputError.single({
              field: '--filter',
              reason: `not valid JSON: ${(e as Error).message}`,
            })
          }
        } else {
          throw InputError.single({
            field: '--config',
            reason: 'give the filter with --config <file> or --filter <json>',
          })
        }
        const input: Record<string, unknown> = {
          ...body,
          name,
          ...(flags.description === undefined ? {} : { description: flags.description }),
        }
        parseWith(segmentFilterSchema, input['filter'] ?? {}, 'filter setting')
        await withDatabase(flags.db, 'write', async (db) => {
          const saved = await saveSegment(db.driver, input as never, systemClock)
          if (flags.json) return printJson({ saved })
          process.stdout.write(
            `${translator(flags.lang)('Saved segment {name}.', { name: pc.bold(saved.name) })}\n`,
          )
        })
      },
    )

  segments
    .command('list')
    .description('list saved segments')
    .addOption(dbOption())
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (flags: { db: string; lang?: Lang; json: boolean }) =>
      withDatabase(flags.db, 'write', async (db) => {
        const t = translator(flags.lang)
        const all = await listSegments(db.driver)
        if (flags.json) return printJson({ segments: all })
        if (all.length === 0)
          return void process.stdout.write(
            `${t('No saved segments yet: memberlens segments save --help')}\n`,
          )
        process.stdout.write(
          `${table(
            [t('name'), t('description'), t('conditions'), t('updated')],
            all.map((s) => [
              s.definition.name,
              s.definition.description ?? '',
              Object.keys(s.definition.filter).join(', ') || t('(all members)'),
              s.updatedAt,
            ]),
          )}\n`,
        )
      }),
    )

  // Definitions live in the DuckDB database (--db); the members are counted and exported on the engine.
  addEngineOptions(segments.command('show'))
    .description('print a segment’s definition and its current size')
    .argument('<name>', 'segment name')
    .addOption(dbOption())
    .addOption(zonedAsOfOption())
    .addOption(timeZoneOption())
    .addOption(langOption())
    .addOption(jsonOption())
    .action(
      async (
        name: string,
        flags: EngineFlags & { db: string; asOf?: string; tz: string; lang?: Lang; json: boolean },
      ) => {
        const s = await withDatabase(flags.db, 'write', (db) => getSegment(db.driver, name))
        await withEngine(flags, async (driver) => {
          const at = await resolveZonedAsOf(driver, flags.asOf, flags.tz)
          const members = await countSegmentMembers(driver, s.definition.filter, at.instant)
          if (flags.json) return printJson({ ...s, asOf: at.local, timeZone: at.zone, members })
          process.stdout.write(
            `${pc.bold(s.definition.name)}${s.definition.description ? ` — ${s.definition.description}` : ''}\n`,
          )
          process.stdout.write(
            `${translator(flags.lang)('members (as of {asOf}): {n}', { asOf: at.label, n: fmt(members) })}\n`,
          )
          process.stdout.write(`${JSON.stringify(s.definition.filter, null, 2)}\n`)
        })
      },
    )

  addEngineOptions(segments.command('export'))
    .description(
      'write the members with phone (E.164), email, WeChat unionid, app user id, card number, POS and customer ids and consent flags',
    )
    .argument('<name>', 'segment name')
    .addOption(dbOption())
    .addOption(zonedAsOfOption())
    .addOption(timeZoneOption())
    .addOption(
      new Option('--format <format>', 'file format').choices(EXPORT_FORMATS).default('csv'),
    )
    .option('--out <file>', 'write to a file instead of stdout')
    .action(
      async (
        name: string,
        flags: EngineFlags & {
          db: string
          asOf?: string
          tz: string
          format: ExportFormat
          out?: string
        },
      ) => {
        const s = await withDatabase(flags.db, 'write', (db) => getSegment(db.driver, name))
        const rows = await withEngine(flags, async (driver) =>
          getSegmentExportRows(
            driver,
            s.definition.filter,
            (await resolveZonedAsOf(driver, flags.asOf, flags.tz)).instant,
          ),
        )
        const text = formatExport(rows, flags.format)
        if (flags.out === undefined) return void process.stdout.write(text)
        await writeFile(flags.out, text)
        process.stderr.write(`${fmt(rows.length)} members written to ${flags.out}\n`)
      },
    )

  segments
    .command('delete')
    .description('delete a saved segment')
    .argument('<name>', 'segment name')
    .addOption(dbOption())
    .action(async (name: string, flags: { db: string }) =>
      withDatabase(flags.db, 'write', async (db) => {
        if (!(await deleteSegment(db.driver, name)))
          throw InputError.single({ field: 'name', value: name, reason: 'no such segment' })
        process.stdout.write(`Deleted segment ${name}.\n`)
      }),
    )
}
