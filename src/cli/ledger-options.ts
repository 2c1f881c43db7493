/**
 * The options and the opening of the loyalty ledger that the `points`, `tiers`, `loyalty` and `ledger`
 * commands share.
 * @module
 */
import { Option } from 'commander'
import { systemClock } from '../core/clock.js'
import { Ledger } from '../ledger/ledger.service.js'
import { loadProgram, type Program } from '../ledger/program.js'
import { openLedgerStore } from '../ledger/stores/open-store.js'
import { DEFAULT_LEDGER_DIR } from '../ledger/stores/pglite-store.js'
import type { LedgerStore } from '../ledger/stores/store.js'
import { DEFAULT_PROGRAM_FILE } from './validations/points.js'

/** The program a read runs with: it needs no rules, and an empty tier ladder would not validate. */
const READ_ONLY_PROGRAM = {
  program: 'read-only',
  currency: 'XXX',
  point_value: '0',
  utc_offset: '+00:00',
  rounding: 'floor',
  pending_days: 0,
  earn: {
    spend: { points_per_unit: '1', unit: '1', category_multipliers: {}, channel_multipliers: {} },
    campaigns: [],
    caps: {},
  },
  redemption: { catalogue: [] },
  expiry: { policy: 'never' },
  tiers: {
    basis: 'spend',
    window_months: 12,
    review_every_months: 3,
    grace_days: 0,
    levels: [
      { id: 'member', name: 'Member', threshold: '0', points_multiplier: '1', benefits: [] },
    ],
  },
} as const satisfies Program

export const ledgerOption = () =>
  new Option(
    '--ledger <dir|url>',
    'ledger directory (embedded; open in one process at a time) or postgres:// URL',
  ).default(DEFAULT_LEDGER_DIR)

export const programOption = () =>
  new Option('--program <file>', 'loyalty program file (YAML or JSON)').default(
    DEFAULT_PROGRAM_FILE,
  )

/** Opens the store and the program, runs `fn`, and always closes the store. */
export async function withLedger<T>(
  flags: { ledger: string; program: string },
  fn: (ledger: Ledger, store: LedgerStore, program: Program) => Promise<T>,
  needsProgram = true,
): Promise<T> {
  // A read needs no rules; an empty ladder would fail validation, so reads use a placeholder program.
  const program = needsProgram ? await loadProgram(flags.program) : READ_ONLY_PROGRAM
  const store = await openLedgerStore(flags.ledger)
  try {
    return await fn(new Ledger(store, program, { clock: systemClock }), store, program)
  } finally {
    await store.close()
  }
}
