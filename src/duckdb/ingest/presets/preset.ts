import type { Clock } from '../../../core/clock.js'
import type { DuckDbDriver } from '../../driver.js'
import type { IngestPhase, IngestReport } from '../ingest.js'

export interface PresetOptions {
  readonly clock: Clock
  readonly dryRun?: boolean
  readonly maxIssues?: number
  /** Zone of the file's naive timestamps; each preset documents its default. */
  readonly timezone?: string
  readonly onPhase?: (phase: IngestPhase, detail?: { rows?: number }) => void
}

/** What a preset loaded: one report per canonical table, and the rows it left out by rule. */
export interface PresetReport {
  readonly preset: string
  readonly file: string
  readonly dryRun: boolean
  readonly rowsRead: number
  /** Rows left out by a documented rule, by rule. */
  readonly skipped: Readonly<Record<string, number>>
  readonly tables: readonly IngestReport[]
}

/** A documented mapping of a well-known public data set onto the canonical tables. */
export interface Preset {
  readonly name: string
  readonly description: string
  /** Where the mapping is written down. */
  readonly doc: string
  load(driver: DuckDbDriver, file: string, options: PresetOptions): Promise<PresetReport>
}
