import { query } from '../engine/query.js'
import { fitted } from '../models/fit.js'

export const report = `${query} ${fitted}`
