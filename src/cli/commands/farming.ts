/**
 * `memberlens loyalty farming|holds|release-hold`: points-farming rings found in the member database, holds on
 * their points for a review window, and the operator's view and early release of holds.
 * @module
 */
import { readFile } from 'node:fs/promises'
import { Command, Option } from 'commander'
import pc from 'picocolors'
import {
  detectFarming,
  evaluateFarming,
  holdFlaggedMembers,
  type FarmingEvaluation,
  type HoldSummary,
} from '../../analytics/loyalty/farming.js'
import { ConfigError } from '../../core/errors.js'
import { listHolds, releaseHold } from '../../ledger/holds.js'
import { openDatabase } from '../../store/database.js'
import { dbOption } from '../database.js'
import { langOption, translator } from '../lang.js'
import { ledgerOption, programOption, withLedger } from '../ledger-options.js'
import { count, decimal, keyValues, MISSING, money, pct, printJson, table } from '../output.js'
import { parseFlags } from '../validations/points.js'
import { farmingFlagsSchema, holdsFlagsSchema, releaseFlagsSchema } from '../validations/farming.js'

const jsonOption = () => new Option('--json', 'machine-readable JSON on stdout').default(false)

/** The planted rings of a simulator truth file (`memberlens simulate --planted-farming`). */
async function plantedRings(path: string): Promise<Array<{ members: string[] }>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`${path}: truth file not found or not readable`, error)
  }
  let truth: { farming?: { rings?: Array<{ members: string[] }> } }
  try {
    truth = JSON.parse(text) as typeof truth
  } catch (error) {
    throw new ConfigError(`${path}: not valid JSON`, error)
  }
  const rings = truth.farming?.rings
  if (!Array.isArray(rings)) {
    throw new ConfigError(
      `${path}: field farming.rings missing: write the truth with \`memberlens simulate --planted-farming\``,
    )
  }
  return rings
}

