/**
 * The CLI's language: one `--lang` option for every command that prints text for people, and the message
 * table its labels, headers, statuses and the names of stages, classes and playbooks are read from.
 *
 * Messages are keyed by their English text, so a command reads `t('members')` where it wrote `'members'`;
 * a key missing from the table is a type error. `{name}` in a key is filled from `vars`. A word with two
 * meanings carries its context before a bar (`effects|holdout`); the English text is what follows the bar.
 * @module
 */
import { Option } from 'commander'
import { z } from 'zod'
import type { LockHolder } from '../store/db-lock.js'
import { CODE_NAMES_ZH, ZH, type Message } from './messages.js'

export const LANGS = ['en', 'zh'] as const
export type Lang = (typeof LANGS)[number]

/**
 * `--lang en|zh`. When the flag is not given, the configuration fills it from MEMBERLENS_LANG or the
 * project file's `lang` (src/cli/config.ts); the built-in default is English.
 */
export function langOption(what = 'labels, headers and statuses'): Option {
  return new Option('--lang <lang>', `language of ${what} (en or zh)`).choices(LANGS).default('en')
}

/** `--lang` in a command's flag schema. */
export const langFlag = z.enum(LANGS).default('en')

/** A message in the language, with `{name}` placeholders filled. */
export function message(
  lang: Lang,
  key: Message,
  vars: Readonly<Record<string, string | number>> = {},
): string {
  const text: string = lang === 'zh' ? ZH[key] : key.slice(key.indexOf('|') + 1)
  return text.replace(/\{(\w+)\}/g, (all, name: string) =>
    name in vars ? String(vars[name]) : all,
  )
}

/** The message function of one language: `const t = translator(flags.lang); t('members')`. */
export function translator(
  lang: Lang | undefined,
): (key: Message, vars?: Readonly<Record<string, string | number>>) => string {
  const l = lang ?? 'en'
  return (key, vars) => message(l, key, vars)
}

/** A code the commands print (a grain, a cohort anchor, an activity) in the language; unknown codes as given. */
export function codeName(code: string, lang: Lang): string {
  return lang === 'zh' ? (CODE_NAMES_ZH[code] ?? code) : code
}

/** How a holder of a database file reads in the language. */
export function holderText(holder: LockHolder, lang: Lang): string {
  const t = translator(lang)
  if (holder.pid === undefined) return t('another process')
  return holder.program
    ? t('process {pid} ({program})', { pid: holder.pid, program: holder.program })
    : t('process {pid}', { pid: holder.pid })
}

/** The note printed once while waiting for a database another process holds. */
export function lockWaitNote(
  path: string,
  holder: LockHolder,
  seconds: number,
  lang: Lang,
): string {
  return translator(lang)('waiting for {path}: in use by {holder} (up to {seconds} s)', {
    path,
    holder: holderText(holder, lang),
    seconds,
  })
}
