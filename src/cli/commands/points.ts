/**
 * `memberlens points …`: enroll, earn, redeem, return, expire, balance and history on the loyalty ledger.
 * `--ledger` is a directory (the embedded PGlite store, default ./memberlens-ledger) or a postgres:// URL.
 * @module
 */
import { DEFAULT_TIME_ZONE, formatInZone } from '../../core/time-zone.js'
import { timeZoneOption } from '../time-zone-option.js'
import { Command, Option } from 'commander'
import pc from 'picocolors'
import { type WriteResult } from '../../ledger/ledger.service.js'
import { loadProgram, type Program } from '../../ledger/program.js'
import { langOption, translator, type Lang } from '../lang.js'
import { count, figure, keyValues, MISSING, printJson, table } from '../output.js'
import {
  DEFAULT_PROGRAM_FILE,
  earnFlagsSchema,
  enrollFlagsSchema,
  parseFlags,
  readFlagsSchema,
  redeemFlagsSchema,
  returnFlagsSchema,
} from '../validations/points.js'
import { ledgerOption, programOption, withLedger, ledgerCode, tierName } from '../ledger-options.js'

const jsonOption = () => new Option('--json', 'machine-readable JSON on stdout').default(false)
const keyOption = () =>
  new Option(
    '--key <idempotency-key>',
    'idempotency key: repeating it returns the first result',
  ).makeOptionMandatory()
const atOption = () => new Option('--at <time>', 'when it happened (ISO time; default now)')

/** Names of a write's details (the ledger's own keys), in words. */
const DETAIL_NAMES: Readonly<Record<string, { en: string; zh: string }>> = {
  created: { en: 'new account', zh: '新开户' },
  kind: { en: 'kind', zh: '类型' },
  source: { en: 'source', zh: '来源' },
  upgradedTo: { en: 'upgraded to', zh: '升级至' },
  streak: { en: 'check-in streak', zh: '连续签到天数' },
  rewardId: { en: 'reward', zh: '兑换礼品' },
  quantity: { en: 'quantity', zh: '数量' },
  channel: { en: 'channel', zh: '渠道' },
  returnId: { en: 'return', zh: '退货单' },
  orderId: { en: 'order', zh: '订单' },
  debt: { en: 'debt', zh: '欠分' },
  buckets: { en: 'point lots', zh: '积分批次' },
  reason: { en: 'reason', zh: '原因' },
  uncapped: { en: 'before the cap', zh: '封顶前积分' },
  campaign: { en: 'campaign', zh: '活动' },
}

/** A signed number of points: +120, −30. */
function pointsDelta(points: number, lang: Lang): string {
  return `${points > 0 ? '+' : ''}${figure(points, 'points', lang)}`
}

type WriteVerb = 'enrolled,' | 'already enrolled,' | 'earned' | 'redeemed' | 'reversed'

