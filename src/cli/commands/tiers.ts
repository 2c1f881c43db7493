/**
 * `memberlens tiers …`: the periodic tier review, a member's tier history, and upcoming-downgrade warnings.
 * @module
 */
import { Command, Option } from 'commander'
import pc from 'picocolors'
import { downgradeWarnings, reviewTiers } from '../../ledger/tiers.service.js'
import { MISSING, fmt, keyValues, printJson, table } from '../output.js'
import { parseFlags, readFlagsSchema, reviewFlagsSchema } from '../validations/points.js'
import { ledgerOption, programOption, withLedger } from './points.js'

const jsonOption = () => new Option('--json', 'machine-readable JSON on stdout').default(false)

/** Registers the `tiers` command group. */
export function registerTiersCommands(program: Command): void {
  const tiers = program
    .command('tiers')
    .description('membership tiers: review, history, downgrade warnings')

  tiers
    .command('review')
    .description('apply upgrades, grace periods and downgrades to every member (safe to run again)')
    .addOption(ledgerOption())
    .addOption(programOption())
    .option('--at <time>', 'review time (ISO; default now)')
    .option('--key <key>', 'idempotency key of the run (default tier-review:<time>)')
    .addOption(jsonOption())
    .action(async (raw) => {
      const f = parseFlags(reviewFlagsSchema, raw)
      await withLedger(f, async (ledger) => {
        const s = await reviewTiers(ledger, {
          ...(f.at ? { at: f.at } : {}),
          ...(f.key ? { runKey: f.key } : {}),
        })
        if (f.json) {
          printJson(s)
          return
        }
        process.stdout.write(
          `${pc.bold(`Tier review at ${s.at.toISOString()}`)}\n${keyValues([
            ['members', fmt(s.members)],
            ['upgraded', fmt(s.upgraded)],
            ['downgraded', fmt(s.downgraded)],
            ['grace started', fmt(s.graceStarted)],
            ['grace cleared', fmt(s.graceCleared)],
            ['unchanged', fmt(s.unchanged)],
          ])}\n`,
        )
      })
    })

  tiers
    .command('show')
    .description("a member's tier history with reasons")
    .argument('<member>', 'member id')
    .addOption(ledgerOption())
    .addOption(programOption())
    .addOption(jsonOption())
    .action(async (member: string, raw) => {
      const f = parseFlags(readFlagsSchema, raw)
      await withLedger(
        f,
        async (ledger) => {
          const history = await ledger.tierHistory(member)
          if (f.json) {
            printJson({ memberId: member, history })
            return
          }
          process.stdout.write(
            `${table(
              ['time', 'change', 'from', 'to', 'reason'],
              history.map((h) => [
                h.changedAt.toISOString().slice(0, 10),
                h.kind,
                h.fromTier ?? MISSING,
                h.toTier,
                h.reason,
              ]),
            )}\n`,
          )
        },
        false,
      )
    })

  tiers
    .command('warnings')
    .description('members who will drop a tier at the next review without more activity')
    .addOption(ledgerOption())
    .addOption(programOption())
    .requiredOption('--review-at <time>', 'date of the next review')
    .addOption(jsonOption())
    .action(async (raw) => {
      const f = parseFlags(reviewFlagsSchema, raw)
      await withLedger(f, async (ledger) => {
        const w = await downgradeWarnings(ledger, f.reviewAt as Date)
        if (f.json) {
          printJson({ warnings: w })
          return
        }
        process.stdout.write(
          `${table(
            ['member', 'tier', 'would become', 'qualifying', 'threshold', 'grace until'],
            w.map((x) => [
              x.memberId,
              x.tier,
              x.projectedTier,
              x.value,
              x.threshold,
              x.downgradeDueAt?.toISOString().slice(0, 10) ?? MISSING,
            ]),
          )}\n`,
        )
      })
    })
}
