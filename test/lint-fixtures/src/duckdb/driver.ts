import { DuckDBInstance } from '@duckdb/node-api'
import { query } from '../engine/query.js'

export const driver = { instance: DuckDBInstance, query }
