/**
 * Parses `memberlens ingest` flags and the optional mapping file into {@link IngestOptions}.
 * @module
 */
import { z } from 'zod'
import { ConfigError, InputError } from '../../core/errors.js'
import { ENCODINGS, MAX_MAX_LINE_SIZE, SOURCE_FORMATS } from '../../duckdb/ingest/source.js'
import type { IdentityGuardOptions } from '../../duckdb/ingest/identity-guards.js'
import { UNKNOWN_IDENTITY_RULES } from '../../duckdb/ingest/ingest.js'
import { IDENTITY_TYPES, type IdentityType } from '../../core/schema.js'
import { langFlag } from '../lang.js'
import { readConfigFile } from '../config-file.js'

/**
 * A size in bytes: digits, optionally followed by KB, MB or GB (powers of 1024), e.g. `8MB`. Between 1 KB
 * and 1 GB, the range the CSV reader accepts.
 */
export const byteSizeSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const m = /^\s*(\d+)\s*(k|kb|m|mb|g|gb)?\s*$/i.exec(String(v))
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[
    (m?.[2] ?? '').charAt(0).toLowerCase()
  ]
  const bytes = m === null || unit === undefined ? NaN : Number(m[1]) * unit
  if (!Number.isSafeInteger(bytes) || bytes < 1024 || bytes > MAX_MAX_LINE_SIZE) {
    ctx.addIssue({
      code: 'custom',
      message: 'a size from 1KB to 1GB, in bytes or with KB, MB or GB (e.g. 8MB)',
    })
    return z.NEVER
  }
  return bytes
})

/** The mapping file (YAML or JSON). Every key is optional; flags override the file. */
export const mappingFileSchema = z
  .object({
    table: z.string().optional(),
    columns: z.record(z.string(), z.string()).optional(),
    ignore: z.array(z.string()).optional(),
    timezone: z.string().optional(),
    date_format: z.string().optional(),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as CNY')
      .optional(),
    delimiter: z.string().optional(),
    encoding: z.enum(ENCODINGS).optional(),
    max_line_size: byteSizeSchema.optional(),
    format: z.enum(SOURCE_FORMATS).optional(),
    country_code: z
      .string()
      .regex(/^\d{1,4}$/)
      .optional(),
    unknown_identity: z.enum(UNKNOWN_IDENTITY_RULES).optional(),
    identity_guards: z
      .object({
        builtin_deny_list: z.boolean().optional(),
        deny: z.array(z.string().min(1)).optional(),
        deny_patterns: z.array(z.string().min(1)).optional(),
        max_members_per_identity: z.number().int().positive().optional(),
        exclusive_types: z.array(z.enum(IDENTITY_TYPES)).optional(),
        recycled_phone_days: z.number().int().positive().nullable().optional(),
        attribute_conflicts: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
export type MappingFile = z.infer<typeof mappingFileSchema>

export const ingestFlagsSchema = z
  .object({
    db: z.string().min(1),
    map: z.array(z.string()).default([]),
    mapping: z.string().optional(),
    ignore: z.string().optional(),
    tz: z.string().optional(),
    dateFormat: z.string().optional(),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as CNY')
      .optional(),
    delimiter: z.string().optional(),
    encoding: z.enum(ENCODINGS).optional(),
    maxLineSize: byteSizeSchema.optional(),
    format: z.enum(SOURCE_FORMATS).optional(),
    countryCode: z
      .string()
      .regex(/^\d{1,4}$/, 'digits of a country calling code, e.g. 86')
      .optional(),
    unknownIdentity: z.enum(UNKNOWN_IDENTITY_RULES).optional(),
    denyIdentity: z.array(z.string().min(1)).default([]),
    denyIdentityPattern: z.array(z.string().min(1)).default([]),
    maxMembersPerIdentity: z.coerce.number().int().positive().optional(),
    exclusiveIdentityTypes: z
      .string()
      .transform((text, ctx): IdentityType[] => {
        if (text.trim() === 'none') return []
        const types = text.split(',').map((t) => t.trim())
        const bad = types.filter((t) => !(IDENTITY_TYPES as readonly string[]).includes(t))
        if (bad.length > 0)
          ctx.addIssue({
            code: 'custom',
            message: `not an identity type: ${bad.join(', ')} (one of ${IDENTITY_TYPES.join(', ')}, or none)`,
          })
        return types as IdentityType[]
      })
      .optional(),
    recycledPhoneDays: z
      .string()
      .transform((text, ctx): number | null => {
        if (text.trim() === 'none') return null
        const n = Number(text)
        if (!Number.isInteger(n) || n <= 0)
          ctx.addIssue({ code: 'custom', message: 'a whole number of days above 0, or none' })
        return n
      })
      .optional(),
    attributeConflicts: z.boolean().default(true),
    builtinDeny: z.boolean().default(true),
    dryRun: z.boolean().default(false),
    maxErrors: z.coerce.number().int().positive().default(20),
    json: z.boolean().default(false),
    quiet: z.boolean().default(false),
    verbose: z.boolean().default(false),
    lang: langFlag,
  })
  .strict()
export type IngestFlags = z.infer<typeof ingestFlagsSchema>

export async function readMappingFile(path: string): Promise<MappingFile> {
  const data = await readConfigFile(path)
  const parsed = mappingFileSchema.safeParse(data ?? {})
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    throw new ConfigError(`${path}: ${issues.join('; ')}`)
  }
  return parsed.data
}

/** `field=Column` pairs from repeated --map flags. */
export function parseMapFlags(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of pairs) {
    const i = p.indexOf('=')
    if (i <= 0 || i === p.length - 1) {
      throw InputError.single({ field: '--map', value: p, reason: 'expected field=SourceColumn' })
    }
    out[p.slice(0, i).trim()] = p.slice(i + 1)
  }
  return out
}

/**
 * The identity guards from the mapping file and the flags: lists add up, a flag's threshold, exclusive types
 * and recycled-phone days win, and `--no-builtin-deny` and `--no-attribute-conflicts` switch their rule off
 * whatever the file says.
 */
export function identityGuardOptions(
  fromFile: MappingFile,
  flags: IngestFlags,
): IdentityGuardOptions {
  const g = fromFile.identity_guards ?? {}
  const max = flags.maxMembersPerIdentity ?? g.max_members_per_identity
  const exclusive = flags.exclusiveIdentityTypes ?? g.exclusive_types
  const recycled =
    flags.recycledPhoneDays !== undefined ? flags.recycledPhoneDays : g.recycled_phone_days
  return {
    ...(exclusive === undefined ? {} : { exclusiveTypes: exclusive }),
    ...(recycled === undefined ? {} : { recycledAfterDays: recycled }),
    attributeConflicts: flags.attributeConflicts && (g.attribute_conflicts ?? true),
    builtinDenyList: flags.builtinDeny && (g.builtin_deny_list ?? true),
    deny: [...(g.deny ?? []), ...flags.denyIdentity],
    denyPatterns: [...(g.deny_patterns ?? []), ...flags.denyIdentityPattern],
    ...(max === undefined ? {} : { maxMembersPerIdentity: max }),
  }
}
