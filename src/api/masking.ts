/**
 * Masking of personal data for roles without the `pii` scope (viewer, analyst). Every identity type is
 * masked — phone, e-mail, WeChat unionid/openid, card number, app user id, POS and customer ids, and any type
 * added later (the default masks) — and so are names and identifiers kept in a member's free-form
 * attributes. A birthday is cut to its year. Masks keep only a few characters and always the same number
 * of stars, so they reveal neither the value nor its length.
 * @module
 */

const STARS = '****'

/** Masks one identity value of a type (`phone`, `email`, `card_no`, `wechat_unionid`…). */
export function maskIdentity(type: string, value: string): string {
  if (type === 'email') {
    const at = value.lastIndexOf('@')
    if (at > 0) return `${value.slice(0, 1)}***@${value.slice(at + 1)}`
  }
  if (type === 'phone' && value.length >= 11)
    return `${value.slice(0, value.length - 8)}${STARS}${value.slice(-4)}`
  return maskText(value)
}

/**
 * Masks an identifier or a name: long values keep their first two and last four characters, middling ones
 * their last two, short ones nothing.
 */
export function maskText(value: string): string {
  const chars = [...value]
  if (chars.length >= 12) return `${chars.slice(0, 2).join('')}${STARS}${chars.slice(-4).join('')}`
  if (chars.length >= 6) return `${STARS}${chars.slice(-2).join('')}`
  if (chars.length >= 2) return `${chars[0] ?? ''}${STARS}`
  return STARS
}

/**
 * Attribute keys that hold a name or an identifier: names (`name`, `nickname`, `real_name`, 姓名, 昵称…),
 * identity types and their common spellings (`openid`, `unionid`, `card`, `mobile`, `id_card`…).
 */
const PERSONAL_KEY =
  /(^|_)(name|names|nickname|nick|realname|fullname|firstname|lastname|surname|givenname|phone|mobile|tel|telephone|email|mail|openid|unionid|wechat|wx|card|cardno|idcard|idno|passport|address|addr|app_user_id|user_id|userid|pos_customer_id|customer_id|customerid)(_|$)|姓名|名字|昵称|称呼|手机|电话|邮箱|身份证|会员卡|卡号|地址|微信/i

/** True when an attribute key names a person or one of their identifiers. */
export function isPersonalKey(key: string): boolean {
  return PERSONAL_KEY.test(
    key.replaceAll(/([a-z0-9])([A-Z])/g, '$1_$2').replaceAll(/[\s.-]+/g, '_'),
  )
}

/** A member's attributes (a JSON object, as text or parsed) with personal values masked. */
export function maskAttributes(attributes: unknown): unknown {
  if (attributes === null || attributes === undefined) return attributes
  let parsed: unknown = attributes
  if (typeof attributes === 'string') {
    try {
      parsed = JSON.parse(attributes)
    } catch {
      // Not JSON: free text may hold anything personal.
      return maskText(attributes)
    }
  }
  const masked = maskDeep(parsed, false)
  return typeof attributes === 'string' ? JSON.stringify(masked) : masked
}

function maskDeep(value: unknown, personal: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, personal))
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, maskDeep(v, personal || isPersonalKey(k))]),
    )
  if (!personal || value === null || typeof value === 'boolean') return value
  return maskText(String(value))
}

/** A member row (`members` table) as a role without personal data may see it. */
export function maskMemberRow(member: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(member)) {
    if (k === 'attributes') out[k] = maskAttributes(v)
    else if (k === 'birthday') out[k] = yearOf(v)
    else if (isPersonalKey(k) && typeof v === 'string') out[k] = maskText(v)
    else out[k] = v
  }
  return out
}

/** The year of a date (a `Date`, or text starting `YYYY`), or the value itself when empty. */
function yearOf(v: unknown): unknown {
  if (v === null || v === undefined) return v
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : String(v.getUTCFullYear())
  const m = /^\d{4}/.exec(String(v))
  return m ? m[0] : null
}
