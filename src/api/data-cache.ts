/**
 * Answers that depend only on the loaded data (the overview, the metric tree) cached per data version, so a
 * dashboard's repeated reads cost one small query instead of a scan of the fact tables.
 *
 * The version is the data version of `store/data-version.ts`. Concurrent requests for the same key share one
 * computation; a failed computation is not kept.
 * @module
 */
import type { Driver } from '../engine/drivers/driver.js'
import { dataVersion } from '../store/data-version.js'

export class DataCache {
  private readonly entries = new Map<string, { version: string; value: Promise<unknown> }>()

  constructor(
    /** The database, or a function giving the one to read now (the API's: the current request's session). */
    private readonly driver: Driver | (() => Driver),
    private readonly maxEntries = 256,
  ) {}

  /** The data version: changes whenever data the cached answers read may have changed. */
  version(): Promise<string> {
    return dataVersion(typeof this.driver === 'function' ? this.driver() : this.driver)
  }

  /** The cached answer for `key` at the current data version, computing it when there is none. */
  async get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const version = await this.version()
    const hit = this.entries.get(key)
    if (hit && hit.version === version) return hit.value as Promise<T>
    const value = compute()
    this.entries.delete(key)
    this.entries.set(key, { version, value })
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value
      if (oldest === undefined) break
      this.entries.delete(oldest)
    }
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key)
    })
    return value
  }
}
