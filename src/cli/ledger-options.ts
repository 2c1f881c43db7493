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
import { codeName, type Lang } from './lang.js'

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
  budgets: [],
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

/** Ledger entry kinds and rule bonuses in Chinese (English: the code). */
const LEDGER_CODES_ZH: Readonly<Record<string, string>> = {
  earn: '获得',
  redeem: '兑换',
  expire: '过期',
  reverse: '冲回',
  adjust: '调整',
  check_in: '签到',
  review: '评价',
  referral: '推荐',
  birthday: '生日',
  campaign: '活动',
  order: '订单',
  enroll: '入会',
  upgrade: '升级',
  downgrade: '降级',
  grace_started: '进入保级期',
  grace_cleared: '保级期解除',
  spend: '消费',
  // tier ladder bases (spend above)
  orders: '订单数',
  points_earned: '获得积分',
  'points expired': '积分过期',
  'enrolled in the entry tier': '入会，进入初始等级',
  payment: '积分抵现',
  // source types
  rule: '规则',
  return: '退货',
  redemption: '兑换',
  operator: '人工',
  system: '系统',
}

/** A ledger code (entry kind, bonus, tier change, source type or reason) in the language. */
export function ledgerCode(code: string, lang: Lang): string {
  if (lang !== 'zh') return code
  const paidOrder = /^payment for order (.+)$/.exec(code)
  if (paidOrder) return `积分抵现（订单 ${paidOrder[1]}）`
  return LEDGER_CODES_ZH[code] ?? codeName(code, lang)
}

/** A tier id by its name in the program (`name_zh` in Chinese), or the id when the program does not know it. */
export function tierName(program: Program | undefined, id: string, lang: Lang): string {
  // A read opens the ledger with a placeholder program whose tier names mean nothing.
  if (program === READ_ONLY_PROGRAM) return id
  const level = program?.tiers.levels.find((l) => l.id === id)
  if (level === undefined) return id
  return lang === 'zh' ? (level.name_zh ?? level.name) : level.name
}
