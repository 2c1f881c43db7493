/**
 * `memberlens voice summary|topics|members-at-risk`: NPS, CSAT, reviews, service metrics, sentiment and
 * topics of zh/en feedback, and members at risk from what they said (docs/voice.md).
 * @module
 */
import { Option, type Command } from 'commander'
import pc from 'picocolors'
import { membersAtRisk, voiceSummary, voiceTopics } from '../../analytics/voice/voice.js'
import { labelFeedback } from '../../analytics/voice/label.js'
import type { TopicConfig } from '../../analytics/voice/text.js'
import { systemClock } from '../../core/clock.js'
import { ConfigError } from '../../core/errors.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { lastActivity } from '../../duckdb/experiments/planning-units.js'
import { VOICE_DIMENSIONS, VOICE_GRAINS } from '../../duckdb/voice/feedback-queries.js'
import { codeName, langOption, translator } from '../lang.js'
import { DIMENSION_NAMES, VOICE_ACTIONS_ZH } from '../messages.js'
import { MISSING, fmt, keyValues, pct, printJson, table, money } from '../output.js'
import { parseFlags } from '../validations/clv.js'
import {
  topicFileSchema,
  voiceRiskFlagsSchema,
  voiceSummaryFlagsSchema,
  voiceTopicsFlagsSchema,
} from '../validations/experiments.js'
import { dbOption, withDatabase } from '../database.js'
import { readConfigFile } from '../config-file.js'

/** Default range: the 12 months up to the last activity (to = the day after it). */
async function range(
  driver: DuckDbDriver,
  from?: string,
  to?: string,
): Promise<{ from: string; to: string }> {
  if (from !== undefined && to !== undefined) return { from, to }
  const end = (await lastActivity(driver)) ?? new Date(0).toISOString()
  const next = new Date(Date.parse(end.slice(0, 10)) + 86_400_000).toISOString().slice(0, 10)
  const t = to ?? next
  const f = from ?? `${String(Number(t.slice(0, 4)) - 1)}${t.slice(4)}`
  return { from: f, to: t }
}

