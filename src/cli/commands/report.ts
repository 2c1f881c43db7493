/**
 * `memberlens report`: a self-contained HTML report of the metric tree for a period; `memberlens report
 * schedule …`: reports sent on a cron schedule to WeCom, DingTalk, webhooks and e-mail.
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises'
import { Command, Option } from 'commander'
import { AlertStore } from '../../alerts/alert-store.js'
import { targetLabel } from '../../alerts/report-delivery.js'
import {
  ScheduleService,
  ScheduleStore,
  nextRun,
  parseSchedulesFile,
  type ReportSchedule,
} from '../../alerts/report-schedule.js'
import { InputError } from '../../core/errors.js'
import { printJson, table } from '../output.js'
import { translator, type Lang } from '../lang.js'
import { defaultAlertsPath, defaultSchedulesPath } from '../server.js'
import { buildHtmlReport, type ReportLang } from '../../analytics/reporting/report.js'
import { systemClock } from '../../core/clock.js'
import { formatInZone } from '../../core/time-zone.js'
import { timeZoneOption } from '../time-zone-option.js'
import { openDatabase } from '../../store/database.js'
import { langOption } from '../lang.js'
import { dbOption } from '../database.js'

export function registerReportCommands(program: Command): void {
  const report = program
    .command('report')
    .description(
      'write a self-contained HTML report (metric tree, key figures, charts) that reads offline; `report schedule` sends reports to WeCom, DingTalk, webhooks and e-mail on a cron schedule',
    )
    .addOption(dbOption())
    .option('--period <YYYY-MM>', 'month to report (default: the last complete month of the data)')
    .addOption(langOption('the report'))
    .option('--out <file>', 'HTML file to write (required)')
    .addOption(timeZoneOption())
    .action(
      async (flags: {
        db: string
        period?: string
        lang: ReportLang
        out?: string
        tz: string
      }) => {
        const out = flags.out
        if (out === undefined)
          throw InputError.single({
            field: 'out',
            reason: 'give the HTML file to write: --out <file>',
          })
        const db = await openDatabase(flags.db, { readOnly: true })
        try {
          const html = await buildHtmlReport(db.driver, {
            ...(flags.period === undefined ? {} : { period: flags.period }),
            lang: flags.lang,
            timezone: flags.tz,
            generatedAt: formatInZone(systemClock.now(), flags.tz),
          })
          await writeFile(out, html)
          process.stdout.write(`wrote ${out} (${Math.round(html.length / 1024)} kB)\n`)
        } finally {
          await db.close()
        }
      },
    )
  registerScheduleCommands(report)
}

interface ScheduleFlags {
  db: string
  schedules?: string
  alerts?: string
  lang?: Lang
  json: boolean
}

const scheduleStore = (f: ScheduleFlags) =>
  new ScheduleStore(f.schedules ?? defaultSchedulesPath(f.db), systemClock)

// --db and --lang are `report`'s own options, which commander reads wherever they stand on the line; the
// subcommands take them from there (see `withReport`).
const scheduleCommon = (c: Command) =>
  c
    .option(
      '--schedules <file>',
      'schedules file (default: memberlens.schedules.json beside the database)',
    )
    .option('--json', 'machine-readable JSON', false)

const describeSchedule = (s: ReportSchedule) =>
  `${s.id}: ${s.name} (${s.cron} ${s.timezone}, ${s.lang}) → ${s.targets.map(targetLabel).join('; ')}`

function registerScheduleCommands(report: Command): void {
  /** A subcommand's flags with `report`'s --db and --lang. */
  const withReport = <T extends object>(flags: T): T & { db: string; lang?: Lang } => ({
    ...flags,
    ...(report.opts() as { db: string; lang?: Lang }),
  })
  const schedule = report
    .command('schedule')
    .description(
      'send the overview, the metric tree with why it moved, and new alerts on a cron schedule to WeCom, DingTalk, webhooks and e-mail',
    )
    .addHelpText(
      'after',
      `
--db and --lang are given as for \`memberlens report\` (anywhere on the line).
Schedules are kept in memberlens.schedules.json beside the database; \`memberlens serve\` sends them when due.
Secrets (robot keys, tokens, the SMTP password) are read from the environment variables a schedule names.

Example file (memberlens report schedule import schedules.yaml):
  schedules:
    - name: 周报
      cron: "0 9 * * 1"          # Mondays 09:00
      timezone: Asia/Shanghai
      lang: zh
      targets:
        - { kind: wecom, url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send, keyEnv: WECOM_KEY }
        - { kind: dingtalk, url: https://oapi.dingtalk.com/robot/send, tokenEnv: DING_TOKEN, secretEnv: DING_SECRET }
        - { kind: webhook, url: https://example.com/hook }
        - { kind: email, host: smtp.example.com, port: 465, security: tls, userEnv: SMTP_USER,
            passwordEnv: SMTP_PASSWORD, from: reports@example.com, to: [ops@example.com] }

Examples:
  memberlens report schedule add --name "周报" --cron "0 9 * * 1" --wecom https://qyapi.weixin.qq.com/cgi-bin/webhook/send --wecom-key-env WECOM_KEY
  memberlens report schedule list
  memberlens report schedule run --id 1a2b3c4d
  memberlens report schedule log`,
    )

  scheduleCommon(
    schedule
      .command('import')
      .description('add the schedules of a YAML file; a schedule of the same name is replaced')
      .argument('<file>', 'schedules file (YAML)'),
  ).action(async (file: string, flags: Omit<ScheduleFlags, 'db'>) => {
    const f = withReport(flags)
    const inputs = parseSchedulesFile(await readFile(file, 'utf8'), file)
    const store = scheduleStore(f)
    const saved: ReportSchedule[] = []
    for (const i of inputs) saved.push(await store.addSchedule(i))
    if (f.json) printJson({ schedules: saved })
    else process.stdout.write(`${saved.map(describeSchedule).join('\n')}\n`)
  })

  scheduleCommon(
    schedule
      .command('add')
      .description('add a schedule (or replace the one of the same name)')
      .requiredOption('--name <text>', 'name')
      .requiredOption(
        '--cron <expr>',
        'when: minute hour day-of-month month day-of-week ("0 9 * * 1")',
      )
      .option('--tz <zone>', 'time zone of the cron expression and of the months', 'Asia/Shanghai')
      .addOption(
        new Option('--report-lang <lang>', 'language of the report')
          .choices(['zh', 'en'])
          .default('zh'),
      )
      .option('--wecom <url>', 'WeCom robot send URL (without its key)')
      .option('--wecom-key-env <name>', 'environment variable holding the WeCom robot key')
      .option('--dingtalk <url>', 'DingTalk robot send URL (without its token)')
      .option(
        '--dingtalk-token-env <name>',
        'environment variable holding the DingTalk access token',
      )
      .option(
        '--dingtalk-secret-env <name>',
        'environment variable holding the DingTalk signing secret',
      )
      .option('--webhook <url>', 'a JSON webhook')
      .option('--email <address...>', 'e-mail recipients')
      .option('--smtp-host <host>', 'SMTP server')
      .option('--smtp-port <port>', 'SMTP port', '587')
      .addOption(
        new Option('--smtp-security <mode>', 'tls (465), starttls, or none (a local relay)')
          .choices(['tls', 'starttls', 'none'])
          .default('starttls'),
      )
      .option('--smtp-user-env <name>', 'environment variable holding the SMTP user')
      .option('--smtp-password-env <name>', 'environment variable holding the SMTP password')
      .option('--smtp-from <address>', 'sender address'),
  ).action(
    async (
      flags: Omit<ScheduleFlags, 'db'> & {
        name: string
        cron: string
        tz: string
        reportLang: 'zh' | 'en'
        wecom?: string
        wecomKeyEnv?: string
        dingtalk?: string
        dingtalkTokenEnv?: string
        dingtalkSecretEnv?: string
        webhook?: string
        email?: string[]
        smtpHost?: string
        smtpPort: string
        smtpSecurity: 'tls' | 'starttls' | 'none'
        smtpUserEnv?: string
        smtpPasswordEnv?: string
        smtpFrom?: string
      },
    ) => {
      const f = withReport(flags)
      const need = (v: string | undefined, field: string, why: string): string => {
        if (v === undefined) throw InputError.single({ field, reason: why })
        return v
      }
      const targets = [
        ...(f.wecom === undefined
          ? []
          : [
              {
                kind: 'wecom' as const,
                url: f.wecom,
                keyEnv: need(
                  f.wecomKeyEnv,
                  'wecom-key-env',
                  'a WeCom robot needs the variable holding its key',
                ),
              },
            ]),
        ...(f.dingtalk === undefined
          ? []
          : [
              {
                kind: 'dingtalk' as const,
                url: f.dingtalk,
                tokenEnv: need(
                  f.dingtalkTokenEnv,
                  'dingtalk-token-env',
                  'a DingTalk robot needs the variable holding its access token',
                ),
                ...(f.dingtalkSecretEnv === undefined ? {} : { secretEnv: f.dingtalkSecretEnv }),
              },
            ]),
        ...(f.webhook === undefined ? [] : [{ kind: 'webhook' as const, url: f.webhook }]),
        ...(f.email === undefined
          ? []
          : [
              {
                kind: 'email' as const,
                host: need(f.smtpHost, 'smtp-host', 'e-mail needs an SMTP server'),
                port: Number(f.smtpPort),
                security: f.smtpSecurity,
                from: need(f.smtpFrom, 'smtp-from', 'e-mail needs a sender address'),
                to: f.email,
                ...(f.smtpUserEnv === undefined ? {} : { userEnv: f.smtpUserEnv }),
                ...(f.smtpPasswordEnv === undefined ? {} : { passwordEnv: f.smtpPasswordEnv }),
              },
            ]),
      ]
      if (targets.length === 0)
        throw InputError.single({
          field: 'target',
          reason: 'give at least one of --wecom, --dingtalk, --webhook, --email',
        })
      const saved = await scheduleStore(f).addSchedule({
        name: f.name,
        cron: f.cron,
        timezone: f.tz,
        lang: f.reportLang,
        targets,
      })
      if (f.json) printJson(saved)
      else process.stdout.write(`${describeSchedule(saved)}\n`)
    },
  )

  scheduleCommon(
    schedule.command('list').description('list the schedules and their next run'),
  ).action((flags: Omit<ScheduleFlags, 'db'>) => {
    const f = withReport(flags)
    const t = translator(f.lang)
    const now = systemClock.now()
    const rows = scheduleStore(f)
      .schedules()
      .map((s) => ({
        ...s,
        nextRun:
          nextRun(
            s.cron,
            s.timezone,
            new Date(s.lastRunAt ?? s.createdAt) > now ? new Date(s.lastRunAt ?? s.createdAt) : now,
          )?.toISOString() ?? null,
      }))
    if (f.json) {
      printJson({ schedules: rows })
      return
    }
    process.stdout.write(
      `${table(
        ['id', t('name'), 'cron', t('next run'), t('targets')],
        rows.map((s) => [
          s.id,
          s.name,
          `${s.cron} (${s.timezone})`,
          s.nextRun === null ? '–' : formatInZone(new Date(s.nextRun), s.timezone).slice(0, 16),
          s.targets.map(targetLabel).join('; '),
        ]),
      )}\n`,
    )
  })

  scheduleCommon(
    schedule.command('remove').description('remove a schedule').argument('<id>', 'schedule id'),
  ).action(async (id: string, flags: Omit<ScheduleFlags, 'db'>) => {
    const f = withReport(flags)
    const s = await scheduleStore(f).removeSchedule(id)
    if (f.json) printJson(s)
    else process.stdout.write(`removed ${describeSchedule(s)}\n`)
  })

  scheduleCommon(
    schedule
      .command('run')
      .description('send now: one schedule (--id) or every schedule that is due (--due)')
      .option('--id <id>', 'schedule id')
      .option('--due', 'every schedule whose time has come')
      .option(
        '--alerts <file>',
        'alerts file (default: memberlens.alerts.json beside the database)',
      ),
  ).action(async (flags: Omit<ScheduleFlags, 'db'> & { id?: string; due?: boolean }) => {
    const f = withReport(flags)
    if ((f.id === undefined) === (f.due !== true))
      throw InputError.single({ field: 'id', reason: 'give either --id <id> or --due' })
    const db = await openDatabase(f.db, { readOnly: true })
    try {
      const service = new ScheduleService({
        driver: db.driver,
        store: scheduleStore(f),
        clock: systemClock,
        alerts: new AlertStore(f.alerts ?? defaultAlertsPath(f.db), systemClock),
        log: (line) => process.stderr.write(`${line}\n`),
      })
      const results = f.id === undefined ? await service.runDue() : [await service.runNow(f.id)]
      if (f.json) {
        printJson({ runs: results })
        return
      }
      const t = translator(f.lang)
      process.stdout.write(
        `${table(
          ['id', t('target'), t('delivered'), t('tries'), t('error')],
          results.flatMap((r) =>
            r.deliveries.map((d) => [
              r.scheduleId,
              d.target,
              d.delivered ? t('yes') : t('no'),
              String(d.attempts),
              d.error ?? '',
            ]),
          ),
        )}\n`,
      )
    } finally {
      await db.close()
    }
  })

  scheduleCommon(
    schedule
      .command('log')
      .description('the delivery log, newest first: each target of each run, delivered or why not')
      .option('--id <id>', 'only this schedule')
      .addOption(new Option('--limit <n>', 'how many').default(20).argParser(Number)),
  ).action((flags: Omit<ScheduleFlags, 'db'> & { id?: string; limit: number }) => {
    const f = withReport(flags)
    const log = scheduleStore(f).log({
      limit: f.limit,
      ...(f.id === undefined ? {} : { scheduleId: f.id }),
    })
    if (f.json) {
      printJson({ log })
      return
    }
    const t = translator(f.lang)
    process.stdout.write(
      `${table(
        [t('time'), t('name'), t('target'), t('delivered'), t('tries'), t('error')],
        log.map((e) => [
          e.at.slice(0, 16).replace('T', ' '),
          e.scheduleName,
          e.target,
          e.delivered ? t('yes') : t('no'),
          String(e.attempts),
          e.error ?? '',
        ]),
      )}\n`,
    )
  })
}
