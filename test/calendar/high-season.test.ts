/** The high-season windows: 年货节 before 春节, 618 and 双11, whole, including next year's 年货节 in December. */
import { describe, expect, it } from 'vitest'
import { highSeasonWindows, inHighSeason } from '../../src/calendar/index.js'
import { simulate } from '../../src/simulate/simulate.js'

describe('high-season windows', () => {
  it('places the three windows of 2026 on the computed dates', () => {
    // 春节 2026 is 02-17: 年货节 is the four weeks before it.
    expect(highSeasonWindows('2026-01-01', '2026-12-31')).toEqual([
      { event: 'new_year_goods', first: '2026-01-20', last: '2026-02-16' },
      { event: 'mid_year_618', first: '2026-05-20', last: '2026-06-18' },
      { event: 'double_11', first: '2026-10-20', last: '2026-11-11' },
    ])
  })

  it('includes a window that starts in December for the next 春节, and keeps windows whole', () => {
    // 春节 2023 is 01-22, so its 年货节 starts on 2022-12-25.
    expect(highSeasonWindows('2022-12-01', '2022-12-31')).toEqual([
      { event: 'new_year_goods', first: '2022-12-25', last: '2023-01-21' },
    ])
    const w = highSeasonWindows('2026-06-01', '2026-06-02')
    expect(w).toEqual([{ event: 'mid_year_618', first: '2026-05-20', last: '2026-06-18' }])
    expect(inHighSeason(w, '2026-06-18')).toBe(true)
    expect(inHighSeason(w, '2026-06-19')).toBe(false)
  })

  it('the simulator refuses planted covariates together with calendar demand', async () => {
    await expect(
      simulate('unused', { members: 1, plantedCovariates: true, calendarDemand: true }),
    ).rejects.toThrow(/planted covariates.*calendar demand/)
  })
})
