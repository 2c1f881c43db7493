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

/** Phone text reduced to digits and `+` (the first step of phone normalisation). */
export function phoneDigits(col: Fragment): Fragment {
  return sql`regexp_replace(${blankToNull(col)}, '[^0-9+]', '', 'g')`
}

/**
 * A phone number from its {@link phoneDigits}: digits with the country code. A leading `+` or `00` marks an
 * international number; otherwise a national trunk `0` is dropped and the default country code added. A `+`
 * anywhere else makes the value `!`, which no phone pattern accepts.
 */
export function phoneFromDigits(d: Fragment, ctx: IdentityContext): Fragment {
  return sql`(CASE WHEN ${d} IS NULL THEN NULL
    WHEN strpos(substr(${d}, 2), '+') > 0 THEN '!'
    WHEN starts_with(${d}, '+') THEN substr(${d}, 2)
    WHEN starts_with(${d}, '00') THEN substr(${d}, 3)
    WHEN starts_with(${d}, '0') THEN ${ctx.defaultCountryCode} || substr(${d}, 2)
    ELSE ${ctx.defaultCountryCode} || ${d} END)`
}

/**
 * Normalised identity value, or NULL when blank. Phones: see {@link phoneFromDigits}. Emails: trimmed and
 * lower-cased. Card numbers: spaces removed, upper-cased. Others: trimmed.
 */
export function normalizeIdentity(
  type: IdentityType,
  col: Fragment,
  ctx: IdentityContext,
): Fragment {
  const v = blankToNull(col)
  switch (type) {
    case 'phone':
      return phoneFromDigits(phoneDigits(col), ctx)
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
export function identityValid(type: IdentityType, normalized: Fragment): Fragment {
  switch (type) {
    case 'phone':
      return sql`regexp_full_match(${normalized}, '[0-9]{8,15}')`
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
