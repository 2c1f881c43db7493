/**
 * Every route module, in mounting order. Each module owns the URL prefixes it is named after (its file
 * header lists them) and no other module serves a path under them; `createApp` mounts each under `/api/v1`.
 * @module
 */
import type { ApiContext, ApiRouter } from '../context.js'
import { alertsRoutes } from './alerts.js'
import { auditRoutes } from './audit.js'
import { calendarRoutes } from './calendar.js'
import { categoriesRoutes } from './categories.js'
import { clvRoutes } from './clv.js'
import { cohortsRoutes } from './cohorts.js'
import { dimensionsRoutes } from './dimensions.js'
import { driversRoutes } from './drivers.js'
import { experimentsRoutes } from './experiments.js'
import { funnelsRoutes } from './funnels.js'
import { glossaryRoutes } from './glossary.js'
import { ingestRoutes } from './ingest.js'
import { intervalsRoutes } from './intervals.js'
import { keysRoutes } from './keys.js'
import { lifecycleRoutes } from './lifecycle.js'
import { loyaltyRoutes } from './loyalty.js'
import { membersRoutes } from './members.js'
import { metricsRoutes } from './metrics.js'
import { overviewRoutes } from './overview.js'
import { reportRoutes } from './report.js'
import { rfmRoutes } from './rfm.js'
import { riskRoutes } from './risk.js'
import { segmentsRoutes } from './segments.js'
import { settingsRoutes } from './settings.js'
import { targetingRoutes } from './targeting.js'
import { survivalRoutes } from './survival.js'
import { tagsRoutes } from './tags.js'
import { treeRoutes } from './tree.js'
import { valueRoutes } from './value.js'
import { voiceRoutes } from './voice.js'
import { whoamiRoutes } from './whoami.js'

/** A route module: builds its router from the shared context. */
export type RouteModule = (ctx: ApiContext) => ApiRouter

/** The route modules by file name (`routes/<name>.ts`). */
export const ROUTE_MODULES: Readonly<Record<string, RouteModule>> = {
  whoami: whoamiRoutes,
  settings: settingsRoutes,
  metrics: metricsRoutes,
  dimensions: dimensionsRoutes,
  tree: treeRoutes,
  overview: overviewRoutes,
  drivers: driversRoutes,
  members: membersRoutes,
  rfm: rfmRoutes,
  risk: riskRoutes,
  targeting: targetingRoutes,
  clv: clvRoutes,
  value: valueRoutes,
  cohorts: cohortsRoutes,
  survival: survivalRoutes,
  funnels: funnelsRoutes,
  lifecycle: lifecycleRoutes,
  categories: categoriesRoutes,
  intervals: intervalsRoutes,
  segments: segmentsRoutes,
  tags: tagsRoutes,
  loyalty: loyaltyRoutes,
  voice: voiceRoutes,
  experiments: experimentsRoutes,
  glossary: glossaryRoutes,
  calendar: calendarRoutes,
  report: reportRoutes,
  ingest: ingestRoutes,
  alerts: alertsRoutes,
  keys: keysRoutes,
  audit: auditRoutes,
}
