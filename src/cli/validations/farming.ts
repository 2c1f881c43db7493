/**
 * Parses `memberlens loyalty farming|holds|release-hold` flags.
 * @module
 */
import { z } from 'zod'
import { DEFAULT_LEDGER_DIR } from '../../ledger/stores/pglite-store.js'
import { MAX_REVIEW_DAYS } from '../../ledger/holds.js'
import { langFlag } from '../lang.js'
import { DEFAULT_PROGRAM_FILE, isoTime } from './points.js'

const ledgerFlags = {
  ledger: z.string().min(1).default(DEFAULT_LEDGER_DIR),
  program: z.string().min(1).default(DEFAULT_PROGRAM_FILE),
  json: z.boolean().default(false),
  lang: langFlag,
}

export const farmingFlagsSchema = z
  .object({
    ...ledgerFlags,
    db: z.string().min(1),
    truth: z.string().min(1).optional(),
    hold: z.boolean().default(false),
    reviewDays: z.coerce
      .number()
      .int('a whole number of days')
      .min(1)
      .max(MAX_REVIEW_DAYS, `at most ${MAX_REVIEW_DAYS} days`)
      .default(7),
    at: isoTime.optional(),
    minSize: z.coerce.number().int().min(2).default(3),
    burstHours: z.coerce.number().positive().default(48),
  })
  .strict()

export const holdsFlagsSchema = z
  .object({
    ...ledgerFlags,
    member: z.string().min(1).optional(),
    activeAt: isoTime.optional(),
    limit: z.coerce.number().int().positive().default(100),
  })
  .strict()

export const releaseFlagsSchema = z
  .object({
    ...ledgerFlags,
    key: z.string().min(4),
    reason: z.string().min(1),
    at: isoTime.optional(),
  })
  .strict()
