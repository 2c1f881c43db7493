/**
 * Choosing the engine by configuration. Flags win over the environment:
 *
 * | setting          | flag                  | environment                        | default                 |
 * | ---------------- | --------------------- | ---------------------------------- | ----------------------- |
 * | engine           | `--engine`            | `MEMBERLENS_ENGINE`                | `duckdb`                |
 * | DuckDB file      | `--db`                | `MEMBERLENS_DB` (CLI)              | `./memberlens.duckdb`   |
 * | ClickHouse URL   | `--url`               | `MEMBERLENS_URL` (CLI), `MEMBERLENS_CLICKHOUSE_URL` | `http://127.0.0.1:8123` |
 * | user / password  | —                     | `MEMBERLENS_CLICKHOUSE_USER` / `…_PASSWORD` | `default` / empty |
 * | database         | —                     | `MEMBERLENS_CLICKHOUSE_DATABASE`   | `default`               |
 * | server flavor    | `--clickhouse-flavor` | `MEMBERLENS_CLICKHOUSE_FLAVOR`     | `modern`                |
 * | query time limit | `--max-seconds`       | `MEMBERLENS_MAX_QUERY_SECONDS`     | none                    |
 *
 * Passwords are read from the environment only, never from flags (which show up in process lists). The CLI
 * also fills `--db`, `--engine` and `--url` from `memberlens.config.yaml` (see `cli/config.ts`).
 * @module
 */
import { z } from 'zod'
import { ConfigError } from '../core/errors.js'
import type { Driver } from '../engine/drivers/driver.js'

export const ENGINES = ['duckdb', 'clickhouse'] as const
export type Engine = (typeof ENGINES)[number]

export const engineConfigSchema = z
  .object({
    engine: z.enum(ENGINES).default('duckdb'),
    db: z.string().min(1).default('./memberlens.duckdb'),
    url: z.url().default('http://127.0.0.1:8123'),
    username: z.string().default('default'),
    password: z.string().default(''),
    database: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .default('default'),
    flavor: z.enum(['modern', 'legacy']).default('modern'),
    maxExecutionSeconds: z.number().positive().optional(),
  })
  .strict()
export type EngineConfig = z.infer<typeof engineConfigSchema>
export type EngineConfigInput = z.input<typeof engineConfigSchema>

/** Flags (already named as in the schema) over environment variables over defaults. */
export function resolveEngineConfig(
  flags: Partial<Record<'engine' | 'db' | 'url' | 'flavor', string | undefined>> & {
    readonly maxSeconds?: string | number | undefined
  },
  env: NodeJS.ProcessEnv = process.env,
): EngineConfig {
  const pick = (...xs: (string | undefined)[]) => xs.find((x) => x !== undefined && x !== '')
  const seconds = pick(
    flags.maxSeconds === undefined ? undefined : String(flags.maxSeconds),
    env['MEMBERLENS_MAX_QUERY_SECONDS'],
  )
  const input = {
    engine: pick(flags.engine, env['MEMBERLENS_ENGINE']),
    db: flags.db,
    url: pick(flags.url, env['MEMBERLENS_CLICKHOUSE_URL']),
    username: pick(env['MEMBERLENS_CLICKHOUSE_USER']),
    password: pick(env['MEMBERLENS_CLICKHOUSE_PASSWORD']),
    database: pick(env['MEMBERLENS_CLICKHOUSE_DATABASE']),
    flavor: pick(flags.flavor, env['MEMBERLENS_CLICKHOUSE_FLAVOR']),
    maxExecutionSeconds: seconds === undefined ? undefined : Number(seconds),
  }
  const parsed = engineConfigSchema.safeParse(
    Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
  )
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ConfigError(
      `engine configuration: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'is invalid'}`,
    )
  }
  return parsed.data
}

/**
 * Opens the configured engine for reading (DuckDB read-only; ClickHouse over HTTP, checked with a ping). Each
 * driver's module, and so its client library, is loaded only when that engine is opened.
 */
export async function openDriver(config: EngineConfig): Promise<Driver> {
  switch (config.engine) {
    case 'duckdb': {
      const { DuckDbDriver } = await import('../duckdb/driver.js')
      return DuckDbDriver.open({ path: config.db, readOnly: true })
    }
    case 'clickhouse': {
      const { ClickHouseDriver } = await import('../engine/drivers/clickhouse-driver.js')
      return ClickHouseDriver.open({
        url: config.url,
        username: config.username,
        password: config.password,
        database: config.database,
        flavor: config.flavor,
        ...(config.maxExecutionSeconds === undefined
          ? {}
          : { maxExecutionSeconds: config.maxExecutionSeconds }),
      })
    }
    default: {
      const _exhaustive: never = config.engine
      throw new Error(`unknown engine ${String(_exhaustive)}`)
    }
  }
}

/** Runs `fn` on the configured engine and closes it afterwards. */
export async function withDriver<T>(
  config: EngineConfig,
  fn: (driver: Driver) => Promise<T>,
): Promise<T> {
  const driver = await openDriver(config)
  try {
    return await fn(driver)
  } finally {
    await driver.close()
  }
}
