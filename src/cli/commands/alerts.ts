/**
 * `memberlens alerts add|list|remove|evaluate|history`: alert rules on metrics and metric-tree nodes, kept in
 * the alerts file that `memberlens serve` reads (it evaluates them after each ingest and on a schedule).
 * @module
 */
import { timeZoneOption } from '../time-zone-option.js'
import { formatInZone } from '../../core/time-zone.js'
import { Command, Option } from 'commander'
import pc from 'picocolors'
import { readFile } from 'node:fs/promises'
import {
  CHANGE_AGAINST,
  CHANGE_DIRECTIONS,
  alertConditionSchema,
  parseAlertRulesFile,
  type AlertCondition,
} from '../../alerts/alert-rule.js'
import { AlertService } from '../../alerts/alert-service.js'
import { AlertStore } from '../../alerts/alert-store.js'
import { systemClock } from '../../core/clock.js'
import { InputError } from '../../core/errors.js'
import { GRAINS, type Grain } from '../../engine/dialects/dialect.js'
import { openDatabase } from '../../store/database.js'
import { langOption, translator, type Lang } from '../lang.js'
import { printJson, table } from '../output.js'
import { dbOption } from '../database.js'
import { defaultAlertsPath } from '../server.js'

interface FileFlags {
  db: string
  alerts?: string
  lang?: Lang
  json: boolean
}

const storeOf = (f: FileFlags) => new AlertStore(f.alerts ?? defaultAlertsPath(f.db), systemClock)

const common = (c: Command) =>
  c
    .addOption(dbOption('database file (locates the alerts file)'))
    .option('--alerts <file>', 'alerts file (default: memberlens.alerts.json beside the database)')
    .addOption(langOption('headers'))
    .option('--json', 'machine-readable JSON', false)

const describe = (c: AlertCondition): string => {
  switch (c.kind) {
    case 'threshold':
      return `${c.op} ${c.value}`
    case 'change':
      return `${c.direction} ${c.percent}% vs ${c.against}`
    case 'off_track':
      return 'turns off track'
    case 'anomaly':
      return `anomaly |z| ≥ ${c.z} ${c.direction} (${c.years}y, ${c.events.length ? c.events.join('/') : 'no events'})`
    default: {
      const _exhaustive: never = c
      return _exhaustive
    }
  }
}

const num = (field: string, v: string) => {
  const n = Number(v)
  if (v.trim() === '' || !Number.isFinite(n))
    throw InputError.single({ field, value: v, reason: 'expected a number' })
  return n
}

/** The condition named by exactly one of --above, --below, --change, --off-track, --anomaly. */
function conditionOf(f: {
  above?: string
  below?: string
  change?: string
  against: (typeof CHANGE_AGAINST)[number]
  direction: (typeof CHANGE_DIRECTIONS)[number]
  offTrack?: boolean
  anomaly?: boolean
  z?: string
  years?: string
  events?: string
}): AlertCondition {
  const given = [
    f.above,
    f.below,
    f.change,
    f.offTrack ? 'x' : undefined,
    f.anomaly ? 'x' : undefined,
  ].filter((x) => x !== undefined)
  if (given.length !== 1)
    throw InputError.single({
      field: 'condition',
      value: String(given.length),
      reason: 'give exactly one of --above, --below, --change, --off-track, --anomaly',
    })
  if (f.anomaly) {
    const parsed = alertConditionSchema.safeParse({
      kind: 'anomaly',
      direction: f.direction,
      ...(f.z === undefined ? {} : { z: num('z', f.z) }),
      ...(f.years === undefined ? {} : { years: num('years', f.years) }),
      ...(f.events === undefined
        ? {}
        : {
            events: f.events
              .split(',')
              .map((e) => e.trim())
              .filter((e) => e !== ''),
          }),
    })
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw InputError.single({
        field: String(issue?.path[0] ?? 'condition'),
        reason: issue?.message ?? 'invalid',
      })
    }
    return parsed.data
  }
  if (f.above !== undefined) return { kind: 'threshold', op: '>', value: num('above', f.above) }
  if (f.below !== undefined) return { kind: 'threshold', op: '<', value: num('below', f.below) }
  if (f.change !== undefined)
    return {
      kind: 'change',
      against: f.against,
      direction: f.direction,
      percent: num('change', f.change),
    }
  return { kind: 'off_track' }
}