async function loadTopics(path: string | undefined): Promise<TopicConfig | undefined> {
  if (path === undefined) return undefined
  const parsed = topicFileSchema.safeParse(await readConfigFile(path))
  if (!parsed.success)
    throw new ConfigError(
      `${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    )
  return parsed.data.topics
}

const ci = (c: readonly [number, number], f: (x: number) => string) => `${f(c[0])} … ${f(c[1])}`
const common = (cmd: Command) =>
  cmd
    .addOption(dbOption())
    .option('--from <date>', 'first day (default: 12 months before --to)')
    .option('--to <date>', 'day after the last (default: the day after the last activity)')
    .addOption(langOption())
    .addOption(new Option('--json', 'machine-readable JSON on stdout').default(false))

/** Registers `voice summary|topics|label|members-at-risk`. */
export function registerVoiceCommands(program: Command): void {
  const voice = program
    .command('voice')
    .description(
      'voice of the member: NPS, CSAT, reviews, complaints, sentiment and topics (zh + en)',
    )
  common(
    voice
      .command('summary')
      .description('NPS / CSAT / reviews per period with CIs, service metrics, complaint → churn'),
  )
    .addOption(new Option('--grain <g>', 'period').choices(VOICE_GRAINS).default('month'))
    .addOption(new Option('--by <dimension>', 'split satisfaction by').choices(VOICE_DIMENSIONS))
    .option('--churn-days <n>', 'churn horizon after a complaint', '90')
    .action(async (flags) => {
      const f = parseFlags(voiceSummaryFlagsSchema, flags)
      await withDatabase(f.db, 'read', async (d) => {
        const r = await voiceSummary(d.driver, {
          ...(await range(d.driver, f.from, f.to)),
          grain: f.grain,
          ...(f.by === undefined ? {} : { by: f.by }),
          churnDays: f.churnDays,
        })
        if (f.json) return printJson(r)
        const n1 = (x: number) => x.toFixed(1)
        const t = translator(f.lang)
        const out = [
          pc.bold(t('Voice of the member {from} … {to}', { from: r.range.from, to: r.range.to })),
          table(
            [
              t('period'),
              ...(r.by ? [DIMENSION_NAMES[r.by]?.[f.lang] ?? r.by] : []),
              t('NPS n'),
              'NPS',
              t('NPS CI'),
              t('CSAT n'),
              'CSAT',
              t('CSAT CI'),
              t('reviews'),
              t('rating'),
              t('rating CI'),
              t('neg. reviews'),
            ],
            [...r.satisfaction, ...r.total].map((s) => [
              s.period,
              ...(r.by ? [s.dimension] : []),
              fmt(s.nps.n),
              n1(s.nps.nps),
              ci(s.nps.ci, n1),
              fmt(s.csat.n),
              pct(s.csat.rate),
              ci(s.csat.ci, (x) => pct(x)),
              fmt(s.review.n),
              fmt(s.review.mean, 2),
              ci(s.review.ci, (x) => fmt(x, 2)),
              pct(s.negativeReviews.rate),
            ]),
          ),
          '',
          pc.bold(t('Service')),
          table(
            [
              t('period'),
              t('active'),
              t('tickets'),
              t('per 1,000 active'),
              t('complaints'),
              t('complaint rate'),
              t('return rate (amount)'),
              t('return rate (orders)'),
            ],
            r.service.map((s) => [
              s.period,
              fmt(s.activeMembers),
              fmt(s.tickets),
              fmt(s.ticketsPer1000Active, 1),
              fmt(s.complaints),
              pct(s.complaintRate.rate, 2),
              pct(s.returnRateAmount, 2),
              pct(s.returnRateOrders.rate, 2),
            ]),
          ),
          '',
          pc.bold(t('Return reasons')),
          table(
            [t('reason'), t('returns'), t('amount')],
            r.returnReasons.map((x) => [x.reason, fmt(x.returns), money(x.amount, f.lang)]),
          ),
        ]
        const c = r.complaintChurn
        if (c) {
          out.push(
            '',
            pc.bold(
              t('Churn within {days} days after a complaint (matched, observational)', {
                days: c.churnDays,
              }),
            ),
            keyValues([
              [
                t('after a complaint'),
                t('{rate} of {n} members', {
                  rate: pct(c.treatedMean),
                  n: fmt(c.treatedMatched),
                }),
              ],
              [
                t('matched members without'),
                `${pct(c.comparisonMean)} (${t('{n} members', { n: fmt(c.comparisonMatched) })})`,
              ],
              [
                t('difference'),
                t('{d} pp, 95% CI {ci} pp', {
                  d: (100 * c.difference).toFixed(1),
                  ci: ci(c.ci, (x) => (100 * x).toFixed(1)),
                }),
              ],
            ]),
            pc.yellow(
              f.lang === 'zh'
                ? t(
                    'Observational: complainers are compared with members without a complaint in the same strata of pre-period purchases, recency, tenure and activity; the gap is an association, not the effect of complaining.',
                  )
                : c.caveat,
            ),
          )
        }
        process.stdout.write(`${out.join('\n')}\n`)
      })
    })
  common(voice.command('topics').description('sentiment and topics of feedback texts (zh + en)'))
    .option('--kinds <list>', 'feedback kinds, comma-separated (default: all)')
    .option(
      '--topics <file>',
      'topic keyword file (YAML/JSON: topics: {name: {zh: [...], en: [...]}})',
    )
    .action(async (flags) => {
      const f = parseFlags(voiceTopicsFlagsSchema, flags)
      await withDatabase(f.db, 'read', async (d) => {
        const topics = await loadTopics(f.topics)
        const r = await voiceTopics(d.driver, {
          ...(await range(d.driver, f.from, f.to)),
          ...(f.kinds ? { kinds: f.kinds } : {}),
          ...(topics ? { topics } : {}),
        })
        if (f.json) return printJson(r)
        const t = translator(f.lang)
        process.stdout.write(
          `${[
            pc.bold(t('Feedback texts: {n}', { n: fmt(r.texts) })) +
              `  ${t('positive {p}, neutral {u}, negative {n}', {
                p: fmt(r.sentiment.positive),
                u: fmt(r.sentiment.neutral),
                n: fmt(r.sentiment.negative),
              })}`,
            table(
              [t('kind'), t('texts'), t('negative'), t('CI')],
              r.byKind.map((k) => [
                codeName(k.kind, f.lang),
                fmt(k.texts),
                pct(k.negative.rate),
                ci(k.negative.ci, (x) => pct(x)),
              ]),
            ),
            '',
            table(
              [
                t('topic'),
                t('mentions'),
                t('share'),
                t('negative'),
                t('in Chinese'),
                t('in English'),
                t('examples (negative)'),
              ],
              r.topics.map((x) => [
                codeName(x.topic, f.lang),
                fmt(x.mentions),
                pct(x.share),
                pct(x.negative.rate),
                fmt(x.byLanguage.zh),
                fmt(x.byLanguage.en),
                x.examples.join(' / '),
              ]),
            ),
          ].join('\n')}\n`,
        )
      })
    })
  voice
    .command('label')
    .description(
      'store the sentiment and topics of feedback texts for the catalog (negative_text_share); only new or changed texts',
    )
    .addOption(dbOption())
    .option('--all', 'label every text again (after changing the lexicon or the topics)', false)
    .option(
      '--topics <file>',
      'topic keyword file (YAML/JSON: topics: {name: {zh: [...], en: [...]}})',
    )
    .addOption(new Option('--json', 'machine-readable JSON on stdout').default(false))
    .action(async (flags: { db: string; all: boolean; topics?: string; json: boolean }) => {
      await withDatabase(flags.db, 'write', async (d) => {
        const topics = await loadTopics(flags.topics)
        const r = await labelFeedback(d.driver, {
          all: flags.all,
          clock: systemClock,
          ...(topics ? { topics } : {}),
        })
        if (flags.json) return printJson(r)
        process.stdout.write(
          `${pc.bold(`Labelled ${fmt(r.labelled)} feedback texts`)}; in the table: ${Object.entries(
            r.bySentiment,
          )
            .map(([k, v]) => `${k} ${fmt(v)}`)
            .join(', ')}\n`,
        )
      })
    })
  common(
    voice
      .command('members-at-risk')
      .description('members whose feedback signals churn risk, with the topics they raised'),
  )
    .option('--limit <n>', 'members', '20')
    .option('--topics <file>', 'topic keyword file')
    .action(async (flags) => {
      const f = parseFlags(voiceRiskFlagsSchema, flags)
      await withDatabase(f.db, 'read', async (d) => {
        const topics = await loadTopics(f.topics)
        const r = await membersAtRisk(d.driver, {
          ...(await range(d.driver, f.from, f.to)),
          limit: f.limit,
          ...(topics ? { topics } : {}),
        })
        if (f.json) return printJson({ members: r })
        const t = translator(f.lang)
        process.stdout.write(
          `${table(
            [
              t('member'),
              t('score'),
              t('complaints'),
              t('tickets'),
              t('neg. reviews'),
              t('neg. texts'),
              t('last NPS'),
              t('topics'),
              t('last purchase'),
              t('action'),
            ],
            r.map((m) => [
              String(m.memberId),
              fmt(m.riskScore, 1),
              fmt(m.complaints),
              fmt(m.tickets),
              fmt(m.negativeReviews),
              fmt(m.negativeTexts),
              m.lastNps === null ? MISSING : String(m.lastNps),
              m.topics.map((x) => codeName(x, f.lang)).join(f.lang === 'zh' ? '、' : ','),
              m.lastPurchaseAt?.slice(0, 10) ?? MISSING,
              f.lang === 'zh' ? (VOICE_ACTIONS_ZH[m.action] ?? m.action) : m.action,
            ]),
          )}\n`,
        )
      })
    })
}
