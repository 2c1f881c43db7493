/**
 * What a route module needs from the app: the database, the role check, the query time limit, the default
 * analysis instant and the shared response shapes. `createApp` builds one and hands it to each
 * `register…Routes(app, ctx)`.
 * @module
 */
import type { OpenAPIHono, RouteConfig, z } from '@hono/zod-openapi'
import type { DuckDbDriver } from '../../engine/drivers/duckdb-driver.js'
import type { KeyRecord } from '../keys.js'

export type ApiEnv = { Variables: { key: KeyRecord } }
export type ApiApp = OpenAPIHono<ApiEnv>

export interface RouteContext {
  readonly driver: DuckDbDriver
  /** The OpenAPI security requirement of every /api route. */
  readonly security: { ApiKey: string[] }[]
  /** A 200 JSON response with the given schema, plus the shared error responses. */
  readonly json: (schema: z.ZodType, description: string) => RouteConfig['responses']
  /** Runs an analytics query under the API's time limit. */
  readonly timed: <T>(fn: () => Promise<T>) => Promise<T>
  /** The given instant, or the day after the data's last activity. */
  readonly asOf: (asOf: string | undefined) => Promise<string>
}
