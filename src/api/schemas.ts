/**
 * Request-parameter schemas shared by the routes. Dates are checked against the calendar, not only their
 * shape, so `2026-13` or `2026-02-30` is a 400 naming the parameter instead of reaching the engine.
 * @module
 */
import { z } from '@hono/zod-openapi'
import { IDENTITY_TYPES, type IdentityType } from '../core/schema.js'
import { parseIdentityList } from '../engine/segments/identity-columns.js'
import { Text } from './openapi.js'

/** Date forms a parameter may accept. */
export type DateForm = 'year' | 'month' | 'day'

const SHAPES: Readonly<Record<DateForm, { re: RegExp; label: string }>> = {
  year: { re: /^\d{4}$/, label: 'YYYY' },
  month: { re: /^\d{4}-\d{2}$/, label: 'YYYY-MM' },
  day: { re: /^\d{4}-\d{2}-\d{2}$/, label: 'YYYY-MM-DD' },
}

/** True when `text` is a real calendar year, month or day in one of the given forms. */
export function isCalendarDate(text: string, forms: readonly DateForm[]): boolean {
  const form = forms.find((f) => SHAPES[f].re.test(text))
  if (form === undefined) return false
  const [y, m = 1, d = 1] = text.split('-').map(Number) as [number, number?, number?]
  if (m < 1 || m > 12 || d < 1) return false
  const t = new Date(Date.UTC(y, m - 1, d))
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d
}

/** The words a date error gives for the accepted forms, e.g. `a date YYYY-MM or YYYY-MM-DD`. */
function describe(forms: readonly DateForm[]): string {
  const labels = forms.map((f) => SHAPES[f].label)
  const list =
    labels.length === 1 ? labels[0] : `${labels.slice(0, -1).join(', ')} or ${labels.at(-1)}`
  return `expected a real calendar date ${list} (month 01–12, a day the month has)`
}

/** A string parameter holding a calendar date in one of the given forms. */
export function calendarDate(...forms: DateForm[]) {
  return z
    .string()
    .max(10)
    .refine((s) => isCalendarDate(s, forms), { message: describe(forms) })
}

/** `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a month or year stands for its first day). */
export const anyDate = calendarDate('year', 'month', 'day')
/** `YYYY-MM-DD`. */
export const day = calendarDate('day')
/** `YYYY-MM`. */
export const month = calendarDate('month')
/** `YYYY-MM` or `YYYY-MM-DD`. */
export const monthOrDay = calendarDate('month', 'day')

/** A comma-separated list parameter (`a,b,c`) of at most `max` non-empty items. */
export const list = (max = 50) =>
  z
    .string()
    .max(2000)
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== ''),
    )
    .pipe(z.array(z.string().min(1).max(100)).max(max))

/** How a period was compared for `:yoy_event` (engine `EventAlignment`). */
export const AlignmentSchema = z
  .object({
    event: z
      .object({ id: z.string(), name: Text, date: z.string(), lastYear: z.string() })
      .nullable()
      .openapi({ description: 'The event aligned on; null when the calendar :yoy was used' }),
    daysBack: z
      .number()
      .openapi({ description: 'Days the compared window lies before the period' }),
    against: z.object({ from: z.string(), to: z.string() }),
    fallback: z
      .enum(['grain', 'no event within reach', 'event missing last year'])
      .optional()
      .openapi({ description: 'Why the calendar :yoy was used' }),
  })
  .openapi('EventAlignment')

/**
 * `ids`: source identity types to add to each member of a per-member list (`customer_id,phone`), parsed by
 * {@link parseIdsParam} in the handler so that a bad type is a 400 naming `ids` and the accepted types.
 */
export const IdsParam = z
  .string()
  .max(200)
  .optional()
  .openapi({
    description: `Source identities to add to each member, separated by commas: ${IDENTITY_TYPES.join(', ')}. The first-seen identity of each type, phones in E.164; masked for roles without the pii scope; null where the member has none.`,
    example: 'customer_id,phone',
  })

/** The identities {@link IdsParam} asked for, by type (present only when `ids` was given). */
export const MemberIdentitiesSchema = z
  .record(z.string(), z.string().nullable())
  .openapi('MemberIdentities', {
    description: 'The member’s source identities of the types listed in `ids`, by type',
  })

/** The identity types of an `ids` parameter (none when absent); InputError naming `ids` otherwise. */
export function parseIdsParam(value: string | undefined): IdentityType[] {
  return value === undefined ? [] : parseIdentityList(value, 'ids')
}