/** Registers the farming and hold commands under `loyalty`. */
export function registerFarmingCommands(loyalty: Command): void {
  loyalty
    .command('farming')
    .description(
      'find points-farming rings: members linked by shared devices, addresses, phone number blocks or referrals who registered in a burst and check in like clockwork or spend next to nothing; --hold puts their points on hold for a review window',
    )
    .addOption(dbOption())
    .option(
      '--truth <file>',
      'truth.json of `simulate --planted-farming`: report precision and recall',
    )
    .option('--hold', "place holds on the flagged members' points in the ledger", false)
    .addOption(ledgerOption())
    .addOption(programOption())
    .option(
      '--review-days <n>',
      'days a hold lasts before the points are spendable again (1–30)',
      '7',
    )
    .option('--at <time>', 'when the holds start (ISO; default now)')
    .option('--min-size <n>', 'smallest ring', '3')
    .option('--burst-hours <h>', 'registrations of a ring fall within this many hours', '48')
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (raw) => {
      const f = parseFlags(farmingFlagsSchema, raw)
      const rings = f.truth === undefined ? undefined : await plantedRings(f.truth)
      const db = await openDatabase(f.db)
      let report: Awaited<ReturnType<typeof detectFarming>>
      let evaluation: FarmingEvaluation | null = null
      try {
        report = await detectFarming(db.driver, { minSize: f.minSize, burstHours: f.burstHours })
        if (rings !== undefined) evaluation = await evaluateFarming(db.driver, report, rings)
      } finally {
        await db.close()
      }
      let holds: HoldSummary | null = null
      if (f.hold) {
        holds = await withLedger(f, (ledger) =>
          holdFlaggedMembers(ledger, report, {
            at: f.at ?? ledger.clock.now(),
            reviewDays: f.reviewDays,
          }),
        )
      }
      if (f.json) {
        printJson({ ...report, evaluation, holds })
        return
      }
      const t = translator(f.lang)
      const out = [
        pc.bold(
          t(
            '{rings} farming rings, {members} members flagged ({linked} members share an identifier)',
            {
              rings: count(report.rings.length, f.lang),
              members: count(report.flaggedMembers, f.lang),
              linked: count(report.linkedMembers, f.lang),
            },
          ),
        ),
      ]
      if (report.rings.length > 0) {
        out.push(
          table(
            [
              t('ring'),
              t('members'),
              t('registered within (h)'),
              t('clockwork check-ins'),
              t('median spend'),
              t('redeemer'),
              t('links'),
            ],
            report.rings.map((r) => [
              String(r.ring),
              count(r.memberIds.length, f.lang),
              decimal(r.registeredSpanHours, 1),
              pct(r.clockworkShare, 0),
              money(r.medianSpend, f.lang),
              r.redeemer === null ? MISSING : String(r.redeemer),
              Object.entries(r.links)
                .map(([k, n]) => `${t(linkName(k))} ${n}`)
                .join(', '),
            ]),
          ),
        )
      }
      if (evaluation !== null) {
        out.push(
          keyValues([
            [t('precision'), pct(evaluation.precision, 1)],
            [t('recall'), pct(evaluation.recall, 1)],
            [
              t('planted rings found'),
              `${count(evaluation.ringsFound, f.lang)} / ${count(evaluation.plantedRings, f.lang)}`,
            ],
          ]),
        )
      }
      if (holds !== null) {
        out.push(
          t(
            '{placed} holds placed ({repeated} already in place), {points} points held until {until}',
            {
              placed: count(holds.placed, f.lang),
              repeated: count(holds.repeated, f.lang),
              points: count(holds.heldPoints, f.lang),
              until: holds.heldUntil.slice(0, 16).replace('T', ' '),
            },
          ),
        )
      }
      process.stdout.write(`${out.join('\n')}\n`)
    })

  loyalty
    .command('holds')
    .description('points holds, newest first: reason, window and release')
    .addOption(ledgerOption())
    .addOption(programOption())
    .option('--member <id>', 'only this member')
    .option('--active-at <time>', 'only holds in force at this time (ISO)')
    .option('--limit <n>', 'rows', '100')
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (raw) => {
      const f = parseFlags(holdsFlagsSchema, raw)
      const holds = await withLedger(
        f,
        (_ledger, store) =>
          listHolds(store, {
            ...(f.member === undefined ? {} : { memberId: f.member }),
            ...(f.activeAt === undefined ? {} : { activeAt: f.activeAt }),
            limit: f.limit,
          }),
        false,
      )
      if (f.json) {
        printJson({ holds })
        return
      }
      const t = translator(f.lang)
      process.stdout.write(
        `${table(
          [
            t('hold'),
            t('member'),
            t('points'),
            t('placed'),
            t('held until'),
            t('released'),
            t('reason'),
          ],
          holds.map((h) => [
            String(h.holdId),
            h.memberId,
            count(h.points, f.lang),
            h.placedAt.toISOString().slice(0, 16).replace('T', ' '),
            h.heldUntil.toISOString().slice(0, 16).replace('T', ' '),
            h.releasedAt === null
              ? MISSING
              : h.releasedAt.toISOString().slice(0, 16).replace('T', ' '),
            h.reason,
          ]),
        )}\n`,
      )
    })

  loyalty
    .command('release-hold')
    .description(
      "end a hold before its window does: the member's held points are spendable again at once",
    )
    .argument('<hold>', 'hold id')
    .requiredOption('--key <key>', 'idempotency key of the release')
    .requiredOption('--reason <text>', 'why (kept with the hold)')
    .addOption(ledgerOption())
    .addOption(programOption())
    .option('--at <time>', 'release time (ISO; default now)')
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (hold: string, raw) => {
      const f = parseFlags(releaseFlagsSchema, raw)
      const holdId = Number(hold)
      if (!Number.isSafeInteger(holdId) || holdId < 1) {
        throw new ConfigError(`hold: ${hold} is not a hold id (a positive whole number)`)
      }
      const r = await withLedger(
        f,
        (ledger) =>
          releaseHold(ledger, {
            holdId,
            idempotencyKey: f.key,
            reason: f.reason,
            ...(f.at === undefined ? {} : { at: f.at }),
          }),
        false,
      )
      if (f.json) {
        printJson(r)
        return
      }
      const t = translator(f.lang)
      process.stdout.write(
        `${t('hold {id} released: {points} points spendable again', {
          id: String(holdId),
          points: count(Number(r.details['releasedPoints'] ?? 0), f.lang),
        })}\n`,
      )
    })
}

function linkName(
  kind: string,
): 'shared devices' | 'shared addresses' | 'number block' | 'referrals' {
  return kind === 'device'
    ? 'shared devices'
    : kind === 'address'
      ? 'shared addresses'
      : kind === 'phone_block'
        ? 'number block'
        : 'referrals'
}
