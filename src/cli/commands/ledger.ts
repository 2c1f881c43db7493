/**
 * `memberlens ledger migrate`: creates the loyalty ledger's tables, or brings an older ledger's schema up to
 * this version, once, under an advisory lock. Opening a ledger migrates a new or older one by itself; this
 * command lets a deployment do it ahead of time (before the servers start), so no server or CLI call ever runs
 * schema DDL while others write.
 * @module
 */
import { Command, Option } from 'commander'
import { migrateLedger, type MigrationReport } from '../../ledger/ledger.table.js'
import { openLedgerStoreOnly } from '../../ledger/stores/open-store.js'
import { langOption, translator, type Lang } from '../lang.js'
import { printJson } from '../output.js'
import { ledgerOption } from '../ledger-options.js'

function describeReport(location: string, r: MigrationReport, lang: Lang): string {
  const t = translator(lang)
  if (r.applied.length === 0)
    return `${t('ledger {location}: schema version {version}, up to date', { location, version: r.to })}\n`
  const lines = r.applied.map((m) => `  ${m.version}  ${m.name}`)
  return `${t('ledger {location}: schema version {from} → {to}, applied:', { location, from: r.from, to: r.to })}\n${lines.join('\n')}\n`
}

/** Registers the `ledger` command group. */
export function registerLedgerCommands(program: Command): void {
  const ledger = program
    .command('ledger')
    .description('the loyalty ledger database: schema migrations')
  ledger
    .command('migrate')
    .description(
      "create the ledger's tables or bring them up to this version (once, under a lock; safe to run again)",
    )
    .addOption(ledgerOption())
    .addOption(langOption())
    .addOption(new Option('--json', 'machine-readable JSON on stdout').default(false))
    .addHelpText(
      'after',
      '\nRun it when deploying a new version, before the servers start; opening a ledger also migrates a new or\nolder one, but an up-to-date ledger is only read.\n\nExamples:\n  memberlens ledger migrate --ledger postgres://loyalty@db.internal/loyalty\n  memberlens ledger migrate --ledger ./memberlens-ledger',
    )
    .action(async (flags: { ledger: string; json: boolean; lang: Lang }) => {
      const store = await openLedgerStoreOnly(flags.ledger)
      try {
        const r = await migrateLedger(store)
        if (flags.json) printJson({ ledger: store.location, ...r })
        else process.stdout.write(describeReport(store.location, r, flags.lang))
      } finally {
        await store.close()
      }
    })
}
