/**
 * SQL for identities: normalisation and well-formedness, shared by ingest and member look-up.
 * @module
 */
import type { IdentityType } from '../../core/schema.js'
import { sql, type Fragment } from './fragment.js'

export interface IdentityContext {
  /** Country calling code added to national phone numbers. */
  readonly defaultCountryCode: string
}

/** Text trimmed, with blank turned into NULL. */
export function blankToNull(col: Fragment): Fragment {
  return sql`nullif(trim(${col}), '')`
}

/**
 * Normalised identity value, or NULL when blank. Phones: digits only, with the country code (a leading `+`
 * or `00` marks an international number; otherwise a national trunk `0` is dropped and the default country
 * code added). Emails: trimmed and lower-cased. Card numbers: spaces removed, upper-cased. Others: trimmed.
 */
export function normalizeIdentity(type: IdentityType, col: Fragment, ctx: IdentityContext): Fragment {
  const v = blankToNull(col)
  switch (type) {
    case 'phone': {
      const s = sql`regexp_replace(${v}, '[^0-9+]', '', 'g')`
      return sql`(CASE WHEN ${v} IS NULL THEN NULL
        WHEN starts_with(${s}, '+') THEN replace(${s}, '+', '')
        WHEN starts_with(${s}, '00') THEN substr(${s}, 3)
        WHEN starts_with(${s}, '0') THEN ${ctx.defaultCountryCode} || substr(${s}, 2)
        ELSE ${ctx.defaultCountryCode} || ${s} END)`
    }
    case 'email':
      return sql`lower(${v})`
    case 'card_no':
      return sql`upper(regexp_replace(${v}, '\s', '', 'g'))`
    case 'wechat_unionid':
    case 'app_user_id':
    case 'pos_customer_id':
    case 'customer_id':
      return v
    default: {
      const _exhaustive: never = type
      throw new Error(`unknown identity type ${String(_exhaustive)}`)
    }
  }
}

/** True when a normalised identity is well formed. */
export function identityValid(type: IdentityType, normalized: Fragment, raw: Fragment): Fragment {
  switch (type) {
    case 'phone':
      return sql`(regexp_full_match(${normalized}, '[0-9]{8,15}') AND NOT regexp_matches(substr(trim(${raw}), 2), '\+'))`
    case 'email':
      return sql`regexp_full_match(${normalized}, '[^@\s]+@[^@\s]+\.[^@\s]+')`
    default:
      return sql`length(${normalized}) <= 200`
  }
}

export const IDENTITY_REASON: Record<IdentityType, string> = {
  phone: 'not a phone number (8 to 15 digits with country code)',
  email: 'not an email address',
  wechat_unionid: 'identity longer than 200 characters',
  card_no: 'identity longer than 200 characters',
  app_user_id: 'identity longer than 200 characters',
  pos_customer_id: 'identity longer than 200 characters',
  customer_id: 'identity longer than 200 characters',
}
