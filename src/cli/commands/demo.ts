import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { INGEST_TABLES } from '../../core/schema.js'
import pc from 'picocolors'
import { lockLedgerDir } from '../../ledger/stores/dir-lock.js'
import { labelFeedback } from '../../analytics/voice/label.js'
import { bulkReplayOrderHistory } from '../../analytics/loyalty/bulk-replay.js'
import { syncLedgerToDuckDb } from '../../analytics/loyalty/sync.js'
import { fixedClock, systemClock, type Clock } from '../../core/clock.js'
import { addDays, startOfDayIn } from '../../core/time-zone.js'
import { ConfigError } from '../../core/errors.js'
import { demoDatabaseState, markDemoDatabase } from '../../store/meta.js'
import { getOverview } from '../../engine/metrics/overview.js'
import { DEFAULT_TREE, evaluateTree } from '../../engine/metrics/tree.js'
import { findDefaultAsOf } from '../../engine/lifecycle/default-as-of.js'
import { ingestFile, type IngestReport } from '../../duckdb/ingest/ingest.js'
import { simulate } from '../../simulate/simulate.js'
import { Ledger } from '../../ledger/ledger.service.js'
import { loadProgram } from '../../ledger/program.js'
import { openLedgerStore } from '../../ledger/stores/open-store.js'
import { openDatabase, type Database } from '../../store/database.js'
import { fmt, printJson } from '../output.js'
import { createProgress } from '../progress.js'
import { renderIngest } from '../render/ingest.js'
import { renderRetentionSummary } from '../render/retention.js'
import { renderDemoModels, runDemoModels } from '../demo-models.js'
import { renderTree } from '../render/tree.js'
import { translator, type Lang } from '../lang.js'
import { renderOverview } from '../render/overview.js'
import { startServer, type RunningServer } from '../server.js'

export interface DemoFlags {
  db: string
  /** Serve the dashboard once the demo database is built. */
  serve: boolean
  port: number
  members: number
  months: number
  seed: number
  end: string
  /** The project time zone: the simulated world ends at the start of the day after `end` in it. */
  tz: string
  /** Purchases follow the retail calendar (春节 dip, 618 and 双11 pre-sale rises). */
  calendarDemand?: boolean
  plantedCovariates?: boolean
  json: boolean
  quiet: boolean
  /** Language of the printed summary (the ingest table and the closing lines stay English). */
  lang?: Lang
  /** Also simulate the randomised multi-arm retention campaign (for `memberlens target`). */
  upliftCampaign?: boolean
  /** Also hold members out of every member campaign (a universal holdout recorded as an experiment). */
  universalHoldout?: boolean
  /** Also plant the hard cases of identity resolution (identity_cases.csv, loaded last as members). */
  identityCases?: boolean
  /** Also plant points-farming rings and honest look-alikes (for `loyalty farming`). */
  plantedFarming?: boolean
}

/**
 * Simulates a member base, loads it through the ordinary ingest path into a fresh database and prints the
 * overview. Refuses to touch a database that holds data it did not create.
 */
