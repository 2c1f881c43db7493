/**
 * `memberlens points …`: enroll, earn, redeem, return, expire, balance and history on the loyalty ledger.
 * `--ledger` is a directory (the embedded PGlite store, default ./memberlens-ledger) or a postgres:// URL.
 * @module
 */
import { DEFAULT_TIME_ZONE, formatInZone } from '../../core/time-zone.js'
import { timeZoneOption } from '../time-zone-option.js'
import { Command, Option } from 'commander'
import pc from 'picocolors'
import { systemClock } from '../../core/clock.js'
import { Ledger, type WriteResult } from '../../ledger/ledger.service.js'
import { loadProgram, type Program } from '../../ledger/program.js'
import { openLedgerStore } from '../../ledger/stores/open-store.js'
import { DEFAULT_LEDGER_DIR } from '../../ledger/stores/pglite-store.js'
import type { LedgerStore } from '../../ledger/stores/store.js'
import { MISSING, fmt, keyValues, printJson, table } from '../output.js'
import {
  DEFAULT_PROGRAM_FILE,
  earnFlagsSchema,
  enrollFlagsSchema,
  parseFlags,
  readFlagsSchema,
  redeemFlagsSchema,
  returnFlagsSchema,
} from '../validations/points.js'

export const ledgerOption = () =>
  new Option(
    '--ledger <dir|url>',
    'ledger directory (embedded; open in one process at a time) or postgres:// URL',
  ).default(DEFAULT_LEDGER_DIR)
export const programOption = () =>
  new Option('--program <file>', 'loyalty program file (YAML or JSON)').default(
    DEFAULT_PROGRAM_FILE,
  )
const jsonOption = () => new Option('--json', 'machine-readable JSON on stdout').default(false)
const keyOption = () =>
  new Option(
    '--key <idempotency-key>',
    'idempotency key: repeating it returns the first result',
  ).makeOptionMandatory()
const atOption = () => new Option('--at <time>', 'when it happened (ISO time; default now)')

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

function printWrite(r: WriteResult, json: boolean, verb: string): void {
  if (json) {
    printJson(r)
    return
  }
  const what = r.points === 0 ? 'no points' : `${r.points > 0 ? '+' : ''}${fmt(r.points)} points`
  const lines = [
    `${r.replayed ? pc.yellow('repeat of an earlier request (nothing changed): ') : ''}${verb} ${what} for member ${r.memberId}`,
    keyValues([
      ['balance', fmt(r.balance)],
      ['tier', r.tier],
      ['entry', r.entryId === null ? MISSING : String(r.entryId)],
      ...Object.entries(r.details)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, String(v)] as [string, string]),
    ]),
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}

