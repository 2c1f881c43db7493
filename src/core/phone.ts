/**
 * Phone numbers as identities: every written form of one number becomes one value.
 *
 * Parsing and the numbering-plan metadata come from libphonenumber-js (a port of Google's libphonenumber),
 * with its full metadata so that number types (mobile, toll-free, shared cost…) are known. A number is
 * accepted when its length is possible for its country; whether the range is already allocated is not
 * checked, so that a file is not refused because the metadata lags behind a new number range.
 *
 * The stored value is the E.164 number without its leading `+` (`8613800138000`); files written by
 * memberlens carry the E.164 form with `+` ({@link phoneE164}), which re-reads as the same value whatever the
 * default country.
 * @module
 */
import {
  ParseError,
  parsePhoneNumberWithError,
  validatePhoneNumberLength,
  type CountryCode,
  type NumberType,
} from 'libphonenumber-js/core'
import metadata from 'libphonenumber-js/max/metadata'
import { InputError } from './errors.js'

/** The outcome of reading one phone value. */
export type PhoneReading =
  | {
      readonly ok: true
      /** E.164 digits without `+`, the stored identity value. */
      readonly value: string
      /** Why the number is not a person's own (a service number or a run of one digit), if it is not. */
      readonly notPersonal?: string
    }
  | { readonly ok: false; readonly reason: string }

/** Number types that belong to a business or a service rather than to a person. */
const SERVICE_TYPES: Partial<Record<NonNullable<NumberType>, string>> = {
  TOLL_FREE: 'toll-free service number',
  SHARED_COST: 'shared-cost service number (such as 400 numbers)',
  PREMIUM_RATE: 'premium-rate service number',
  UAN: 'universal access (company) number',
  VOICEMAIL: 'voicemail access number',
}

/** True when `code` (digits, e.g. `86`) is a country calling code of the numbering-plan metadata. */
export function isCallingCode(code: string): boolean {
  return /^\d{1,3}$/.test(code) && mainCountry(code) !== undefined
}

function mainCountry(code: string): CountryCode | undefined {
  const countries = (metadata.country_calling_codes as Record<string, CountryCode[] | undefined>)[
    code
  ]
  return countries?.[0]
}

/**
 * A reader of phone values for one default country calling code, used for numbers written without one
 * (`13800138000`, `010-6552 9988`). The code's main country also supplies the international prefix
 * (`00` for 86) and the trunk prefix (`0`). Throws an {@link InputError} when the code is unknown.
 * @example
 * const read = phoneReader('86')
 * read('0086-136-0013-6000') // { ok: true, value: '8613600136000' }
 */
export function phoneReader(defaultCallingCode: string): (raw: string) => PhoneReading {
  const country = mainCountry(defaultCallingCode)
  if (country === undefined) {
    throw InputError.single({
      field: 'country-code',
      value: defaultCallingCode,
      reason: 'not a country calling code (digits such as 86, 1 or 44)',
    })
  }
  return (raw) => readPhone(raw, country)
}

function readPhone(raw: string, country: CountryCode): PhoneReading {
  const text = raw.trim()
  let parsed
  try {
    parsed = parsePhoneNumberWithError(text, { defaultCountry: country, extract: false }, metadata)
  } catch (error) {
    if (error instanceof ParseError) return { ok: false, reason: parseReason(error.message) }
    throw error
  }
  if (!parsed.isPossible()) {
    const why = validatePhoneNumberLength(text, { defaultCountry: country }, metadata)
    return { ok: false, reason: lengthReason(why, `+${parsed.countryCallingCode}`) }
  }
  const value = parsed.number.slice(1)
  const type = parsed.getType()
  const service = type === undefined ? undefined : SERVICE_TYPES[type]
  if (service !== undefined) return { ok: true, value, notPersonal: service }
  if (/^(\d)\1*$/.test(parsed.nationalNumber)) {
    return { ok: true, value, notPersonal: 'placeholder number (one digit repeated)' }
  }
  return { ok: true, value }
}

function parseReason(code: string): string {
  switch (code) {
    case 'INVALID_COUNTRY':
      return 'not a phone number: unknown country calling code'
    case 'TOO_SHORT':
      return 'not a phone number: too short'
    case 'TOO_LONG':
      return 'not a phone number: too long'
    default:
      return 'not a phone number'
  }
}

function lengthReason(why: string | undefined, code: string): string {
  switch (why) {
    case 'TOO_SHORT':
      return `not a phone number: too short for ${code}`
    case 'TOO_LONG':
      return `not a phone number: too long for ${code}`
    default:
      return `not a phone number: no ${code} number has this length`
  }
}

/** The E.164 form (`+8613800138000`) of a stored phone value, as memberlens writes it to files. */
export function phoneE164(stored: string): string {
  return stored.startsWith('+') ? stored : `+${stored}`
}