export async function runDemo(flags: DemoFlags): Promise<void> {
  const showProgress = !flags.json && !flags.quiet
  await prepareDemoDatabase(flags.db)
  // The simulated files and the example ledger live beside the database, wherever the command runs.
  const workDir = join(dirname(flags.db), '.memberlens')
  const dataDir = join(workDir, 'demo-data')
  await mkdir(dataDir, { recursive: true })
  let loyaltySkipped: boolean
  const progress = createProgress(showProgress)
  const started = performance.now()
  progress.phase('simulating members', flags.members)
  const sim = await simulate(dataDir, {
    members: flags.members,
    months: flags.months,
    seed: flags.seed,
    end: flags.end,
    ...(flags.calendarDemand === true ? { calendarDemand: true } : {}),
    ...(flags.plantedCovariates === true ? { plantedCovariates: true } : {}),
    upliftCampaign: flags.upliftCampaign === true,
    ...(flags.universalHoldout === true ? { universalHoldout: true } : {}),
    ...(flags.identityCases === true ? { identityCases: true } : {}),
    ...(flags.plantedFarming === true ? { plantedFarming: true } : {}),
    onProgress: (done) => progress.update(done),
  })
  progress.stop()
  const db = await openDatabase(flags.db)
  const reports: IngestReport[] = []
  try {
    await markDemoDatabase(db.driver)
    const files = sim.files as Record<string, string>
    const total = INGEST_TABLES.reduce((s, t) => s + (sim.rows[t] ?? 0), 0)
    progress.phase('loading tables', total)
    let done = 0
    for (const t of INGEST_TABLES) {
      const file = files[t]
      if (file === undefined) continue
      reports.push(
        await ingestFile(db.driver, file, {
          table: t,
          clock: systemClock,
          rollupTimezone: flags.tz,
        }),
      )
      done += sim.rows[t] ?? 0
      progress.update(done)
    }
    // The planted registrations come last, as a later members file would.
    const cases = files['identity_cases']
    if (cases !== undefined)
      reports.push(await ingestFile(db.driver, cases, { table: 'members', clock: systemClock }))
    progress.stop()
    const overview = await getOverview(db.driver, undefined, { timezone: flags.tz })
    const tree = await evaluateTree(db.driver, DEFAULT_TREE, { timezone: flags.tz })
    // The loyalty program first: its synced tiers and points buckets feed the early-warning signals of the
    // risk scoring (tier_downgrade_due, points_expiring). The ledger's clock is the end of the simulated world,
    // not today: replayed later, the wall clock would put the ledger past the points it then warns about.
    progress.phase('replaying the loyalty program', 1)
    const worldEnd = fixedClock(startOfDayIn(addDays(flags.end, 1), flags.tz))
    const loyalty = await runDemoLoyalty(db, join(workDir, 'demo-ledger'), worldEnd)
    loyaltySkipped = 'skipped' in loyalty
    progress.stop()
    // The sentiment of the feedback texts, for the catalog's negative-text share (as `voice label` does).
    const sentiment = await labelFeedback(db.driver, { clock: systemClock })
    const models = await runDemoModels(db.driver, systemClock, { timeZone: flags.tz })
    const seconds = (performance.now() - started) / 1000
    if (flags.json) {
      printJson({
        database: flags.db,
        seconds,
        simulated: sim.rows,
        truthFile: sim.truthFile,
        loads: reports,
        overview,
        clv: models.clv,
        risk: models.risk,
        loyalty,
        sentiment,
      })
      return
    }
    if (!flags.quiet) {
      process.stdout.write(`${renderIngest(reports, flags.lang)}\n\n`)
      process.stdout.write(`${renderOverview(overview, flags.lang)}\n\n`)
      process.stdout.write(`${renderTree(tree, flags.lang)}\n\n`)
      const asOf = await findDefaultAsOf(db.driver, flags.tz)
      if (asOf !== undefined)
        process.stdout.write(
          `${await renderRetentionSummary(db.driver, asOf, flags.tz, flags.lang)}\n\n`,
        )
      process.stdout.write(`${renderDemoModels(models, flags.lang)}\n\n`)
      const t = translator(flags.lang)
      const mix = t('positive {p}, neutral {u}, negative {n}', {
        p: fmt(sentiment.bySentiment['positive'] ?? 0),
        u: fmt(sentiment.bySentiment['neutral'] ?? 0),
        n: fmt(sentiment.bySentiment['negative'] ?? 0),
      })
      process.stdout.write(
        `${pc.bold(t('Loyalty program'))}\n  ${
          'skipped' in loyalty
            ? pc.yellow(t('skipped: {reason}', { reason: loyalty.skipped }))
            : t(
                '{members} members, {entries} ledger entries and {changes} tier changes synced for the dashboard',
                {
                  members: fmt(loyalty.members),
                  entries: fmt(loyalty.entries),
                  changes: fmt(loyalty.tierChanges),
                },
              ) +
              `\n  ${
                loyalty.refusedRedemptions === 0
                  ? t('{n} orders paid with points redeemed ({points} points)', {
                      n: fmt(loyalty.redemptions),
                      points: fmt(loyalty.redeemedPoints),
                    })
                  : t(
                      '{n} orders paid with points redeemed ({points} points); {refused} refused, the member having too few spendable points ({refusedPoints} points)',
                      {
                        n: fmt(loyalty.redemptions),
                        points: fmt(loyalty.redeemedPoints),
                        refused: fmt(loyalty.refusedRedemptions),
                        refusedPoints: fmt(loyalty.refusedRedemptionPoints),
                      },
                    )
              }`
        }\n${pc.bold(t('Feedback texts'))}\n  ${t('{n} labelled with their sentiment ({mix})', { n: fmt(sentiment.labelled), mix })}\n\n`,
      )
      process.stdout.write(
        pc.dim(
          `${t('Demo database {db} built in {seconds} s from {dir} (ground truth: {truth}).', {
            db: flags.db,
            seconds: seconds.toFixed(1),
            dir: dataDir,
            truth: sim.truthFile,
          })}\n${t('Next: {commands}', {
            commands: `npx memberlens metrics list · npx memberlens metrics get net_revenue aov --from ${flags.end.slice(0, 4)}-01 --to ${flags.end.slice(0, 7)} --by registration_channel · npx memberlens members show 1`,
          })}\n`,
        ),
      )
    }
  } finally {
    await db.close()
  }
  // The demo's ledger and program go with the dashboard, so its loyalty views (the what-if included) work.
  if (flags.serve && !flags.json)
    await serveDashboard(
      flags,
      loyaltySkipped ? {} : { ledger: join(workDir, 'demo-ledger'), program: EXAMPLE_PROGRAM },
    )
}

