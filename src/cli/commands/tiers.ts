/**
 * `memberlens tiers …`: the periodic tier review, a member's tier history, and upcoming-downgrade warnings.
 * @module
 */
import { Command, Option } from 'commander'
import pc from 'picocolors'
import { loadProgram } from '../../ledger/program.js'
import { downgradeWarnings, reviewTiers } from '../../ledger/tiers.service.js'
import { langOption, translator } from '../lang.js'
import { count, decimal, keyValues, MISSING, money, pct, printJson, table } from '../output.js'
import {
  forecastFlagsSchema,
  parseFlags,
  readFlagsSchema,
  reviewFlagsSchema,
} from '../validations/points.js'
import { defaultForecastDate, forecastTierKeeping } from '../../analytics/loyalty/tier-forecast.js'
import { ledgerOption, programOption, withLedger, ledgerCode, tierName } from '../ledger-options.js'

const jsonOption = () => new Option('--json', 'machine-readable JSON on stdout').default(false)

/** Registers the `tiers` command group. */
export function registerTiersCommands(program: Command): void {
  const tiers = program
    .command('tiers')
    .description('membership tiers: review, history, downgrade warnings, keeping forecast')

  tiers
    .command('review')
    .description('apply upgrades, grace periods and downgrades to every member (safe to run again)')
    .addOption(ledgerOption())
    .addOption(programOption())
    .option('--at <time>', 'review time (ISO; default now)')
    .option('--key <key>', 'idempotency key of the run (default tier-review:<time>)')
    .addOption(langOption())
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
        const t = translator(f.lang)
        process.stdout.write(
          `${pc.bold(t('Tier review at {time}', { time: s.at.toISOString() }))}\n${keyValues([
            [t('members'), count(s.members, f.lang)],
            [t('upgraded'), count(s.upgraded, f.lang)],
            [t('downgraded'), count(s.downgraded, f.lang)],
            [t('grace started'), count(s.graceStarted, f.lang)],
            [t('grace cleared'), count(s.graceCleared, f.lang)],
            [t('unchanged'), count(s.unchanged, f.lang)],
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
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (member: string, raw) => {
      const f = parseFlags(readFlagsSchema, raw)
      await withLedger(
        f,
        async (ledger) => {
          const history = await ledger.tierHistory(member)
          // Tier names come from the program file when there is one; a read works without it.
          const program = f.json ? undefined : await loadProgram(f.program).catch(() => undefined)
          if (f.json) {
            printJson({ memberId: member, history })
            return
          }
          const t = translator(f.lang)
          process.stdout.write(
            `${table(
              [t('time'), t('change'), t('from'), t('to'), t('reason')],
              history.map((h) => [
                h.changedAt.toISOString().slice(0, 10),
                ledgerCode(h.kind, f.lang),
                h.fromTier === null ? MISSING : tierName(program, h.fromTier, f.lang),
                tierName(program, h.toTier, f.lang),
                ledgerCode(h.reason, f.lang),
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
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (raw) => {
      const f = parseFlags(reviewFlagsSchema, raw)
      await withLedger(f, async (ledger, _store, program) => {
        const w = await downgradeWarnings(ledger, f.reviewAt as Date)
        if (f.json) {
          printJson({ warnings: w })
          return
        }
        const t = translator(f.lang)
        process.stdout.write(
          `${table(
            [
              t('member'),
              t('tier'),
              t('would become'),
              t('qualifying'),
              t('threshold'),
              t('grace until'),
            ],
            w.map((x) => [
              x.memberId,
              tierName(program, x.tier, f.lang),
              tierName(program, x.projectedTier, f.lang),
              x.value,
              x.threshold,
              x.downgradeDueAt?.toISOString().slice(0, 10) ?? MISSING,
            ]),
          )}\n`,
        )
      })
    })
  registerForecast(tiers)
}

/** Registers `tiers forecast` (called from {@link registerTiersCommands}). */
function registerForecast(tiers: Command): void {
  tiers
    .command('forecast')
    .description(
      "each tier member's chance of keeping the tier at the next review (BG/NBD × Gamma–Gamma on the ledger up to --at), what they still need, and the expected members falling below per tier; with the realised counts when the ledger already holds that review",
    )
    .addOption(ledgerOption())
    .addOption(programOption())
    .option(
      '--at <time>',
      "forecast date (default: the start of the review period of the ledger's last order)",
    )
    .option('--limit <n>', 'members listed, lowest chance of keeping first', '20')
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (raw) => {
      const f = parseFlags(forecastFlagsSchema, raw)
      await withLedger(f, async (ledger, store, program) => {
        const at = f.at ?? (await defaultForecastDate(store, program, ledger.clock.now()))
        const r = await forecastTierKeeping(store, program, { at, limit: f.limit })
        if (f.json) {
          printJson(r)
          return
        }
        const t = translator(f.lang)
        const day = (iso: string) => iso.slice(0, 10)
        const amount = (v: number) =>
          r.basis === 'spend' ? money(v, f.lang) : count(Math.ceil(v), f.lang)
        const share = (v: number) => pct(v, 0)
        const out = [
          pc.bold(
            t(
              'Tier keeping at the review on {review} (forecast at {at}, {basis} over the window from {from})',
              {
                review: day(r.nextReviewAt),
                at: day(r.at),
                basis: ledgerCode(r.basis, f.lang),
                from: day(r.windowStart),
              },
            ),
          ),
        ]
        if (r.tiers.length === 0) {
          out.push(t('No member holds a tier above the entry tier at {at}.', { at: day(r.at) }))
        } else {
          out.push(
            table(
              [
                t('tier'),
                t('members'),
                t('expected to keep'),
                t('expected below'),
                t('of which downgrades'),
                t('of which grace starts'),
                t('realised below'),
              ],
              [
                ...r.tiers.map((x) => [
                  tierName(program, x.tier, f.lang),
                  count(x.members, f.lang),
                  decimal(x.expectedKeep, 1),
                  decimal(x.expectedBelow, 1),
                  decimal(x.expectedDowngrades, 1),
                  decimal(x.expectedGraceStarts, 1),
                  x.realisedBelow === null ? MISSING : count(x.realisedBelow, f.lang),
                ]),
              ],
            ),
            '',
            table(
              [
                t('member'),
                t('tier'),
                t('chance of keeping'),
                t('qualifying'),
                t('threshold'),
                t('still needed'),
                t('expected orders'),
                t('likely tier'),
              ],
              r.members.map((m) => [
                m.memberId,
                tierName(program, m.tier, f.lang),
                share(m.probabilityKeep),
                amount(m.qualifying),
                amount(m.threshold),
                amount(m.needed),
                decimal(m.expectedOrders, 2),
                tierName(program, m.likelyTier, f.lang),
              ]),
            ),
          )
        }
        out.push(
          pc.dim(
            t('Model: {model} fitted on {members} members with orders up to the forecast date.', {
              model: r.model.name,
              members: count(r.model.members, f.lang),
            }),
          ),
        )
        process.stdout.write(`${out.join('\n')}\n`)
      })
    })
}
