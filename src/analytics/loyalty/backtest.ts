/**
 * Program backtest over the member database: stages its history (orders, the points paid in them, returns, and
 * the check-ins and reviews a program rewards) as the bulk replay does, and replays it in memory through the
 * rules engine (`ledger/backtest.ts`) for the current program and, when given, a proposed one — nothing is
 * written to the ledger. The proposed program's figures are set beside the current one's, month by month.
 * @module
 */
import {
  backtestProgram,
  diffBacktests,
  type BacktestDiff,
  type BacktestOptions,
  type BacktestResult,
} from '../../ledger/backtest.js'
import type { Program } from '../../ledger/program.js'
import { dropBulkHistory, stageBulkHistory } from '../../duckdb/loyalty-history.js'
import type { Database } from '../../store/database.js'
import { stagedSource } from './bulk-replay.js'
import { historyKinds } from './replay.js'

export type { BacktestDiff, BacktestResult } from '../../ledger/backtest.js'

/** The backtest of the current program, and of the proposed one with its difference when given. */
export interface ProgramBacktest {
  readonly current: BacktestResult
  readonly proposed: BacktestResult | null
  readonly diff: BacktestDiff | null
}

/** Replays the member database's history under `program` in memory. */
export async function backtestHistory(
  db: Pick<Database, 'driver'>,
  program: Program,
  options: BacktestOptions = {},
): Promise<BacktestResult> {
  // The history a program sees depends on it (check-ins and reviews only with those rules; days in its zone).
  await stageBulkHistory(db.driver, historyKinds(program))
  try {
    return await backtestProgram(stagedSource(db), program, options)
  } finally {
    await dropBulkHistory(db.driver)
  }
}

/**
 * Backtests the current program and, when given, the proposed one over the same months (by default the whole
 * history of the current program). `onMember` sees the current program's members only.
 */
export async function backtestPrograms(
  db: Pick<Database, 'driver'>,
  current: Program,
  proposed: Program | null,
  options: BacktestOptions = {},
): Promise<ProgramBacktest> {
  const { onMember, ...rest } = options
  const cur = await backtestHistory(db, current, options)
  if (proposed === null) return { current: cur, proposed: null, diff: null }
  void onMember
  const prop = await backtestHistory(db, proposed, {
    ...rest,
    ...(cur.from === null ? {} : { from: cur.from }),
    ...(cur.to === null ? {} : { to: cur.to }),
  })
  return { current: cur, proposed: prop, diff: diffBacktests(cur, prop) }
}