/** The last step of the main job: the dashboard on 127.0.0.1 until Ctrl+C. */
async function serveDashboard(
  flags: DemoFlags,
  loyalty: { readonly ledger?: string; readonly program?: string },
): Promise<void> {
  let server: RunningServer
  // The dashboard opens in the demo's language until the viewer picks one.
  const at = {
    ...loyalty,
    db: flags.db,
    host: '127.0.0.1',
    tz: flags.tz,
    ...(flags.lang === undefined ? {} : { lang: flags.lang }),
  }
  try {
    server = await startServer({ ...at, port: flags.port })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e
    server = await startServer({ ...at, port: 0 })
  }
  process.stdout.write(
    `${pc.bold('Dashboard')}: ${server.dashboardUrl}\n${pc.dim(`API reference: ${server.url}/docs · stop with Ctrl+C · skip this step with --no-serve`)}\n`,
  )
  await new Promise<void>((ok) => {
    process.once('SIGINT', ok)
    process.once('SIGTERM', ok)
  })
  await server.close()
}

async function prepareDemoDatabase(path: string): Promise<void> {
  if (!existsSync(path)) return
  const db = await openDatabase(path)
  const { isDemo, empty } = await demoDatabaseState(db.driver).finally(() => db.close())
  if (!isDemo && !empty) {
    throw new ConfigError(
      `${path} holds data that the demo did not create; pass --db to build the demo elsewhere`,
    )
  }
  await rm(path, { force: true })
  await rm(`${path}.wal`, { force: true })
}

/** The example loyalty program, when the checkout has it. */
const EXAMPLE_PROGRAM = fileURLToPath(
  new URL('../../../examples/loyalty-program.yaml', import.meta.url),
)

/**
 * The demo's loyalty program: the example program's rules replayed over the loaded order history into a fresh
 * embedded ledger (`ledgerDir`, replaced), then synced into the analytics database for the Loyalty page.
 */
export async function runDemoLoyalty(
  db: Database,
  ledgerDir: string,
  clock: Clock,
  programFile = EXAMPLE_PROGRAM,
): Promise<
  | {
      members: number
      entries: number
      tierChanges: number
      checkIns: number
      redemptions: number
      redeemedPoints: number
      refusedRedemptions: number
      refusedRedemptionPoints: number
    }
  | { skipped: string }
> {
  if (!existsSync(programFile)) return { skipped: `no loyalty program file at ${programFile}` }
  const program = await loadProgram(programFile)
  // A ledger another process (a running server) holds is refused, not deleted under it.
  if (existsSync(ledgerDir)) (await lockLedgerDir(ledgerDir, 'memberlens demo')).release()
  await rm(ledgerDir, { recursive: true, force: true })
  const store = await openLedgerStore(ledgerDir)
  try {
    const replay = await bulkReplayOrderHistory(db, new Ledger(store, program, { clock }))
    const sync = await syncLedgerToDuckDb(db, store, program)
    return {
      members: replay.members,
      entries: sync.entries,
      tierChanges: sync.tierChanges,
      checkIns: replay.checkIns,
      redemptions: replay.redemptions,
      redeemedPoints: replay.redeemedPoints,
      refusedRedemptions: replay.refusedRedemptions,
      refusedRedemptionPoints: replay.refusedRedemptionPoints,
    }
  } finally {
    await store.close()
  }
}
