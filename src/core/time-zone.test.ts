import { describe, expect, it } from 'vitest'
import {
  formatInZone,
  localDayIn,
  startOfDayIn,
  wallTimeIn,
  zoneOffsetMinutes,
} from './time-zone.js'

describe('project time zone helpers', () => {
  it('finds the start of a local day', () => {
    expect(startOfDayIn('2026-11-01', 'Asia/Shanghai').toISOString()).toBe(
      '2026-10-31T16:00:00.000Z',
    )
    expect(startOfDayIn('2026-11-01', 'UTC').toISOString()).toBe('2026-11-01T00:00:00.000Z')
    // New York leaves EDT (−4 h) at 02:00 on 2026-11-01 and enters it on 2026-03-08.
    expect(startOfDayIn('2026-11-01', 'America/New_York').toISOString()).toBe(
      '2026-11-01T04:00:00.000Z',
    )
    expect(startOfDayIn('2026-11-02', 'America/New_York').toISOString()).toBe(
      '2026-11-02T05:00:00.000Z',
    )
    // São Paulo skipped midnight on 2018-11-04 (00:00 → 01:00): the day starts at 01:00 local.
    expect(startOfDayIn('2018-11-04', 'America/Sao_Paulo').toISOString()).toBe(
      '2018-11-04T03:00:00.000Z',
    )
  })

  it('reads a wall time in the zone, and labels an instant with it', () => {
    expect(wallTimeIn('2026-03-08 12:30', 'America/New_York').toISOString()).toBe(
      '2026-03-08T16:30:00.000Z',
    )
    expect(zoneOffsetMinutes(new Date('2026-06-01T00:00:00Z'), 'Asia/Shanghai')).toBe(480)
    expect(localDayIn(new Date('2026-10-31T16:00:00Z'), 'Asia/Shanghai')).toBe('2026-11-01')
    expect(formatInZone(new Date('2026-10-31T16:00:00Z'), 'Asia/Shanghai')).toBe(
      '2026-11-01 00:00 Asia/Shanghai',
    )
    expect(() => wallTimeIn('2026-13-01', 'UTC')).toThrow(/invalid/)
  })
})
