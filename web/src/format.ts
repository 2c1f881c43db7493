/**
 * How the dashboard writes a number for a reader: money in the server's currency, counts as whole numbers,
 * rates as percentages, and large figures shortened the way the reader's language does it (万/亿 in Chinese,
 * K/M in English). Pure functions over `Intl.NumberFormat`, with no DOM, so that the rules can be tested on
 * their own; `ui.ts` binds them to the page's language and the server's currency.
 * @module
 */

export type FormatLang = 'en' | 'zh'

/**
 * What a number measures: a catalog unit (members, orders, points, count, currency, per_member, ratio, score,
 * per_1000, seconds) or one of the dashboard's own: `change` (a relative change, shown with its sign), `days`,
 * `correlation`, `p_value`, `points_delta` (points added or taken, with their sign), `pp` (the difference of
 * two rates, in percentage points: 0.012 → +1.2 pp), `score_delta` (the difference of two scores, such as NPS,
 * with its sign). An unknown unit is shown as a plain number.
 */
export type NumberUnit = string

export interface NumberStyle {
  readonly lang: FormatLang
  /** ISO 4217 code of the money figures (the server's setting; CNY unless configured otherwise). */
  readonly currency: string
}

/** What a missing figure shows (never 0). */
export const MISSING = '–'

/** Figures at or above this size (in absolute value) are shortened: 143万 / 1.43M. */
export const COMPACT_FROM = 100_000

/** Money at or above this size (in absolute value) is shown without cents. */
const WHOLE_MONEY_FROM = 100

const locale = (lang: FormatLang): string => (lang === 'zh' ? 'zh-CN' : 'en-US')

const cache = new Map<string, Intl.NumberFormat>()
function nf(lang: FormatLang, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${lang}|${JSON.stringify(options)}`
  let f = cache.get(key)
  if (!f) {
    f = new Intl.NumberFormat(locale(lang), options)
    cache.set(key, f)
  }
  return f
}

/** The one place that decides the currency symbol: the narrow symbol of the code (CNY → ¥, USD → $). */
export function currencySymbol(currency: string, lang: FormatLang = 'zh'): string {
  return (
    nf(lang, { style: 'currency', currency, currencyDisplay: 'narrowSymbol' })
      .formatToParts(0)
      .find((p) => p.type === 'currency')?.value ?? currency
  )
}

const money = (style: NumberStyle, extra: Intl.NumberFormatOptions): Intl.NumberFormatOptions => ({
  style: 'currency',
  currency: style.currency,
  currencyDisplay: 'narrowSymbol',
  ...extra,
})

const COMPACT: Intl.NumberFormatOptions = { notation: 'compact', maximumSignificantDigits: 3 }

function isMoney(unit: NumberUnit): boolean {
  return unit === 'currency'
}

function isWhole(unit: NumberUnit): boolean {
  return unit === 'members' || unit === 'orders' || unit === 'points' || unit === 'days'
}

const UNIT_WORDS: Record<string, Record<FormatLang, string>> = {
  pp: { en: ' pp', zh: '个百分点' },
  seconds: { en: ' s', zh: ' 秒' },
  days: { en: ' days', zh: ' 天' },
}

/**
 * A figure as a manager reads it, e.g. in zh with CNY: currency 1,432,000 → ¥143万, 2,345.6 → ¥2,346,
 * 12.5 → ¥12.50; members 13,096 → 13,096, 2,500,000 → 250万; ratio 0.1234 → 12.3%; change 0.05 → +5.0%.
 * `null`, `undefined` and non-finite values are {@link MISSING}.
 */
export function formatNumber(
  v: number | null | undefined,
  unit: NumberUnit,
  style: NumberStyle,
): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return MISSING
  const { lang } = style
  const big = Math.abs(v) >= COMPACT_FROM
  switch (unit) {
    case 'ratio':
      return nf(lang, {
        style: 'percent',
        minimumFractionDigits: 1,
        maximumFractionDigits: 1,
      }).format(v)
    case 'change':
      return nf(lang, {
        style: 'percent',
        signDisplay: 'exceptZero',
        minimumFractionDigits: 1,
        maximumFractionDigits: 1,
      }).format(v)
    case 'correlation':
      return nf(lang, {
        minimumFractionDigits: 2,
        maximumFractionDigits: 2,
        signDisplay: 'exceptZero',
      }).format(v)
    case 'points_delta':
      return nf(lang, { signDisplay: 'exceptZero', maximumFractionDigits: 0 }).format(v)
    case 'pp':
      return (
        nf(lang, {
          signDisplay: 'exceptZero',
          minimumFractionDigits: 1,
          maximumFractionDigits: 1,
        }).format(v * 100) + (UNIT_WORDS['pp']?.[lang] ?? '')
      )
    case 'score_delta':
      return nf(lang, {
        signDisplay: 'exceptZero',
        minimumFractionDigits: 1,
        maximumFractionDigits: 1,
      }).format(v)
    case 'p_value':
      return nf(lang, { minimumFractionDigits: 3, maximumFractionDigits: 3 }).format(v)
    case 'score':
    case 'per_1000':
      return nf(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v)
    case 'per_member':
      return nf(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(v)
    default:
      break
  }
  if (isMoney(unit)) {
    if (big) return nf(lang, money(style, COMPACT)).format(v)
    const cents = Math.abs(v) < WHOLE_MONEY_FROM
    return nf(
      lang,
      money(
        style,
        cents
          ? { minimumFractionDigits: 2, maximumFractionDigits: 2 }
          : { maximumFractionDigits: 0 },
      ),
    ).format(v)
  }
  const words = UNIT_WORDS[unit]?.[lang] ?? ''
  if (big) return nf(lang, COMPACT).format(v) + words
  // Counts are whole; a mean of a count (e.g. page views per session) keeps up to two decimals.
  const digits = isWhole(unit) || unit === 'seconds' || Number.isInteger(v) ? 0 : 2
  return nf(lang, { maximumFractionDigits: digits }).format(v) + words
}

/**
 * The label of a chart's value axis: always short (¥143万, 1.2K), rates as whole percentages (0.25 → 25%).
 * Axis ticks are round numbers, so no cents and no decimals beyond what the tick needs.
 */
export function formatAxis(v: number, unit: NumberUnit, style: NumberStyle): string {
  if (!Number.isFinite(v)) return ''
  const { lang } = style
  if (unit === 'ratio' || unit === 'change')
    return nf(lang, { style: 'percent', maximumFractionDigits: 1 }).format(v)
  const compact = Math.abs(v) >= 10_000
  const base: Intl.NumberFormatOptions = compact
    ? { notation: 'compact', minimumFractionDigits: 0, maximumFractionDigits: 1 }
    : { minimumFractionDigits: 0, maximumFractionDigits: 2 }
  if (isMoney(unit)) return nf(lang, money(style, base)).format(v)
  return nf(lang, base).format(v) + (UNIT_WORDS[unit]?.[lang] ?? '')
}
