/**
 * The dashboard's number formatting (web/src/format.ts), checked against figures written out by hand: money
 * with the currency symbol and without cents when large, 万/亿 in Chinese and K/M in English, percentages for
 * rates, whole numbers for counts, a dash for a missing figure.
 */
import { describe, expect, it } from 'vitest'
import { MISSING, currencySymbol, formatAxis, formatNumber } from '../../web/src/format.js'

const zh = { lang: 'zh', currency: 'CNY' } as const
const en = { lang: 'en', currency: 'CNY' } as const

describe('formatNumber', () => {
  it('writes money with ¥, cents only below 100, and 万/亿 or K/M from 100,000', () => {
    expect(formatNumber(12.5, 'currency', zh)).toBe('¥12.50')
    expect(formatNumber(2345.6, 'currency', zh)).toBe('¥2,346')
    expect(formatNumber(58_000, 'currency', en)).toBe('¥58,000')
    expect(formatNumber(1_432_000, 'currency', zh)).toBe('¥143万')
    expect(formatNumber(1_432_000, 'currency', en)).toBe('¥1.43M')
    expect(formatNumber(248_000_000, 'currency', zh)).toBe('¥2.48亿')
    expect(formatNumber(-12_345, 'currency', en)).toBe('-¥12,345')
  })

  it('takes the currency from the style: USD is $, EUR is €', () => {
    expect(formatNumber(12.5, 'currency', { lang: 'en', currency: 'USD' })).toBe('$12.50')
    expect(formatNumber(1_500_000, 'currency', { lang: 'en', currency: 'EUR' })).toBe('€1.5M')
    expect(currencySymbol('CNY', 'en')).toBe('¥')
    expect(currencySymbol('CNY', 'zh')).toBe('¥')
    expect(currencySymbol('USD', 'zh')).toBe('$')
  })

  it('writes counts as whole numbers, shortened from 100,000', () => {
    expect(formatNumber(13_096, 'orders', en)).toBe('13,096')
    expect(formatNumber(13_096, 'members', zh)).toBe('13,096')
    expect(formatNumber(13_096.4, 'orders', en)).toBe('13,096')
    expect(formatNumber(250_000, 'members', zh)).toBe('25万')
    expect(formatNumber(250_000, 'members', en)).toBe('250K')
    expect(formatNumber(1_234_567, 'points', en)).toBe('1.23M')
    expect(formatNumber(0, 'members', zh)).toBe('0')
    // A mean of a count keeps two decimals at most.
    expect(formatNumber(3.456, 'count', en)).toBe('3.46')
    expect(formatNumber(12, 'count', en)).toBe('12')
  })

  it('writes rates and changes as percentages', () => {
    expect(formatNumber(0.1234, 'ratio', zh)).toBe('12.3%')
    expect(formatNumber(0.5, 'ratio', en)).toBe('50.0%')
    expect(formatNumber(0.05, 'change', en)).toBe('+5.0%')
    expect(formatNumber(-0.123, 'change', zh)).toBe('-12.3%')
    expect(formatNumber(0, 'change', en)).toBe('0.0%')
  })

  it('writes the difference of two rates in percentage points and of two scores in points, with the sign', () => {
    expect(formatNumber(0.012, 'pp', en)).toBe('+1.2 pp')
    expect(formatNumber(-0.0345, 'pp', zh)).toBe('-3.5个百分点')
    expect(formatNumber(0, 'pp', en)).toBe('0.0 pp')
    expect(formatNumber(3, 'score_delta', zh)).toBe('+3.0')
    expect(formatNumber(-12.34, 'score_delta', en)).toBe('-12.3')
    expect(formatNumber(null, 'pp', zh)).toBe(MISSING)
  })

  it('writes scores, rates per member and durations with their own precision', () => {
    expect(formatNumber(42.345, 'score', en)).toBe('42.3')
    expect(formatNumber(1.2345, 'per_member', zh)).toBe('1.23')
    expect(formatNumber(95.6, 'seconds', en)).toBe('96 s')
    expect(formatNumber(95.6, 'seconds', zh)).toBe('96 秒')
    expect(formatNumber(-0.4567, 'correlation', en)).toBe('-0.46')
  })

  it('shows a dash, never 0, for a missing figure', () => {
    for (const v of [null, undefined, Number.NaN, Number.POSITIVE_INFINITY])
      expect(formatNumber(v, 'currency', zh)).toBe(MISSING)
    expect(MISSING).not.toBe('0')
  })
})

describe('formatAxis', () => {
  it('labels rate axes in % and large values short', () => {
    expect(formatAxis(0.25, 'ratio', en)).toBe('25%')
    expect(formatAxis(0.125, 'ratio', zh)).toBe('12.5%')
    expect(formatAxis(50_000, 'currency', zh)).toBe('¥5万')
    expect(formatAxis(1_500_000, 'currency', en)).toBe('¥1.5M')
    expect(formatAxis(2000, 'members', en)).toBe('2,000')
    expect(formatAxis(120_000, 'members', zh)).toBe('12万')
  })
})