export function registerAlertCommands(program: Command): void {
  const alerts = program
    .command('alerts')
    .description(
      'alert rules on metrics and metric-tree nodes, delivered to a webhook and the dashboard',
    )
    .addHelpText(
      'after',
      `
Examples:
  memberlens alerts add --name "Revenue under 1M" --metric net_revenue --below 1000000
  memberlens alerts add --name "Repeat rate down 10% yoy" --metric purchase_frequency --change 10 --against last_year --direction down
  memberlens alerts add --name "Retention off track" --metric period_retention --off-track
  memberlens alerts add --name "Daily revenue anomaly" --metric net_revenue --anomaly --grain day
  memberlens alerts backtest --rule 1a2b3c4d --tree
  memberlens alerts import alert-rules.yaml
  memberlens alerts evaluate --webhook http://127.0.0.1:9000/hook`,
    )

  common(
    alerts
      .command('add')
      .description('add a rule')
      .requiredOption('--name <text>', 'what the alert is about')
      .requiredOption('--metric <id>', 'metric id, or a metric-tree node (keyed by its metric)')
      .option('--above <value>', 'fire when the value is above this')
      .option('--below <value>', 'fire when the value is below this')
      .option('--change <percent>', 'fire on a change of at least this many percent')
      .addOption(
        new Option('--against <period>', 'compare with')
          .choices(CHANGE_AGAINST)
          .default('previous'),
      )
      .addOption(
        new Option('--direction <d>', 'which change').choices(CHANGE_DIRECTIONS).default('either'),
      )
      .option('--off-track', 'fire when the tree node turns off track')
      .option(
        '--anomaly',
        'fire when the value leaves its seasonal and retail-calendar baseline (robust z-score)',
      )
      .option('--z <n>', 'anomaly: |z| at which to fire (default 4.5)')
      .option('--years <n>', 'anomaly: earlier years in the baseline, 1–5 (default 3)')
      .option(
        '--events <ids>',
        'anomaly: calendar events to align on, comma-separated, in priority order (default: spring_festival,double_11,mid_year_618,dragon_boat,mid_autumn; "" for none)',
      )
      .addOption(new Option('--grain <grain>', 'period').choices(GRAINS).default('month'))
      .option('--where <filter...>', 'filters as in metric queries (region=浙江)')
      .option('--webhook <url>', 'POST this rule’s alerts here'),
  ).action(
    async (
      f: FileFlags & {
        name: string
        metric: string
        above?: string
        below?: string
        change?: string
        against: (typeof CHANGE_AGAINST)[number]
        direction: (typeof CHANGE_DIRECTIONS)[number]
        offTrack?: boolean
        anomaly?: boolean
        z?: string
        years?: string
        events?: string
        grain: Grain
        where?: string[]
        webhook?: string
      },
    ) => {
      const rule = await storeOf(f).addRule({
        name: f.name,
        metric: f.metric,
        condition: conditionOf(f),
        grain: f.grain,
        where: f.where ?? [],
        ...(f.webhook === undefined ? {} : { webhook: f.webhook }),
      })
      if (f.json) printJson(rule)
      else
        process.stdout.write(
          `rule ${rule.id}: ${rule.name} (${rule.metric} ${describe(rule.condition)})\n`,
        )
    },
  )

  common(alerts.command('list').description('list the rules')).action((f: FileFlags) => {
    const rules = storeOf(f).rules()
    if (f.json) printJson({ rules })
    else
      process.stdout.write(
        `${table(
          [
            'id',
            ...(['name', 'metric', 'condition', 'grain'] as const).map((h) =>
              translator(f.lang)(h),
            ),
            translator(f.lang)('webhook'),
          ],
          rules.map((r) => [
            r.id,
            r.name,
            r.metric,
            describe(r.condition),
            r.grain,
            r.webhook ?? '',
          ]),
        )}\n`,
      )
  })

  common(alerts.command('remove').description('remove a rule').argument('<id>', 'rule id')).action(
    async (id: string, f: FileFlags) => {
      const r = await storeOf(f).removeRule(id)
      if (f.json) printJson(r)
      else process.stdout.write(`removed ${r.id} (${r.name})\n`)
    },
  )

  common(
    alerts
      .command('evaluate')
      .description(
        'evaluate every rule now; store and deliver what fires (once per rule and period)',
      )
      .option('--webhook <url>', 'POST alerts here (rules with their own webhook use theirs)')
      .addOption(timeZoneOption()),
  ).action(async (f: FileFlags & { webhook?: string; tz: string }) => {
    const db = await openDatabase(f.db, { readOnly: true })
    try {
      const service = new AlertService({
        driver: db.driver,
        store: storeOf(f),
        clock: systemClock,
        timezone: f.tz,
        ...(f.webhook === undefined ? {} : { webhookUrl: f.webhook }),
      })
      const fired = await service.evaluate('manual')
      const outcomes = service.lastOutcomes()
      if (f.json) {
        printJson({ fired, rules: outcomes })
        return
      }
      for (const o of outcomes.filter((x) => x.error !== null))
        process.stderr.write(pc.yellow(`rule ${o.ruleId}: ${o.error}\n`))
      process.stdout.write(
        fired.length === 0
          ? `${translator(f.lang)('{n} rules evaluated; nothing new fired', { n: outcomes.length })}\n`
          : `${fired
              .map(
                (e) =>
                  `${pc.bold(e.ruleName)}: ${e.message}${e.delivery ? (e.delivery.delivered ? ' (delivered)' : pc.red(` (not delivered: ${e.delivery.error})`)) : ''}`,
              )
              .join('\n')}\n`,
      )
    } finally {
      await db.close()
    }
  })

  common(
    alerts
      .command('import')
      .description(
        'add the rules of a YAML file (rules: [...], as the API takes them); a rule of the same name is replaced',
      )
      .argument('<file>', 'alert rules file (YAML)'),
  ).action(async (file: string, f: FileFlags) => {
    const inputs = parseAlertRulesFile(await readFile(file, 'utf8'), file)
    const out = await storeOf(f).importRules(inputs)
    if (f.json) printJson({ rules: out })
    else
      process.stdout.write(
        `${out
          .map(
            (o) =>
              `${o.added ? translator(f.lang)('added') : translator(f.lang)('replaced')} ${o.rule.id}: ${o.rule.name} (${o.rule.metric} ${describe(o.rule.condition)})`,
          )
          .join('\n')}\n`,
      )
  })

  common(
    alerts
      .command('backtest')
      .description(
        'replay an anomaly rule over the history: how often it would have fired, per node and quarter',
      )
      .requiredOption('--rule <id>', 'anomaly rule id (see alerts list)')
      .option('--tree', 'replay it on every node of the metric tree, not only the rule’s metric')
      .option('--from <date>', 'first day replayed (default: the first day of the data)')
      .option('--to <date>', 'last day replayed (default: the last complete period)')
      .addOption(timeZoneOption()),
  ).action(
    async (
      f: FileFlags & { rule: string; tree?: boolean; from?: string; to?: string; tz: string },
    ) => {
      const store = storeOf(f)
      const rule = store.getRule(f.rule)
      if (rule.condition.kind !== 'anomaly')
        throw InputError.single({
          field: 'rule',
          value: f.rule,
          reason: `is a ${rule.condition.kind} rule; only anomaly rules can be backtested`,
        })
      const db = await openDatabase(f.db, { readOnly: true })
      try {
        const service = new AlertService({
          driver: db.driver,
          store,
          clock: systemClock,
          timezone: f.tz,
        })
        const result = await service.backtest(rule, {
          ...(f.from === undefined ? {} : { from: f.from }),
          ...(f.to === undefined ? {} : { to: f.to }),
          ...(f.tree ? { metrics: service.treeMetrics() } : {}),
        })
        if (f.json) {
          printJson(result)
          return
        }
        const t = translator(f.lang)
        process.stdout.write(
          `${t('{name}: {from} to {to}, by {grain}', { name: rule.name, from: result.from, to: result.to, grain: rule.grain })}\n${table(
            [t('metric'), t('alerts|quarter'), t('periods judged'), t('would fire'), t('when')],
            result.nodes.flatMap((n) =>
              n.quarters.map((q) => [
                n.metric,
                q.quarter,
                String(q.evaluated),
                String(q.fired),
                q.periods.join(' '),
              ]),
            ),
          )}\n`,
        )
      } finally {
        await db.close()
      }
    },
  )

  common(
    alerts
      .command('history')
      .description('alerts that fired, newest first')
      .addOption(new Option('--limit <n>', 'how many').default(20).argParser(Number))
      .addOption(timeZoneOption()),
  ).action((f: FileFlags & { limit: number; tz: string }) => {
    const events = storeOf(f).events({ limit: f.limit })
    if (f.json) printJson({ alerts: events })
    else
      process.stdout.write(
        `${table(
          [
            `${translator(f.lang)('fired')} (${f.tz})`,
            ...(['rule', 'period', 'message', 'delivered'] as const).map((h) =>
              translator(f.lang)(h),
            ),
          ],
          events.map((e) => [
            formatInZone(new Date(e.firedAt), f.tz).slice(0, 16),
            e.ruleName,
            e.label,
            e.message,
            e.delivery === null ? '' : e.delivery.delivered ? 'yes' : `no (${e.delivery.error})`,
          ]),
        )}\n`,
      )
  })
}
