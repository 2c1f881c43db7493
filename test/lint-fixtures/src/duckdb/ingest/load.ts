import { query } from '../../engine/query.js'

export const load = query
