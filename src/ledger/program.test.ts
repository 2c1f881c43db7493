import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../core/errors.js'
import { parseProgramText, scaleDecimal, unscaleDecimal } from './program.js'
import { divRound, expiryFor, localDay, spendPoints } from './rules.js'

const EXAMPLE = readFileSync(
  new URL('../../examples/loyalty-program.yaml', import.meta.url),
  'utf8',
)

describe('program config', () => {
  it('accepts the example program', () => {
    const p = parseProgramText(EXAMPLE, 'examples/loyalty-program.yaml')
    expect(p.tiers.levels.map((l) => l.id)).toEqual(['member', 'silver', 'gold', 'platinum'])
    expect(p.earn.spend.category_multipliers['imported']).toBe('2')
  })

  it.each([
    [
      'a misspelt key',
      EXAMPLE.replace('pending_days:', 'pending_dayz:'),
      /Unrecognized key.*pending_dayz/,
    ],
    [
      'a float multiplier with too many places',
      EXAMPLE.replace('fresh_produce: 1.5', 'fresh_produce: 1.55555'),
      /at most 4 places/,
    ],
    [
      'thresholds out of order',
      EXAMPLE.replace('threshold: 8000', 'threshold: 1000'),
      /tiers.levels.2.threshold: thresholds must increase/,
    ],
    ['fractional points', EXAMPLE.replace('points: 1000 }', 'points: 10.5 }'), /whole numbers/],
    [
      'a reward for an unknown tier',
      EXAMPLE.replace('tiers: [gold, platinum]', 'tiers: [diamond]'),
      /unknown tier diamond/,
    ],
    ['broken YAML', 'program: [', /not valid YAML/],
  ])('rejects %s with a ConfigError naming the path', (_name, text, message) => {
    expect(() => parseProgramText(text, 'p.yaml')).toThrow(ConfigError)
    expect(() => parseProgramText(text, 'p.yaml')).toThrow(message)
  })
})

describe('rules', () => {
  const p = parseProgramText(EXAMPLE)
  const member = p.tiers.levels[0]!
  const gold = p.tiers.levels[2]!

  it('computes points exactly in scaled integers', () => {
    expect(scaleDecimal('0.1') + scaleDecimal('0.2')).toBe(scaleDecimal('0.3'))
    expect(unscaleDecimal(scaleDecimal('12.3400'))).toBe('12.34')
    expect(divRound(7n, 2n, 'floor')).toBe(3n)
    expect(divRound(7n, 2n, 'round')).toBe(4n)
    expect(divRound(7n, 2n, 'ceil')).toBe(4n)
    // 0.29 × 100 is 28.999999999999996 in floats; the scaled integers give exactly 29
    const earn = (amount: string) =>
      spendPoints(p, member, {
        amount,
        channel: 'store',
        orderedAt: new Date('2026-06-01T00:00:00Z'),
      }).points
    expect(earn('29')).toBe(29)
    expect(earn('29.99')).toBe(29)
    // gold ×1.5, app ×1.2, imported line ×2 on 100 of 150 → (100×2 + 50) × 1.8 = 450
    const r = spendPoints(p, gold, {
      amount: '150',
      channel: 'app',
      orderedAt: new Date('2026-06-01T00:00:00Z'),
      lines: [{ category: 'imported', amount: '100' }],
    })
    expect(r.points).toBe(450)
    expect(
      spendPoints(p, gold, {
        amount: '100000',
        channel: 'web',
        orderedAt: new Date('2026-06-01T00:00:00Z'),
      }),
    ).toMatchObject({ points: 20000, uncapped: 150000 })
  })

  it('counts days and month ends in the program offset (+08:00)', () => {
    expect(localDay(p, new Date('2026-03-31T16:30:00Z'))).toBe('2026-04-01')
    // earned 1 April local → expires at the end of April 2027 local = 2027-04-30T16:00Z
    expect(expiryFor(p, new Date('2026-03-31T16:30:00Z'))?.toISOString()).toBe(
      '2027-04-30T16:00:00.000Z',
    )
    expect(expiryFor(p, new Date('2026-12-15T00:00:00Z'))?.toISOString()).toBe(
      '2027-12-31T16:00:00.000Z',
    )
  })
})
