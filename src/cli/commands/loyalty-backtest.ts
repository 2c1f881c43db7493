/**
 * `memberlens loyalty backtest`: the program design lab. Replays the loaded history in memory through the rules
 * engine under the current program (`--against`) and, with `--program`, a proposed one, and prints what the
 * proposal would have changed: points issued, redeemed and expired, the liability at each month end, breakage
 * (realised and forecast) with the IFRS 15 deferral, the members the caps cut, tier movements and the tier
 * distribution, and the day each budget of a program (`budgets`) would have been reached with the points beyond it.
 * Nothing is written to the ledger. With `--ledger`, the current program's backtest is checked
 * against the ledger, member by member.
 * @module
 */
import { Option, type Command } from 'commander'
import { backtestPrograms, type ProgramBacktest } from '../../analytics/loyalty/backtest.js'
import { InputError } from '../../core/errors.js'
import type { BacktestDelta, BacktestResult } from '../../ledger/backtest.js'
import { loadProgram } from '../../ledger/program.js'
import { listAccountBalances } from '../../ledger/ledger.repository.js'
import { openLedgerStore } from '../../ledger/stores/open-store.js'
import { openDatabase } from '../../store/database.js'
import { dbOption } from '../database.js'
import { langOption, translator, type Lang } from '../lang.js'
import { tierName } from '../ledger-options.js'
import type { Message } from '../messages.js'
import { figure, keyValues, MISSING, printJson, table } from '../output.js'
import { createProgress } from '../progress.js'
import { DEFAULT_PROGRAM_FILE } from '../validations/points.js'

const MONTH_RE = /^\d{4}-(0[1-9]|1[0-2])$/

/** Checks a month flag (YYYY-MM). */
function checkMonth(field: string, value: string | undefined): string | undefined {
  if (value !== undefined && !MONTH_RE.test(value)) {
    throw InputError.single({ field, value, reason: 'expected a month YYYY-MM' })
  }
  return value
}

/** The current program's backtest against the ledger: members whose balance or tier differ. */
export interface LedgerCheck {
  readonly members: number
  readonly differing: number
  readonly examples: readonly string[]
}

interface Flags {
  db: string
  against: string
  program?: string
  from?: string
  to?: string
  ledger?: string
  lang?: Lang
  json: boolean
}

/** Registers `loyalty backtest` under the `loyalty` command group. */
export function registerLoyaltyBacktest(loyalty: Command): void {
  loyalty
    .command('backtest')
    .description(
      'replay the history in memory under the current program and a proposed one and compare them: points issued, redeemed, expired, liability by month end, breakage forecast, caps hit, the day each budget would have been reached, tiers (nothing is written to the ledger)',
    )
    .addOption(dbOption())
    .addOption(
      new Option('--against <file>', 'the current program (YAML or JSON)').default(
        DEFAULT_PROGRAM_FILE,
      ),
    )
    .addOption(new Option('--program <file>', 'the proposed program (YAML or JSON)'))
    .addOption(
      new Option(
        '--from <month>',
        'first month reported (YYYY-MM; default the first of the history)',
      ),
    )
    .addOption(
      new Option('--to <month>', 'last month reported (YYYY-MM; default the last of the history)'),
    )
    .addOption(
      new Option(
        '--ledger <dir|url>',
        "check the current program's backtest against this ledger, member by member (balances and tiers)",
      ),
    )
    .addOption(langOption())
    .addOption(new Option('--json', 'machine-readable JSON on stdout').default(false))
    .action(async (flags: Flags) => {
      const from = checkMonth('--from', flags.from)
      const to = checkMonth('--to', flags.to)
      if (from !== undefined && to !== undefined && from > to) {
        throw InputError.single({ field: '--to', value: to, reason: `before --from ${from}` })
      }
      const current = await loadProgram(flags.against)
      const proposed = flags.program === undefined ? null : await loadProgram(flags.program)
      const db = await openDatabase(flags.db, { readOnly: true })
      const progress = createProgress(!flags.json)
      const members = new Map<string, { balance: number; tier: string }>()
      let r: ProgramBacktest
      try {
        progress.phase('replaying the history', 1)
        r = await backtestPrograms(db, current, proposed, {
          ...(from === undefined ? {} : { from }),
          ...(to === undefined ? {} : { to }),
          ...(flags.ledger === undefined
            ? {}
            : { onMember: (id, balance, tier) => members.set(id, { balance, tier }) }),
        })
      } finally {
        progress.stop()
        await db.close()
      }
      const check = flags.ledger === undefined ? null : await checkLedger(flags.ledger, members)
      if (flags.json) {
        printJson({ ...r, ledgerCheck: check })
        return
      }
      process.stdout.write(render(r, check, current, proposed, flags.lang ?? 'en'))
    })
}

