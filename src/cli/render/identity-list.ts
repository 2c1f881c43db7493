/**
 * Why a line of an uploaded identity list matched no member, in the language (the reasons of
 * `duckdb/members/member-list.ts`; JSON keeps them in English).
 * @module
 */
import { translator, type Lang } from '../lang.js'

export function unmatchedReason(reason: string | null, lang: Lang | undefined): string {
  const t = translator(lang)
  if (reason === null) return ''
  if (reason === 'no member has this identity') return t('no member has this identity')
  if (reason === 'no identity on the line') return t('no identity on the line')
  const two = /^names (\d+) different members \((.*)\)$/.exec(reason)
  if (two) return t('names {n} different members ({ids})', { n: two[1] ?? '', ids: two[2] ?? '' })
  return reason
}
