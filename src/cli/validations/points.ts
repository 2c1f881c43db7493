/**
 * Parses `memberlens points …` and `memberlens tiers …` flags.
 * @module
 */
import { z } from 'zod'
import { InputError } from '../../core/errors.js'
import { BONUS_KINDS } from '../../ledger/ledger.service.js'
import { DEFAULT_LEDGER_DIR } from '../../ledger/stores/pglite-store.js'
import { langFlag } from '../lang.js'

/** The program file used when `--program` is not given. */
export const DEFAULT_PROGRAM_FILE = './loyalty-program.yaml'

/** A `--at`-style flag: an ISO date (midnight UTC) or time. */
export const isoTime = z
  .string()
  .refine(
    (s) =>
      /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) &&
      !Number.isNaN(Date.parse(s)),
    {
      message: 'expected an ISO date or time, e.g. 2026-11-01T10:00:00Z',
    },
  )
  .transform((s) => new Date(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s))

const common = {
  ledger: z.string().min(1).default(DEFAULT_LEDGER_DIR),
  program: z.string().min(1).default(DEFAULT_PROGRAM_FILE),
  json: z.boolean().default(false),
  at: isoTime.optional(),
  lang: langFlag,
}
const positiveInt = z.coerce.number().int('a whole number').positive()

export const earnFlagsSchema = z
  .object({
    ...common,
    key: z.string(),
    order: z.string().optional(),
    amount: z.string().optional(),
    channel: z.string().default('store'),
    bonus: z.enum(BONUS_KINDS).optional(),
    source: z.string().optional(),
  })
  .strict()
  .refine((f) => (f.bonus === undefined) !== (f.order === undefined), {
    message: 'give --order (with --amount) for spend points, or --bonus for a rule bonus',
    path: ['order'],
  })
  .refine((f) => f.order === undefined || f.amount !== undefined, {
    message: '--order needs --amount',
    path: ['amount'],
  })

export const redeemFlagsSchema = z
  .object({
    ...common,
    key: z.string(),
    reward: z.string().optional(),
    quantity: positiveInt.optional(),
    points: z.string().optional(),
    channel: z.string().optional(),
  })
  .strict()
  .refine((f) => (f.reward === undefined) !== (f.points === undefined), {
    message: 'give --reward or --points',
    path: ['reward'],
  })

export const returnFlagsSchema = z
  .object({ ...common, key: z.string(), return: z.string(), amount: z.string() })
  .strict()

export const enrollFlagsSchema = z
  .object({ ...common, key: z.string(), birthday: z.string().optional() })
  .strict()

export const readFlagsSchema = z
  .object({ ...common, limit: positiveInt.default(50), tz: z.string().min(1).optional() })
  .strict()

export const reviewFlagsSchema = z
  .object({ ...common, key: z.string().optional(), reviewAt: isoTime.optional() })
  .strict()

export const forecastFlagsSchema = z.object({ ...common, limit: positiveInt.default(20) }).strict()

/** Parses flags with a schema, turning zod issues into an InputError that names each flag. */
export function parseFlags<S extends z.ZodType>(schema: S, flags: unknown): z.infer<S> {
  const parsed = schema.safeParse(flags)
  if (!parsed.success) {
    throw new InputError(
      'invalid flags',
      parsed.error.issues.map((i) => ({ field: `--${i.path.join('.')}`, reason: i.message })),
    )
  }
  return parsed.data
}
