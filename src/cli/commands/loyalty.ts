/**
 * `memberlens loyalty replay|sync|metrics|backtest`: the bridge between the loyalty ledger and the analytics database.
 * `replay` sends the loaded order history through the live ledger path (or, with `--bulk`, computes the same
 * ledger member by member and writes it in large batches into an empty ledger); `sync` copies ledger facts into
 * DuckDB (incrementally); `metrics` reads the program metrics from the synced tables; `backtest`
 * (`loyalty-backtest.ts`) compares a proposed program with the current one over the history.
 * @module
 */
import { Command, Option } from 'commander'
import { bulkReplayOrderHistory } from '../../analytics/loyalty/bulk-replay.js'
import { loyaltyMetrics } from '../../analytics/loyalty/metrics.js'
import { replayOrderHistory } from '../../analytics/loyalty/replay.js'
import { syncedTierNames, syncLedgerToDuckDb } from '../../analytics/loyalty/sync.js'
import { openDatabase } from '../../store/database.js'
import { langOption, translator, type Lang } from '../lang.js'
import { fmt, keyValues, pct, printJson, table, figure, moneyCurrency } from '../output.js'
import { createProgress } from '../progress.js'
import { checkInstant } from '../validations/retention.js'
import { dbOption } from '../database.js'
import { ledgerOption, programOption, withLedger } from '../ledger-options.js'

/** Registers the `loyalty` command group and returns it (the backtest and farming modules add to it). */
export function registerLoyaltyCommands(program: Command): Command {
  const loyalty = program
    .command('loyalty')
    .description(
      'replay orders into the ledger, sync the ledger into the analytics database, program metrics',
    )
  const json = () => new Option('--json', 'machine-readable JSON on stdout').default(false)

  loyalty
    .command('replay')
    .description(
      'replay the whole loaded history in time order through the live ledger path: orders earn, points paid in orders are redeemed, returns reverse, check-ins and reviews earn their bonuses',
    )
    .addOption(dbOption())
    .addOption(ledgerOption())
    .addOption(programOption())
    .addOption(
      new Option(
        '--bulk',
        'compute the same ledger member by member and write it in large batches (empty ledger only)',
      ).default(false),
    )
    .addOption(json())
    .action(
      async (flags: {
        db: string
        ledger: string
        program: string
        json: boolean
        bulk: boolean
      }) => {
        const db = await openDatabase(flags.db, { readOnly: true })
        const progress = createProgress(!flags.json)
        try {
          progress.phase('replaying orders', 1)
          const onProgress = (done: number) => progress.update(done)
          const r = await withLedger(flags, (ledger) =>
            flags.bulk
              ? bulkReplayOrderHistory(db, ledger, { onProgress })
              : replayOrderHistory(db, ledger, { onProgress }),
          )
          progress.stop()
          if (flags.json) printJson(r)
          else
            process.stdout.write(
              `${keyValues([
                ['members', fmt(r.members)],
                ['orders', fmt(r.orders)],
                ['returns', fmt(r.returns)],
                ['check-ins', fmt(r.checkIns)],
                ['review bonuses', fmt(r.reviewBonuses)],
                ['orders paid with points', fmt(r.redemptions + r.refusedRedemptions)],
                ['  redeemed', `${fmt(r.redemptions)} (${fmt(r.redeemedPoints)} points)`],
                [
                  '  refused (too few spendable points)',
                  `${fmt(r.refusedRedemptions)} (${fmt(r.refusedRedemptionPoints)} points)`,
                ],
                ['skipped', fmt(r.skipped)],
                ['expiry runs', fmt(r.expiryRuns)],
                ['tier reviews', fmt(r.reviews)],
              ])}\n`,
            )
        } finally {
          progress.stop()
          await db.close()
        }
      },
    )

  loyalty
    .command('sync')
    .description(
      'copy ledger entries, balances and tier changes into the analytics database (incremental; a different or rebuilt ledger replaces the copy)',
    )
    .addOption(dbOption())
    .addOption(ledgerOption())
    .addOption(programOption())
    .addOption(json())
    .action(async (flags: { db: string; ledger: string; program: string; json: boolean }) => {
      const db = await openDatabase(flags.db)
      try {
        const r = await withLedger(flags, (_ledger, store, program) =>
          syncLedgerToDuckDb(db, store, program),
        )
        if (flags.json) printJson(r)
        else
          process.stdout.write(
            `${r.replaced ? 'replaced the copy of another (or rebuilt) ledger: ' : ''}synced ${fmt(r.entries)} entries, ${fmt(r.accounts)} accounts, ${fmt(r.buckets)} buckets, ${fmt(r.tierChanges)} tier changes\n`,
          )
      } finally {
        await db.close()
      }
    })

  loyalty
    .command('metrics')
    .description(
      'points issued, redeemed and expired, liability, breakage, redemption rate, tiers (from the synced tables)',
    )
    .addOption(dbOption())
    .requiredOption('--from <date>', 'first day (YYYY-MM-DD)')
    .requiredOption('--to <date>', 'day after the last (YYYY-MM-DD)')
    .addOption(langOption())
    .addOption(json())
    .action(async (flags: { db: string; from: string; to: string; lang?: Lang; json: boolean }) => {
      const t = translator(flags.lang)
      const from = checkInstant('--from', flags.from)
      const to = checkInstant('--to', flags.to)
      const db = await openDatabase(flags.db)
      try {
        const m = await loyaltyMetrics(db, from, to)
        // The tier names of the program, as the last sync recorded them (`name_zh` in Chinese).
        const tierNames = await syncedTierNames(db.driver)
        if (flags.json) {
          printJson(m)
          return
        }
        process.stdout.write(
          `${keyValues([
            [t('points issued'), fmt(m.issued)],
            [t('points redeemed'), fmt(m.redeemed)],
            [t('points expired'), fmt(m.expired)],
            [t('redemption rate'), pct(m.redemptionRate)],
            [t('liability (points)'), fmt(m.liabilityPoints)],
            [
              t('liability ({currency})', { currency: m.currency ?? t('currency') }),
              figure(m.liabilityAmount, 'currency', flags.lang, m.currency ?? moneyCurrency()),
            ],
            [t('breakage'), pct(m.breakage)],
            [t('upgrade rate'), pct(m.upgradeRate)],
            [t('downgrade rate'), pct(m.downgradeRate)],
          ])}\n\n${table(
            [t('tier'), t('members'), t('share')],
            m.tierDistribution.map((x) => [
              tierNames[x.tier]?.[flags.lang ?? 'en'] ?? x.tier,
              fmt(x.members),
              pct(x.share),
            ]),
          )}\n`,
        )
      } finally {
        await db.close()
      }
    })
  return loyalty
}
