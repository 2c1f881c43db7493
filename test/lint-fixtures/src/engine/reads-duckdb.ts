import { driver } from '../duckdb/driver.js' // expect-lint: import-x/no-restricted-paths

export const portable = driver
