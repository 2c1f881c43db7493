/**
 * SQL for identities: normalisation and well-formedness, shared by ingest and member look-up.
 *
 * Phones are the exception: they are read by the numbering-plan library in `core/phone.ts`, once per distinct
 * value, and the mapping is joined back (see `ingest/phone-map.ts`); no SQL rule set imitates it.
 * @module
 */
import type { IdentityType } from '../core/schema.js'
import { sql, type Fragment } from '../engine/sql/fragment.js'

export interface IdentityContext {
  /** Country calling code (digits, e.g. `86`) of phone numbers written without one. */
  readonly defaultCountryCode: string
}

/** Identity types normalised by SQL alone (every type but phone). */
export type SqlIdentityType = Exclude<IdentityType, 'phone'>

/** Text trimmed, with blank turned into NULL. */
export function blankToNull(col: Fragment): Fragment {
  return sql`nullif(trim(${col}), '')`
}

/**
 * Normalised identity value, or NULL when blank. Emails: trimmed and lower-cased. Card numbers: spaces
 * removed, upper-cased. Others: trimmed.
 */
export function normalizeIdentity(type: SqlIdentityType, col: Fragment): Fragment {
  const v = blankToNull(col)
  switch (type) {
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
export function identityValid(type: SqlIdentityType, normalized: Fragment): Fragment {
  switch (type) {
    case 'email':
      return sql`regexp_full_match(${normalized}, '[^@\s]+@[^@\s]+\.[^@\s]+')`
    default:
      return sql`length(${normalized}) <= 200`
  }
}

export const IDENTITY_REASON: Record<SqlIdentityType, string> = {
  email: 'not an email address',
  wechat_unionid: 'identity longer than 200 characters',
  card_no: 'identity longer than 200 characters',
  app_user_id: 'identity longer than 200 characters',
  pos_customer_id: 'identity longer than 200 characters',
  customer_id: 'identity longer than 200 characters',
}