/** Compares the backtest's final balances and tiers with the ledger's accounts. */
async function checkLedger(
  target: string,
  members: ReadonlyMap<string, { balance: number; tier: string }>,
): Promise<LedgerCheck> {
  const store = await openLedgerStore(target)
  try {
    const rows = await listAccountBalances(store)
    const examples: string[] = []
    let differing = 0
    const seen = new Set<string>()
    const differ = (text: string) => {
      differing++
      if (examples.length < 10) examples.push(text)
    }
    for (const a of rows) {
      seen.add(a.memberId)
      const b = members.get(a.memberId)
      if (b === undefined) differ(`member ${a.memberId}: in the ledger, not in the history`)
      else if (b.balance !== a.balance || b.tier !== a.tier)
        differ(
          `member ${a.memberId}: ledger ${a.balance} points (${a.tier}), backtest ${b.balance} (${b.tier})`,
        )
    }
    for (const id of members.keys())
      if (!seen.has(id)) differ(`member ${id}: in the history, not in the ledger`)
    return { members: Math.max(rows.length, members.size), differing, examples }
  } finally {
    await store.close()
  }
}

type Unit = 'points' | 'currency' | 'ratio' | 'members' | 'count'

function render(
  r: ProgramBacktest,
  check: LedgerCheck | null,
  current: Parameters<typeof tierName>[0],
  proposed: Parameters<typeof tierName>[0] | null,
  lang: Lang,
): string {
  const t = translator(lang)
  const c = r.current
  const p = r.proposed
  const f = (v: number | null | undefined, unit: Unit, res: BacktestResult = c) =>
    figure(v, unit, lang, res.currency)
  const change = (d: BacktestDelta | undefined, unit: Unit) =>
    d === undefined
      ? MISSING
      : d.change === 0
        ? '0'
        : `${d.change > 0 ? '+' : ''}${f(d.change, unit)}${d.ratio === null ? '' : ` (${figure(d.ratio, 'change', lang)})`}`
  const rows: Array<
    [Message, (x: BacktestResult) => number | null, Unit, BacktestDelta | undefined]
  > = [
    ['points issued', (x) => x.total.issued, 'points', r.diff?.total.issued],
    ['issued value', (x) => x.total.issuedAmount, 'currency', r.diff?.total.issuedAmount],
    ['points redeemed', (x) => x.total.redeemed, 'points', r.diff?.total.redeemed],
    ['points expired', (x) => x.total.expired, 'points', r.diff?.total.expired],
    ['points reversed by returns', (x) => x.total.reversed, 'points', r.diff?.total.reversed],
    [
      'liability at the end (points)',
      (x) => x.total.liabilityPoints,
      'points',
      r.diff?.total.liabilityPoints,
    ],
    [
      'liability at the end (money)',
      (x) => x.total.liabilityAmount,
      'currency',
      r.diff?.total.liabilityAmount,
    ],
    ['realised breakage', (x) => x.breakage.realised, 'ratio', undefined],
    [
      'forecast breakage (points)',
      (x) => x.breakage.forecastPoints,
      'points',
      r.diff?.total.forecastBreakagePoints,
    ],
    ['forecast breakage rate', (x) => x.breakage.forecastRate, 'ratio', undefined],
    [
      'forecast breakage (money)',
      (x) => x.breakage.forecastAmount,
      'currency',
      r.diff?.total.forecastBreakageAmount,
    ],
    [
      'IFRS 15 deferral (money)',
      (x) => x.breakage.deferredRevenue,
      'currency',
      r.diff?.total.deferredRevenue,
    ],
    ['issued value per member', (x) => x.total.costPerMember, 'currency', undefined],
    [
      'orders cut by the per-order cap',
      (x) => x.total.perOrderCapHits,
      'count',
      r.diff?.total.perOrderCapHits,
    ],
    [
      'members cut by the per-order cap',
      (x) => x.total.perOrderCapMembers,
      'members',
      r.diff?.total.perOrderCapMembers,
    ],
    [
      'earns cut by the per-day or per-year cap',
      (x) => x.total.perDayCapHits,
      'count',
      r.diff?.total.perDayCapHits,
    ],
    [
      'members cut by the per-day or per-year cap',
      (x) => x.total.perDayCapMembers,
      'members',
      r.diff?.total.perDayCapMembers,
    ],
    ['points cut by caps', (x) => x.total.cappedPoints, 'points', r.diff?.total.cappedPoints],
    [
      'points paid in orders refused',
      (x) => x.total.refusedRedemptionPoints,
      'points',
      r.diff?.total.refusedRedemptionPoints,
    ],
    ['upgrades', (x) => x.total.upgrades, 'count', r.diff?.total.upgrades],
    ['downgrades', (x) => x.total.downgrades, 'count', r.diff?.total.downgrades],
  ]
  const period = `${c.from ?? MISSING} … ${c.to ?? MISSING}`
  const out: string[] = []
  out.push(
    p === null
      ? t('Backtest of {program}, {period}', { program: c.program, period })
      : t('Backtest of {proposed} against {program}, {period}', {
          proposed: p.program,
          program: c.program,
          period,
        }),
    '',
  )
  if (p === null) {
    out.push(keyValues(rows.map(([label, get, unit]) => [t(label), f(get(c), unit)])))
  } else {
    out.push(
      table(
        ['', t('current'), t('proposed'), t('change')],
        rows.map(([label, get, unit, d]) => [
          t(label),
          f(get(c), unit),
          f(get(p), unit, p),
          d === undefined ? MISSING : change(d, unit),
        ]),
      ),
    )
  }
  out.push('', t('By month'))
  out.push(
    p === null || r.diff === null
      ? table(
          [
            t('month'),
            t('issued'),
            t('redeemed'),
            t('expired'),
            t('liability'),
            t('caps hit'),
            t('upgrades'),
            t('downgrades'),
          ],
          c.months.map((m) => [
            m.month,
            f(m.issued, 'points'),
            f(m.redeemed, 'points'),
            f(m.expired, 'points'),
            f(m.liabilityAmount, 'currency'),
            f(m.perOrderCapHits + m.perDayCapHits, 'count'),
            f(m.upgrades, 'count'),
            f(m.downgrades, 'count'),
          ]),
        )
      : table(
          [
            t('month'),
            t('issued (proposed)'),
            t('Δ issued'),
            t('expired (proposed)'),
            t('Δ expired'),
            t('liability (proposed)'),
            t('Δ liability'),
            t('Δ caps hit'),
          ],
          r.diff.months.map((m) => [
            m.month,
            f(m.issued.proposed, 'points'),
            change(m.issued, 'points'),
            f(m.expired.proposed, 'points'),
            change(m.expired, 'points'),
            f(m.liabilityAmount.proposed, 'currency', p),
            change(m.liabilityAmount, 'currency'),
            f(m.perOrderCapHits.change + m.perDayCapHits.change, 'count'),
          ]),
        ),
  )
  out.push('', t('Tiers at the end'))
  out.push(
    r.diff === null
      ? table(
          [t('tier'), t('members')],
          c.tiers.map((x) => [tierName(current, x.tier, lang), f(x.members, 'members')]),
        )
      : table(
          [t('tier'), t('current'), t('proposed'), t('change')],
          r.diff.tiers.map((x) => [
            tierName(proposed ?? current, x.tier, lang),
            f(x.current, 'members'),
            f(x.proposed, 'members'),
            change(x, 'members'),
          ]),
        ),
  )
  const budgeted = [c, ...(p === null ? [] : [p])].filter((x) => x.budgets.length > 0)
  if (budgeted.length > 0) {
    out.push('', t('Budgets'))
    out.push(
      table(
        [
          ...(p === null ? [] : ['']),
          t('budget'),
          t('scope'),
          t('limit'),
          t('first reached'),
          t('points beyond'),
          t('value beyond'),
          t('months reached'),
        ],
        budgeted.flatMap((x) =>
          x.budgets.map((b) => [
            ...(p === null ? [] : [x === c ? t('current') : t('proposed')]),
            b.id,
            b.scope === 'global'
              ? t('all')
              : t('channels {list}', { list: (b.match ?? []).join(', ') }),
            `${f(b.limit, 'points', x)} ${b.kind === 'liability' ? t('liability (points)') : t('points per month')}`,
            b.firstHit ?? t('never'),
            f(b.pointsBeyond, 'points', x),
            f(b.amountBeyond, 'currency', x),
            f(b.hits.length, 'count', x),
          ]),
        ),
      ),
      t(
        'Budgets are not enforced in the backtest: it shows the first day each would have been reached (the month’s points issued, or the liability at a day’s end) and how far the program went past it.',
      ),
    )
  }
  out.push(
    '',
    t(
      'Forecast breakage: for each age in months, the share of settled points of that age or older that expired, applied to the points outstanding at the end by their age.',
    ),
  )
  if (check !== null) {
    out.push(
      check.differing === 0
        ? t(
            'Ledger check: the current program’s backtest equals the ledger ({n} members, balances and tiers).',
            {
              n: check.members,
            },
          )
        : `${t('Ledger check: {n} members differ from the ledger.', { n: check.differing })}\n${check.examples.join('\n')}`,
    )
  }
  return `${out.join('\n')}\n`
}
