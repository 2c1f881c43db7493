import { report } from '../analytics/report.js'

export const rule = `alert on ${report}`
