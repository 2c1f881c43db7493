import { rule } from '../alerts/rule.js'
import { report } from '../analytics/report.js'

export const routes = [report, rule]
