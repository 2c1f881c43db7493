/**
 * A small JSON document beside the database (alert rules and events, report schedules and their log): read
 * again only when the file changed, validated with its schema, and rewritten whole through a temporary file
 * and a rename, one write at a time within the process, readable by the owner only.
 * @module
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { rename, writeFile } from 'node:fs/promises'
import type { z } from 'zod'
import { ConfigError } from '../core/errors.js'

export class JsonFile<T> {
  private cache: { mtime: number; data: T } | undefined
  private tail: Promise<unknown> = Promise.resolve()

  /** `what` names the file in errors ("a memberlens alerts file"); `empty` is its content before it exists. */
  constructor(
    readonly path: string,
    private readonly schema: z.ZodType<T>,
    private readonly empty: () => T,
    private readonly what: string,
  ) {}

  read(): T {
    if (!existsSync(this.path)) return this.empty()
    const mtime = statSync(this.path).mtimeMs
    if (this.cache?.mtime === mtime) return this.cache.data
    let raw: unknown
    try {
      raw = JSON.parse(readFileSync(this.path, 'utf8'))
    } catch (e) {
      throw new ConfigError(`${this.path}: not valid JSON: ${(e as Error).message}`)
    }
    const parsed = this.schema.safeParse(raw)
    if (!parsed.success) throw new ConfigError(`${this.path}: not ${this.what}`)
    this.cache = { mtime, data: parsed.data }
    return parsed.data
  }

  /** Read-modify-write, one at a time within this process. */
  update<V>(fn: (data: T) => { data: T; value: V }): Promise<V> {
    const run = this.tail.then(async () => {
      const { data, value } = fn(this.read())
      const tmp = `${this.path}.${process.pid}.tmp`
      await writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 })
      await rename(tmp, this.path)
      this.cache = undefined
      return value
    })
    this.tail = run.catch(() => undefined)
    return run
  }
}
