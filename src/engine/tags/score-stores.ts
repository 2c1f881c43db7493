/**
 * The per-member scores other commands store in the member database, as tag rules and segment filters read
 * them: predicted CLV and P(alive) from the latest CLV run (`member_scores`), the churn-risk score and class
 * from the latest risk scoring (`risk_scores`), and member tags (`member_tags`).
 * @module
 */
import { NotFoundError } from '../../core/errors.js'
import { tableExists, type Driver } from '../drivers/driver.js'
import { sql, type Fragment } from '../sql/fragment.js'

export type ScoreStore = 'clv' | 'risk' | 'tags'

/**
 * The churn classes risk scoring writes (the list of `analytics/risk`, which this layer cannot import; a test
 * keeps the two equal).
 */
export const CHURN_CLASS_IDS = [
  'high-value-at-risk',
  'service-dissatisfied',
  'price-sensitive',
  'disengaged',
] as const

const HINTS: Readonly<Record<ScoreStore, { tables: readonly string[]; hint: string }>> = {
  clv: {
    tables: ['model_runs', 'member_scores'],
    hint: 'CLV and P(alive) read the latest CLV run: run `memberlens clv fit` first',
  },
  risk: {
    tables: ['model_runs', 'risk_scores'],
    hint: 'the churn-risk score and class read the latest risk scoring: run `memberlens risk score` first',
  },
  tags: {
    tables: ['member_tags'],
    hint: 'no member tags yet: run `memberlens tags compute --config FILE --period YYYY-MM` first',
  },
}

/** The run id of the latest run of `kind` (`clv`, `risk-score`), as a scalar subquery. */
export function latestRunId(kind: 'clv' | 'risk-score'): Fragment {
  return sql`(SELECT run_id FROM model_runs WHERE kind = ${kind} ORDER BY created_at DESC, run_id DESC LIMIT 1)`
}

/** `(member_id, clv, p_alive)` of the latest CLV run. */
export function latestClvScores(): Fragment {
  return sql`SELECT member_id, clv, p_alive FROM member_scores WHERE run_id = ${latestRunId('clv')}`
}

/** `(member_id, score, churn_class)` of the latest risk scoring. */
export function latestRiskScores(): Fragment {
  return sql`SELECT member_id, score, churn_class FROM risk_scores WHERE run_id = ${latestRunId('risk-score')}`
}

/** Throws a {@link NotFoundError} naming the command to run when a store the query reads is missing. */
export async function requireStores(driver: Driver, stores: Iterable<ScoreStore>): Promise<void> {
  for (const store of new Set(stores)) {
    const { tables, hint } = HINTS[store]
    for (const t of tables) if (!(await tableExists(driver, t))) throw new NotFoundError(hint)
    if (store === 'tags') continue
    const kind = store === 'clv' ? 'clv' : 'risk-score'
    const run = await driver.first(sql`SELECT 1 AS x FROM model_runs WHERE kind = ${kind} LIMIT 1`)
    if (run === undefined) throw new NotFoundError(hint)
  }
}
