/**
 * Words for identity types and for the reasons a record was held back, in the chosen language (`members`,
 * `ingest`).
 * @module
 */
import { IDENTITY_TYPES, type IdentityType } from '../../core/schema.js'
import { translator, type Lang } from '../lang.js'
import { IDENTITY_TYPE_NAMES } from '../messages.js'

/**
 * An identity type in Chinese words; in English its code, as a query names it (`members show email:…`).
 */
export function identityTypeName(type: unknown, lang: Lang): string {
  const t = String(type)
  return lang === 'zh' && (IDENTITY_TYPES as readonly string[]).includes(t)
    ? IDENTITY_TYPE_NAMES[t as IdentityType].zh
    : t
}

/** Why an identifier was not used to merge members, as ingest recorded it, in the language. */
export function heldBackReason(reason: string, lang: Lang): string {
  const t = translator(lang)
  if (reason === 'deny list') return t('deny list')
  const pattern = /^deny pattern (.*)$/.exec(reason)
  if (pattern) return t('deny pattern {pattern}', { pattern: pattern[1] ?? '' })
  const shared = /^shared by (\d+) members \(more than (\d+)\)$/.exec(reason)
  if (shared)
    return t('shared by {n} members (more than {max})', {
      n: shared[1] ?? '',
      max: shared[2] ?? '',
    })
  const exclusive = /^carried by members with different (\w+)$/.exec(reason)
  if (exclusive)
    return t('carried by members with different {type}', {
      type: identityTypeName(exclusive[1] ?? '', lang),
    })
  const recycled = /^member inactive for more than (\d+) days before this registration$/.exec(
    reason,
  )
  if (recycled)
    return t('member inactive for more than {days} days before this registration', {
      days: recycled[1] ?? '',
    })
  if (reason === 'different birthday or gender on this registration') return t(reason)
  return reason
}
