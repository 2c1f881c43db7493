/**
 * The engine selection shared by every command that reads the analytics engine: `--engine duckdb|clickhouse`,
 * `--url`, `--clickhouse-flavor` and `--max-seconds`, each with its environment variable (see
 * `resolveEngineConfig`). The DuckDB file stays `--db`, which each command declares itself.
 * @module
 */
import { Help, Option, type Command } from 'commander'
import { z } from 'zod'
import type { Driver } from '../engine/drivers/driver.js'
import {
  ENGINES,
  resolveEngineConfig,
  withDriver,
  type EngineConfig,
} from '../store/open-engine.js'
import { registerCancellable } from './interrupt.js'

/** The flags {@link addEngineOptions} adds, as commander names them, plus the command's `--db`. */
export interface EngineFlags {
  readonly db?: string | undefined
  readonly engine?: string | undefined
  readonly url?: string | undefined
  readonly clickhouseFlavor?: string | undefined
  readonly maxSeconds?: string | undefined
}

/**
 * The engine flags for a command whose flags are parsed by a strict zod schema: spread into its shape. The
 * values are checked by `resolveEngineConfig` when the engine is opened.
 */
export const engineFlagsShape = {
  engine: z.string().optional(),
  url: z.string().optional(),
  clickhouseFlavor: z.string().optional(),
  maxSeconds: z.string().optional(),
}

/** Adds the engine flags to a command; returns the command, so that the declaration chain goes on. */
export function addEngineOptions<C extends Command>(cmd: C): C {
  cmd
    .addOption(
      new Option(
        '--engine <engine>',
        'analytics engine (or MEMBERLENS_ENGINE; default duckdb)',
      ).choices(ENGINES),
    )
    .addOption(
      new Option(
        '--url <url>',
        'ClickHouse HTTP endpoint (or MEMBERLENS_URL; default http://127.0.0.1:8123)',
      ),
    )
    .addOption(
      new Option(
        '--clickhouse-flavor <flavor>',
        'ClickHouse server generation (or MEMBERLENS_CLICKHOUSE_FLAVOR; default modern)',
      ).choices(['modern', 'legacy']),
    )
    .addOption(
      new Option(
        '--max-seconds <n>',
        'server-side limit on one query’s run time, ClickHouse (or MEMBERLENS_MAX_QUERY_SECONDS)',
      ),
    )
  // Help lists the command's own flags first and the engine flags after them (before --help).
  const engineNames = new Set(Object.keys(engineFlagsShape))
  cmd.configureHelp({
    visibleOptions: (c) => {
      const all = new Help().visibleOptions(c)
      const isEngine = (o: Option) => engineNames.has(o.attributeName())
      const isHelp = (o: Option) => o.long === '--help'
      return [
        ...all.filter((o) => !isEngine(o) && !isHelp(o)),
        ...all.filter(isEngine),
        ...all.filter(isHelp),
      ]
    },
  })
  return cmd
}

/** The engine configuration of a command's flags, over the environment, over the defaults. */
export function engineConfigFromFlags(flags: EngineFlags): EngineConfig {
  return resolveEngineConfig({
    engine: flags.engine,
    db: flags.db,
    url: flags.url,
    flavor: flags.clickhouseFlavor,
    maxSeconds: flags.maxSeconds,
  })
}

/**
 * Opens the engine the flags select (DuckDB read-only, or ClickHouse), runs `fn` on it and closes it. While
 * `fn` runs, Ctrl+C cancels the engine's running query.
 */
export async function withEngine<T>(
  flags: EngineFlags,
  fn: (driver: Driver) => Promise<T>,
): Promise<T> {
  return withDriver(engineConfigFromFlags(flags), async (driver) => {
    const unregister = registerCancellable(driver)
    try {
      return await fn(driver)
    } finally {
      unregister()
    }
  })
}
