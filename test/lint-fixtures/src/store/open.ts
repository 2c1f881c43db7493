import { query } from '../engine/query.js'

export const open = (): string => query
