/**
 * The brand's own events (会员日, campaigns, anniversaries) from a YAML file, checked with zod. Each event has
 * an id, a Chinese and an English name and one way of being dated: a day (`date`), a window (`start` and
 * `end`), a day of every month (`monthly`) or a day of every year (`annual: MM-DD`). Problems name the file,
 * the line, the field and the reason.
 * @module
 */
import { z } from 'zod'
import { parseYamlWith } from '../core/yaml-input.js'
import { addDays, builtInEvents, inYear, type CalendarEvent } from './retail-calendar.js'

/** The ids of the built-in events, which a brand's event may not take. */
const BUILT_IN_IDS: ReadonlySet<string> = new Set(builtInEvents(2000).map((e) => e.id))

const DAY = /^\d{4}-\d{2}-\d{2}$/

/** A real calendar day written `YYYY-MM-DD`. */
const day = z.string().refine((s) => DAY.test(s) && isRealDay(s), {
  message: 'must be a day written YYYY-MM-DD (e.g. 2026-03-15)',
})

function isRealDay(s: string): boolean {
  const d = new Date(`${s}T00:00:00Z`)
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s
}

const brandEvent = z
  .object({
    id: z
      .string()
      .regex(
        /^[a-z][a-z0-9_-]*$/,
        'must be lower-case letters, digits, "_" or "-", starting with a letter',
      ),
    name: z.object({ zh: z.string().min(1), en: z.string().min(1) }).strict(),
    date: day.optional(),
    start: day.optional(),
    end: day.optional(),
    monthly: z.number().int().min(1).max(28).optional().meta({
      description: 'day of every month (1–28, so every month has it)',
    }),
    annual: z
      .string()
      .regex(/^\d{2}-\d{2}$/, 'must be a month and day written MM-DD (e.g. 09-18)')
      .refine((s) => isRealDay(`2024-${s}`), 'is not a day of the year')
      .optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    const forms = [
      e.date !== undefined,
      e.start !== undefined || e.end !== undefined,
      e.monthly !== undefined,
      e.annual !== undefined,
    ].filter(Boolean).length
    if (forms !== 1)
      ctx.addIssue({
        code: 'custom',
        message:
          'needs exactly one of: date, start and end, monthly (day of the month), annual (MM-DD)',
      })
    if ((e.start === undefined) !== (e.end === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [e.start === undefined ? 'start' : 'end'],
        message: 'a window needs both start and end',
      })
    if (e.start !== undefined && e.end !== undefined && e.end < e.start)
      ctx.addIssue({ code: 'custom', path: ['end'], message: `is before start ${e.start}` })
  })

export const brandEventsSchema = z
  .object({ events: z.array(brandEvent) })
  .strict()
  .superRefine((f, ctx) => {
    const seen = new Map<string, number>()
    f.events.forEach((e, i) => {
      const first = seen.get(e.id)
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['events', i, 'id'],
          message: `repeats the id of event ${first + 1}`,
        })
      else seen.set(e.id, i)
      if (BUILT_IN_IDS.has(e.id))
        ctx.addIssue({
          code: 'custom',
          path: ['events', i, 'id'],
          message: `is the id of a built-in event (${[...BUILT_IN_IDS].join(', ')})`,
        })
    })
  })

export type BrandEvent = z.infer<typeof brandEvent>

/**
 * Reads the brand's events from YAML text; `file` names the file in errors. Throws an {@link InputError}
 * naming the file, the line, the field and the reason of every problem found.
 */
export function parseBrandEvents(text: string, file: string): BrandEvent[] {
  return parseYamlWith(brandEventsSchema, text, file).events
}

const pad = (n: number): string => String(n).padStart(2, '0')

/** The dated events of the brand's list whose window touches Gregorian `year`. */
export function brandEventsFor(events: readonly BrandEvent[], year: number): CalendarEvent[] {
  const out: CalendarEvent[] = []
  for (const e of events) {
    const base = { name: e.name, kind: 'brand' as const }
    if (e.date !== undefined)
      out.push({ ...base, id: e.id, date: e.date, start: e.date, end: e.date })
    else if (e.start !== undefined && e.end !== undefined)
      out.push({ ...base, id: e.id, date: null, start: e.start, end: e.end })
    else if (e.monthly !== undefined)
      for (let m = 1; m <= 12; m++) {
        const d = `${year}-${pad(m)}-${pad(e.monthly)}`
        out.push({ ...base, id: `${e.id}:${year}-${pad(m)}`, date: d, start: d, end: d })
      }
    else if (e.annual !== undefined) {
      const d = `${year}-${e.annual}`
      // 02-29 falls on 1 March in a common year.
      const real = isRealDay(d) ? d : addDays(`${year}-02-28`, 1)
      out.push({ ...base, id: e.id, date: real, start: real, end: real })
    }
  }
  return out.filter((e) => inYear(e, year))
}
