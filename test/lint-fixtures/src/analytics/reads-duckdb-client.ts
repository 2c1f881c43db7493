import { DuckDBInstance } from '@duckdb/node-api' // expect-lint: no-restricted-imports
import { driver } from '../duckdb/driver.js'

export const appender = { DuckDBInstance, driver }
