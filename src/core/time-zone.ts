/**
 * The project time zone: the IANA zone in which days, weeks and months are counted (a Chinese retailer's day
 * is an Asia/Shanghai day). Pure helpers over `Intl`, so they follow the zone's daylight-saving rules.
 * @module
 */

/** The built-in project time zone, when neither a flag, `MEMBERLENS_TZ` nor the project file sets one. */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai'

const ZONE_RE = /^[A-Za-z_]+(?:[/+-][A-Za-z0-9_+-]+)*$/

/** True when `zone` is an IANA time-zone name this runtime knows (e.g. `Asia/Shanghai`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  if (!ZONE_RE.test(zone)) return false
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function partsIn(instant: Date, zone: string): Record<string, number> {
  let f = formatters.get(zone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    formatters.set(zone, f)
  }
  const out: Record<string, number> = {}
  for (const p of f.formatToParts(instant)) if (p.type !== 'literal') out[p.type] = Number(p.value)
  return out
}

/** Minutes the zone's wall clock is ahead of UTC at `instant` (+480 for Asia/Shanghai). */
export function zoneOffsetMinutes(instant: Date, zone: string): number {
  const p = partsIn(instant, zone)
  const wall = Date.UTC(
    p['year'] ?? 1970,
    (p['month'] ?? 1) - 1,
    p['day'] ?? 1,
    p['hour'] ?? 0,
    p['minute'] ?? 0,
    p['second'] ?? 0,
  )
  return Math.round((wall - Math.floor(instant.getTime() / 1000) * 1000) / 60_000)
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/

/** `day` (YYYY-MM-DD) shifted by `n` calendar days. */
export function addDays(day: string, n: number): string {
  if (!DAY_RE.test(day)) throw new Error(`invalid day ${JSON.stringify(day)}`)
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)
}

const WALL_RE = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/

/**
 * The instant at which the wall clock in `zone` reads `text` (`YYYY-MM-DD[ HH:MM[:SS]]`): 2026-11-01 in
 * Asia/Shanghai is 2026-10-31T16:00:00Z. A wall time that a daylight-saving jump skips is read after the jump.
 */
export function wallTimeIn(text: string, zone: string): Date {
  const m = WALL_RE.exec(text)
  if (!m) throw new Error(`invalid date or time ${JSON.stringify(text)}`)
  const [, day = '', h = '00', mi = '00', s = '00'] = m
  const wall = Date.parse(`${day}T${h}:${mi}:${s}Z`)
  if (Number.isNaN(wall)) throw new Error(`invalid date or time ${JSON.stringify(text)}`)
  // Two passes: the offset at the first guess may differ from the offset at the answer across a DST change.
  let t = wall - zoneOffsetMinutes(new Date(wall), zone) * 60_000
  t = wall - zoneOffsetMinutes(new Date(t), zone) * 60_000
  if (zoneOffsetMinutes(new Date(t), zone) * 60_000 + t !== wall) t += 3_600_000
  return new Date(t)
}

/**
 * The instant at which local day `day` (YYYY-MM-DD) starts in `zone`: 2026-11-01 in Asia/Shanghai starts at
 * 2026-10-31T16:00:00Z. Where a daylight-saving jump skips midnight, the first instant of the day.
 */
export function startOfDayIn(day: string, zone: string): Date {
  if (!DAY_RE.test(day)) throw new Error(`invalid day ${JSON.stringify(day)}`)
  return wallTimeIn(day, zone)
}

/** The local day (YYYY-MM-DD) of `instant` in `zone`. */
export function localDayIn(instant: Date, zone: string): string {
  const p = partsIn(instant, zone)
  const pad = (n: number | undefined, w = 2) => String(n ?? 0).padStart(w, '0')
  return `${pad(p['year'], 4)}-${pad(p['month'])}-${pad(p['day'])}`
}

/** `instant` as local wall time in `zone`, labelled with it: `2026-11-01 00:00 Asia/Shanghai`. */
export function formatInZone(instant: Date, zone: string): string {
  const p = partsIn(instant, zone)
  const pad = (n: number | undefined) => String(n ?? 0).padStart(2, '0')
  return `${localDayIn(instant, zone)} ${pad(p['hour'])}:${pad(p['minute'])} ${zone}`
}

/** A UTC instant as the engine's naive timestamp text, `YYYY-MM-DD HH:MM:SS`. */
export function utcTimestampText(instant: Date): string {
  return instant.toISOString().slice(0, 19).replace('T', ' ')
}