/** Registers the `points` command group. */
export function registerPointsCommands(program: Command): void {
  const points = program
    .command('points')
    .description('loyalty points: earn, redeem, returns, expiry, balance, history')

  points
    .command('enroll')
    .description('open a member account in the entry tier')
    .argument('<member>', 'member id')
    .addOption(keyOption())
    .option('--birthday <YYYY-MM-DD>', 'for the birthday bonus')
    .addOption(ledgerOption())
    .addOption(programOption())
    .addOption(atOption())
    .addOption(jsonOption())
    .action(async (member: string, raw) => {
      const f = parseFlags(enrollFlagsSchema, raw)
      await withLedger(f, async (ledger) => {
        const r = await ledger.enroll({
          memberId: member,
          idempotencyKey: f.key,
          ...(f.birthday ? { birthday: f.birthday } : {}),
          ...(f.at ? { at: f.at } : {}),
        })
        printWrite(r, f.json, r.details['created'] ? 'enrolled,' : 'already enrolled,')
      })
    })

  points
    .command('earn')
    .description('earn points for an order (--order, --amount) or a rule bonus (--bonus)')
    .argument('<member>', 'member id')
    .addOption(keyOption())
    .option('--order <id>', 'order id')
    .option('--amount <amount>', 'net amount paid')
    .option('--channel <channel>', 'order channel', 'store')
    .addOption(
      new Option('--bonus <kind>', 'rule bonus').choices([
        'check_in',
        'review',
        'referral',
        'birthday',
        'campaign',
      ]),
    )
    .option('--source <id>', 'review id, referred member or campaign id for --bonus')
    .addOption(ledgerOption())
    .addOption(programOption())
    .addOption(atOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExamples:\n  memberlens points earn 42 --order O-1001 --amount 199.90 --channel app --key order-O-1001\n  memberlens points earn 42 --bonus check_in --key checkin-42-2026-11-01',
    )
    .action(async (member: string, raw) => {
      const f = parseFlags(earnFlagsSchema, raw)
      await withLedger(f, async (ledger) => {
        const at = f.at ? { at: f.at } : {}
        const r =
          f.bonus !== undefined
            ? await ledger.earnBonus({
                memberId: member,
                kind: f.bonus,
                idempotencyKey: f.key,
                ...(f.source ? { sourceId: f.source } : {}),
                ...at,
              })
            : await ledger.earnForOrder({
                memberId: member,
                orderId: f.order as string,
                amount: f.amount as string,
                channel: f.channel,
                idempotencyKey: f.key,
                ...at,
              })
        printWrite(r, f.json, 'earned')
      })
    })

  points
    .command('redeem')
    .description('redeem a catalogue reward (--reward) or spend points as payment (--points)')
    .argument('<member>', 'member id')
    .addOption(keyOption())
    .option('--reward <id>', 'catalogue reward id')
    .option('--quantity <n>', 'units of the reward')
    .option('--points <n>', 'points to spend as payment')
    .option('--channel <channel>', 'where it was redeemed')
    .addOption(ledgerOption())
    .addOption(programOption())
    .addOption(atOption())
    .addOption(jsonOption())
    .action(async (member: string, raw) => {
      const f = parseFlags(redeemFlagsSchema, raw)
      await withLedger(f, async (ledger) => {
        const r = await ledger.redeem({
          memberId: member,
          idempotencyKey: f.key,
          ...(f.reward !== undefined ? { rewardId: f.reward } : { points: Number(f.points) }),
          ...(f.quantity !== undefined ? { quantity: f.quantity } : {}),
          ...(f.channel ? { channel: f.channel } : {}),
          ...(f.at ? { at: f.at } : {}),
        })
        printWrite(r, f.json, 'redeemed')
      })
    })

  points
    .command('return')
    .description("reverse an order's points for a returned amount")
    .argument('<order>', 'order id')
    .addOption(keyOption())
    .requiredOption('--return <id>', 'return id')
    .requiredOption('--amount <amount>', 'returned amount')
    .addOption(ledgerOption())
    .addOption(programOption())
    .addOption(atOption())
    .addOption(jsonOption())
    .action(async (order: string, raw) => {
      const f = parseFlags(returnFlagsSchema, raw)
      await withLedger(f, async (ledger) => {
        const r = await ledger.reverseForReturn({
          orderId: order,
          returnId: f.return,
          amount: f.amount,
          idempotencyKey: f.key,
          ...(f.at ? { at: f.at } : {}),
        })
        printWrite(r, f.json, 'reversed')
      })
    })

  points
    .command('expire')
    .description('expire every point whose expiry date has passed (safe to run again)')
    .addOption(ledgerOption())
    .addOption(programOption())
    .addOption(atOption())
    .addOption(timeZoneOption())
    .addOption(jsonOption())
    .action(async (raw) => {
      const f = parseFlags(readFlagsSchema, raw)
      await withLedger(f, async (ledger) => {
        const at = f.at ?? ledger.clock.now()
        const r = await ledger.expireDue(at)
        if (f.json) printJson({ at, ...r })
        else
          process.stdout.write(
            `expired ${fmt(r.points)} points of ${fmt(r.members)} members at ${formatInZone(at, f.tz ?? DEFAULT_TIME_ZONE)}\n`,
          )
      })
    })

  points
    .command('balance')
    .description("a member's balance, spendable and pending points, debt, tier and next expiry")
    .argument('<member>', 'member id')
    .addOption(ledgerOption())
    .addOption(atOption())
    .addOption(timeZoneOption())
    .addOption(jsonOption())
    .action(async (member: string, raw) => {
      const f = parseFlags(readFlagsSchema, raw)
      const tz = f.tz ?? DEFAULT_TIME_ZONE
      await withLedger(
        f,
        async (ledger) => {
          const b = await ledger.balance(member, f.at)
          if (f.json) {
            printJson(b)
            return
          }
          process.stdout.write(
            `${pc.bold(`Member ${b.memberId}`)}\n${keyValues([
              ['balance', fmt(b.balance)],
              ['spendable', fmt(b.available)],
              ['pending', fmt(b.pending)],
              ['debt (returns)', fmt(b.debt)],
              ['tier', `${b.tier} since ${formatInZone(b.tierSince, tz)}`],
              ['downgrade due', b.downgradeDueAt ? formatInZone(b.downgradeDueAt, tz) : MISSING],
              [
                'next expiry',
                b.nextExpiry
                  ? `${fmt(b.nextExpiry.points)} at ${formatInZone(b.nextExpiry.at, tz)}`
                  : MISSING,
              ],
            ])}\n`,
          )
        },
        false,
      )
    })

  points
    .command('history')
    .description("a member's ledger entries, newest first")
    .argument('<member>', 'member id')
    .addOption(ledgerOption())
    .option('--limit <n>', 'entries', '50')
    .addOption(timeZoneOption())
    .addOption(jsonOption())
    .action(async (member: string, raw) => {
      const f = parseFlags(readFlagsSchema, raw)
      const tz = f.tz ?? DEFAULT_TIME_ZONE
      await withLedger(
        f,
        async (ledger) => {
          const entries = await ledger.history(member, { limit: f.limit })
          if (f.json) {
            printJson({ memberId: member, entries })
            return
          }
          process.stdout.write(
            `${table(
              ['entry', `time (${tz})`, 'kind', 'points', 'reason', 'source'],
              entries.map((e) => [
                String(e.entryId),
                formatInZone(e.occurredAt, tz).slice(0, 16),
                e.kind,
                `${e.points > 0 ? '+' : ''}${fmt(e.points)}`,
                e.reason,
                e.sourceId === null ? e.sourceType : `${e.sourceType} ${e.sourceId}`,
              ]),
            )}\n`,
          )
        },
        false,
      )
    })
}
