import type { DuckDbDriver } from '../driver.js'

class Rollback<T> extends Error {
  constructor(readonly value: T) {
    super('rollback')
  }
}

/** Runs `fn` in a transaction that is always rolled back and returns its result (dry runs). */
export async function rollback<T>(driver: DuckDbDriver, fn: () => Promise<T>): Promise<T> {
  try {
    await driver.transaction(async () => {
      throw new Rollback(await fn())
    })
  } catch (e) {
    if (e instanceof Rollback) return e.value as T
    throw e
  }
  throw new Error('unreachable: the transaction always throws')
}