function printWrite(
  r: WriteResult,
  f: { json: boolean; lang: Lang },
  verb: WriteVerb,
  program: Program,
): void {
  if (f.json) {
    printJson(r)
    return
  }
  const lang = f.lang
  const t = translator(lang)
  const what =
    r.points === 0 ? t('no points') : t('{points} points', { points: pointsDelta(r.points, lang) })
  const lines = [
    `${r.replayed ? pc.yellow(t('repeat of an earlier request (nothing changed): ')) : ''}${t(`points|${verb}`)} ${t('{what} for member {id}', { what, id: r.memberId })}`,
    keyValues([
      [t('balance'), count(r.balance, lang)],
      [t('tier'), tierName(program, r.tier, lang)],
      [t('entry'), r.entryId === null ? MISSING : String(r.entryId)],
      ...Object.entries(r.details)
        .filter(([, v]) => v !== null)
        .map(([k, v]): [string, string] => [
          DETAIL_NAMES[k]?.[lang] ?? k,
          typeof v === 'boolean'
            ? t(v ? 'yes' : 'no')
            : k === 'upgradedTo'
              ? tierName(program, String(v), lang)
              : k === 'kind' || k === 'channel'
                ? ledgerCode(String(v), lang)
                : String(v),
        ]),
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
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (member: string, raw) => {
      const f = parseFlags(enrollFlagsSchema, raw)
      await withLedger(f, async (ledger, _store, program) => {
        const r = await ledger.enroll({
          memberId: member,
          idempotencyKey: f.key,
          ...(f.birthday ? { birthday: f.birthday } : {}),
          ...(f.at ? { at: f.at } : {}),
        })
        printWrite(r, f, r.details['created'] ? 'enrolled,' : 'already enrolled,', program)
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
    .addOption(langOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExamples:\n  memberlens points earn 42 --order O-1001 --amount 199.90 --channel app --key order-O-1001\n  memberlens points earn 42 --bonus check_in --key checkin-42-2026-11-01',
    )
    .action(async (member: string, raw) => {
      const f = parseFlags(earnFlagsSchema, raw)
      await withLedger(f, async (ledger, _store, program) => {
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
        printWrite(r, f, 'earned', program)
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
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (member: string, raw) => {
      const f = parseFlags(redeemFlagsSchema, raw)
      await withLedger(f, async (ledger, _store, program) => {
        const r = await ledger.redeem({
          memberId: member,
          idempotencyKey: f.key,
          ...(f.reward !== undefined ? { rewardId: f.reward } : { points: Number(f.points) }),
          ...(f.quantity !== undefined ? { quantity: f.quantity } : {}),
          ...(f.channel ? { channel: f.channel } : {}),
          ...(f.at ? { at: f.at } : {}),
        })
        printWrite(r, f, 'redeemed', program)
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
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (order: string, raw) => {
      const f = parseFlags(returnFlagsSchema, raw)
      await withLedger(f, async (ledger, _store, program) => {
        const r = await ledger.reverseForReturn({
          orderId: order,
          returnId: f.return,
          amount: f.amount,
          idempotencyKey: f.key,
          ...(f.at ? { at: f.at } : {}),
        })
        printWrite(r, f, 'reversed', program)
      })
    })

  points
    .command('expire')
    .description('expire every point whose expiry date has passed (safe to run again)')
    .addOption(ledgerOption())
    .addOption(programOption())
    .addOption(atOption())
    .addOption(timeZoneOption())
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (raw) => {
      const f = parseFlags(readFlagsSchema, raw)
      await withLedger(f, async (ledger) => {
        const at = f.at ?? ledger.clock.now()
        const r = await ledger.expireDue(at)
        if (f.json) printJson({ at, ...r })
        else
          process.stdout.write(
            `${translator(f.lang)('expired {points} points of {members} members at {at}', {
              points: count(r.points, f.lang),
              members: count(r.members, f.lang),
              at: formatInZone(at, f.tz ?? DEFAULT_TIME_ZONE),
            })}\n`,
          )
      })
    })

  points
    .command('balance')
    .description("a member's balance, spendable and pending points, debt, tier and next expiry")
    .argument('<member>', 'member id')
    .addOption(ledgerOption())
    .addOption(
      new Option(
        '--program <file>',
        'loyalty program file, for the tier names (optional: read when it exists)',
      ).default(DEFAULT_PROGRAM_FILE),
    )
    .addOption(atOption())
    .addOption(timeZoneOption())
    .addOption(langOption())
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
          const program = await loadProgram(f.program).catch(() => undefined)
          const t = translator(f.lang)
          process.stdout.write(
            `${pc.bold(t('Member {id}', { id: b.memberId }))}\n${keyValues([
              [t('balance'), count(b.balance, f.lang)],
              [t('spendable'), count(b.available, f.lang)],
              [t('pending'), count(b.pending, f.lang)],
              [t('debt (returns)'), count(b.debt, f.lang)],
              [
                t('tier'),
                t('{tier} since {time}', {
                  tier: tierName(program, b.tier, f.lang),
                  time: formatInZone(b.tierSince, tz),
                }),
              ],
              [t('downgrade due'), b.downgradeDueAt ? formatInZone(b.downgradeDueAt, tz) : MISSING],
              [
                t('next expiry'),
                b.nextExpiry
                  ? t('{points} at {time}', {
                      points: count(b.nextExpiry.points, f.lang),
                      time: formatInZone(b.nextExpiry.at, tz),
                    })
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
    .addOption(langOption())
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
          const t = translator(f.lang)
          process.stdout.write(
            `${table(
              [
                t('entry'),
                t('time ({zone})', { zone: tz }),
                t('kind'),
                t('points'),
                t('reason'),
                t('source'),
              ],
              entries.map((e) => [
                String(e.entryId),
                formatInZone(e.occurredAt, tz).slice(0, 16),
                ledgerCode(e.kind, f.lang),
                pointsDelta(e.points, f.lang),
                ledgerCode(e.reason, f.lang),
                e.sourceId === null
                  ? ledgerCode(e.sourceType, f.lang)
                  : `${ledgerCode(e.sourceType, f.lang)} ${e.sourceId}`,
              ]),
            )}\n`,
          )
        },
        false,
      )
    })
}
