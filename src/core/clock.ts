/** A source of the current time, injected so that library code never reads the wall clock itself. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

/** A clock stopped at one instant, for tests and reproducible runs. */
export function fixedClock(at: Date | string): Clock {
  const d = typeof at === 'string' ? new Date(at) : at
  return { now: () => new Date(d.getTime()) }
}
