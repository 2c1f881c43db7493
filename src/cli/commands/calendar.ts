/**
 * `memberlens calendar --year Y`: the retail calendar of a year — the lunar festivals, 清明, the shopping
 * festivals with their pre-sale windows, 年货节, and the brand's own events from `--events <file.yaml>`.
 * @module
 */
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import pc from 'picocolors'
import {
  FIRST_YEAR,
  LAST_YEAR,
  calendarFor,
  parseBrandEvents,
  type BrandEvent,
  type CalendarEvent,
  type EventKind,
} from '../../calendar/index.js'
import { ConfigError, InputError } from '../../core/errors.js'
import { langOption, translator, type Lang } from '../lang.js'
import type { Message } from '../messages.js'
import { printJson, table } from '../output.js'

const KIND_LABEL: Readonly<Record<EventKind, Message>> = {
  lunar: 'calendar|lunar',
  'solar-term': 'calendar|solar term',
  fixed: 'calendar|fixed date',
  brand: 'calendar|brand',
}

/** The year's events as a table in the language. */
export function renderCalendar(year: number, events: readonly CalendarEvent[], lang: Lang): string {
  const t = translator(lang)
  const rows = events.map((e) => [
    e.date ?? '',
    e.start === e.end ? '' : `${e.start} … ${e.end}`,
    lang === 'zh' ? e.name.zh : e.name.en,
    t(KIND_LABEL[e.kind]),
    e.id,
  ])
  return [
    pc.bold(t('Retail calendar {year}', { year })),
    table(
      [
        t('calendar|day'),
        t('calendar|window (pre-sale included)'),
        t('calendar|event'),
        t('calendar|kind'),
        'id',
      ],
      rows,
    ),
    pc.dim(
      t(
        'Lunar festivals and 清明 are computed for the year; 年货节 is the four weeks before 春节.',
      ),
    ),
  ].join('\n')
}

function parseYear(raw: string): number {
  const year = Number(raw)
  if (!/^\d{4}$/.test(raw) || year < FIRST_YEAR || year > LAST_YEAR)
    throw InputError.single({
      field: '--year',
      value: raw,
      reason: `expected a year from ${FIRST_YEAR} to ${LAST_YEAR}, e.g. 2026`,
    })
  return year
}

/** The brand's events from a YAML file (errors name the file, line, field and reason). */
export function readEvents(file: string): BrandEvent[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new ConfigError(`${file}: cannot be read (${(e as Error).message})`)
  }
  return parseBrandEvents(text, file)
}

/** Registers `memberlens calendar`. */
export function registerCalendarCommands(program: Command): void {
  program
    .command('calendar')
    .description(
      'the retail calendar of a year: 春节, 元宵, 清明, 端午, 七夕, 中秋, 38节, 520, 618, 双11, 双12, 年货节 and the brand events',
    )
    .requiredOption('--year <year>', `Gregorian year (${FIRST_YEAR}–${LAST_YEAR})`)
    .option(
      '--events <file>',
      "the brand's own events (会员日, campaigns) as YAML; see docs/calendar.md",
    )
    .addOption(langOption('the event names and headers'))
    .option('--json', 'machine-readable JSON', false)
    .addHelpText(
      'after',
      `
Lunar dates and 清明 are computed by a lunar-calendar library, not typed in. Each event has a day, a window
(start … end, the pre-sale included) or both.

Examples:
  memberlens calendar --year 2026
  memberlens calendar --year 2026 --events brand-events.yaml --lang zh
  memberlens calendar --year 2027 --json`,
    )
    .action((flags: { year: string; events?: string; lang: Lang; json: boolean }) => {
      const year = parseYear(flags.year)
      const brand = flags.events === undefined ? [] : readEvents(flags.events)
      const events = calendarFor(year, brand)
      if (flags.json) printJson({ year, events })
      else process.stdout.write(`${renderCalendar(year, events, flags.lang)}\n`)
    })
}
