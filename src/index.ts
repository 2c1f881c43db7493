/**
 * memberlens as a library: open a database, load files, resolve members, read metrics, fit models.
 *
 * @example
 * ```ts
 * import { openDatabase, ingestFile, getOverview, systemClock } from 'memberlens'
 *
 * const db = await openDatabase('./memberlens.duckdb')
 * await ingestFile(db.driver, 'orders.csv', { table: 'orders', clock: systemClock, timezone: 'Asia/Shanghai' })
 * const overview = await getOverview(db.driver, '2026-10')
 * await db.close()
 * ```
 * @module
 */

// Domain
export { systemClock, fixedClock, type Clock } from './core/clock.js'
export {
  MemberlensError,
  InputError,
  ConfigError,
  NotFoundError,
  QueryError,
  UnsupportedFeatureError,
  ModelFitError,
  formatIssue,
  type InputIssue,
  type ErrorCode,
} from './core/errors.js'
export {
  TABLES,
  TABLE_NAMES,
  INGEST_TABLES,
  IDENTITY_TYPES,
  getTable,
  sourceFields,
  rowSchema,
  type TableDef,
  type FieldDef,
  type FieldType,
  type IngestTable,
  type IdentityType,
} from './core/schema.js'

// Storage and engine
export { openDatabase, DEFAULT_DB_PATH, type Database, type OpenOptions } from './store/database.js'
export { DuckDbDriver } from './duckdb/driver.js'
export { sql, ident, join, type Fragment } from './engine/sql/fragment.js'
export { compile } from './engine/sql/compile.js'
export type { CompiledQuery, SqlValue } from './engine/compiled-query.js'
export { duckdbDialect } from './engine/dialects/duckdb.js'
export type { SqlDialect, Grain } from './engine/dialects/dialect.js'

/**
 * Members, buyers, revenue and activity of a month (read from the metric catalog) and of all time; see
 * `docs/metrics.md` for the definitions.
 */
export { getOverview, type Overview } from './engine/metrics/overview.js'
export {
  CATALOG,
  type MetricDef,
  type Unit,
  type Direction,
  type Family,
} from './engine/metrics/catalog.js'
export {
  runMetrics,
  type MetricRequest,
  type MetricResult,
  type MetricRow,
  type Trend,
} from './engine/metrics/run.js'
export {
  evaluateTree,
  DEFAULT_TREE,
  type TreeConfigInput,
  type TreeResult,
  type TreeNode,
  type Status,
} from './engine/metrics/tree.js'
export {
  explainChange,
  splitChange,
  FORMULAS,
  type ChangeExplanation,
  type ComparisonSplit,
  type ChangePart,
  type MetricFormula,
} from './analytics/reporting/change-explanation.js'
export { pushDownTreeTargets, requiredChildValues } from './analytics/reporting/target-pushdown.js'
export {
  alignPeriod,
  DEFAULT_ALIGNMENT_EVENTS,
  type EventAlignment,
  type EventAlignmentOptions,
} from './engine/metrics/event-alignment.js'
export {
  decomposeChange,
  type ChangeDecomposition,
  type Formula,
} from './models/change-decomposition.js'
export {
  calendarFor,
  alignmentCalendar,
  builtInEvents,
  springFestival,
  parseBrandEvents,
  type BrandEvent,
  type CalendarEvent,
  type EventKind,
} from './calendar/index.js'
export {
  getMemberProfile,
  findMemberId,
  listMerges,
  listSharedIdentities,
  type MemberProfile,
} from './duckdb/members/member-profile.js'
/**
 * Reads phone values as ingest does: every written form of one number gives one stored value.
 * @example
 * phoneReader('86')('+86 136 0013 6000') // { ok: true, value: '8613600136000' }
 */
export { phoneReader, phoneE164, type PhoneReading } from './core/phone.js'

// Ingest
export {
  ingestFile,
  ingestStaged,
  UNKNOWN_IDENTITY_RULES,
  type IngestOptions,
  type IngestReport,
  type UnknownIdentityRule,
} from './duckdb/ingest/ingest.js'
export {
  PRESETS,
  findPreset,
  type Preset,
  type PresetReport,
} from './duckdb/ingest/presets/index.js'
/** Placeholder and shared identifiers kept from merging members; see `docs/identity-resolution.md`. */
export {
  BUILTIN_DENY_PATTERNS,
  BUILTIN_DENY_VALUES,
  DEFAULT_MAX_MEMBERS_PER_IDENTITY,
  type HeldBackIdentity,
  type IdentityGuardOptions,
} from './duckdb/ingest/identity-guards.js'

// Simulation
export {
  simulate,
  DEFAULT_SIMULATE_OPTIONS,
  type SimulateOptions,
  type SimulateResult,
  type GroundTruth,
} from './simulate/simulate.js'

// Models (pure: typed arrays in, readonly results out)
export {
  fitBgNbd,
  probabilityAlive,
  probabilityAliveMany,
  conditionalExpectedPurchases,
  conditionalExpectedPurchasesMany,
  expectedPurchasesPopulation,
  probabilityOfNPurchases,
  groupSummaries,
  type BgNbdParams,
  type BgNbdFit,
} from './models/bg-nbd.js'
export {
  fitParetoNbd,
  paretoNbdProbabilityAlive,
  paretoNbdConditionalExpectedPurchases,
  type ParetoNbdParams,
  type ParetoNbdFit,
} from './models/pareto-nbd.js'
export {
  fitGammaGamma,
  conditionalExpectedAverageSpend,
  frequencySpendCorrelation,
  type GammaGammaParams,
  type GammaGammaFit,
} from './models/gamma-gamma.js'
export { customerLifetimeValue, type ClvOptions } from './models/clv.js'
export {
  fitMbgNbd,
  mbgNbdProbabilityAlive,
  mbgNbdConditionalExpectedPurchases,
  type MbgNbdParams,
  type MbgNbdFit,
} from './models/mbg-nbd.js'
export {
  fitBgCnbdK,
  bgCnbdKProbabilityAlive,
  bgCnbdKConditionalExpectedPurchases,
  type BgCnbdKParams,
  type BgCnbdKFit,
} from './models/bg-cnbd-k.js'
export {
  fitBgBb,
  bgBbProbabilityAlive,
  bgBbConditionalExpectedTransactions,
  type BgBbParams,
  type BgBbFit,
} from './models/bg-bb.js'
export {
  fitBgNbdCovariates,
  bgNbdCovariatesLogLikelihood,
  type BgNbdCovariatesFit,
  type CovariateSummaries,
  type CovariateEffect,
} from './models/bg-nbd-covariates.js'
export {
  fitParetoNbdCovariates,
  type ParetoNbdCovariatesFit,
} from './models/pareto-nbd-covariates.js'
export {
  fitSbg,
  sbgSurvivalCurve,
  sbgRetentionCurve,
  sbgExpectedResidualLifetime,
  type SbgParams,
  type SbgFit,
} from './models/sbg.js'
export {
  rebuildRollups,
  rollupStatus,
  copyRollupTables,
  type RebuildReport,
} from './duckdb/rollups/member-days.js'
export { rollupIsCurrent, type RollupState } from './engine/metrics/rollups.js'
