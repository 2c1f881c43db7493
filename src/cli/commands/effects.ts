/**
 * `memberlens effects <campaign>`: the incremental effect of a campaign against its holdout, or a matched
 * comparison (observational) when it has none (docs/experiments.md).
 * @module
 */
import { Option, type Command } from 'commander'
import pc from 'picocolors'
import {
  listCampaigns,
  programEffect,
  type ProgramEffectReport,
} from '../../analytics/experiments/effects.js'
import type { ExperimentMetricId } from '../../analytics/experiments/experiments.js'
import { fmt, keyValues, pct, printJson, table, money } from '../output.js'
import { parseFlags } from '../validations/clv.js'
import { effectsFlagsSchema } from '../validations/experiments.js'
import { codeName, langOption, translator, type Lang } from '../lang.js'
import { renderMetric } from '../render/experiment.js'
import { dbOption, withDatabase } from '../database.js'

/** The outcomes and covariates of a matched comparison in Chinese (English: the codes). */
const EFFECT_NAMES_ZH: Readonly<Record<string, string>> = {
  conversion: '购买转化',
  orders: '订单数',
  net_revenue: '消费金额',
  repeat_purchase: '复购',
  orders_pre: '前期订单数',
  revenue_pre: '前期消费金额',
  recency_days: '距上次购买天数',
  tenure_days: '会龄（天）',
  active_pre: '前期活跃',
}

/** The effect analysis's caveats in Chinese, keyed by its English text (unknown ones print as they are). */
const EFFECT_CAVEATS_ZH: Readonly<Record<string, string>> = {
  'Observational estimate: no randomised holdout. Touched members are compared with untouched members in the same strata of pre-period purchases, recency, tenure and activity; differences the strata do not capture (why members were chosen) can bias it. Treat it as a hypothesis to test with a holdout.':
    '观察性估计：没有随机对照组。被触达的会员与前期购买、最近购买、会龄和活跃度处于同一分层但未被触达的会员比较；分层未涵盖的差异（会员为何被选中）可能造成偏差。请把它当作有待对照组检验的假设。',
}

export function renderEffect(r: ProgramEffectReport, lang: Lang = 'en'): string {
  const t = translator(lang)
  const w = r.winback
  const lines = [
    pc.bold(t('Program effect — campaign {id} ({kind})', { id: r.campaignId, kind: r.kind })),
    keyValues([
      [
        t('design'),
        r.design === 'randomised-holdout'
          ? t('randomised holdout')
          : pc.yellow(t('matched comparison (OBSERVATIONAL)')),
      ],
      [t('campaign start'), r.campaignStart],
      [t('treated / comparison'), `${fmt(r.treated)} / ${fmt(r.comparison)}`],
      [
        t('outcome window'),
        t('{days} days (pre-period {pre} days)', {
          days: r.windows.windowDays,
          pre: r.windows.preDays,
        }),
      ],
      [t('send cost'), money(r.cost, lang)],
      [
        t('coupons redeemed (face value)'),
        `${fmt(r.fullCost.coupons.redeemed)} / ${fmt(r.fullCost.coupons.issued)} · ${money(r.fullCost.coupons.faceValue, lang)}`,
      ],
      [
        t('bonus points (liability value)'),
        r.fullCost.points === null
          ? t('unknown (no loyalty sync)')
          : `${fmt(r.fullCost.points.points)} · ${money(r.fullCost.points.amount, lang)}`,
      ],
      [t('full cost'), money(r.fullCost.total, lang)],
    ]),
  ]
  if (w) {
    lines.push(
      '',
      pc.bold(
        r.kind === 'winback'
          ? t('Win-back rate (挽回率): purchase within the window')
          : t('Purchase rate: purchase within the window'),
      ),
      keyValues([
        [t('with the campaign'), pct(w.withCampaign, 2)],
        [t('without (comparison)'), pct(w.without, 2)],
        [
          t('uplift'),
          `${w.upliftPp >= 0 ? '+' : ''}${w.upliftPp.toFixed(2)} pp, 95% CI ${w.ciPp[0].toFixed(2)} … ${w.ciPp[1].toFixed(2)} pp`,
        ],
        [t('incremental buyers'), fmt(w.incrementalBuyers, 1)],
        [t('full cost per incremental buyer'), money(w.costPerIncrementalBuyer, lang)],
      ]),
    )
  }
  const e = r.economics
  if (e) {
    lines.push(
      '',
      keyValues([
        [t('incremental orders'), fmt(e.incrementalOrders, 1)],
        [t('incremental net revenue'), money(e.incrementalRevenue, lang)],
        [t('ROI on full cost (revenue before coupons)'), e.roi === null ? '—' : pct(e.roi, 1)],
      ]),
    )
  }
  for (const m of r.randomised) lines.push('', renderMetric(m, t('Outcome'), lang))
  if (r.matched.length > 0) {
    lines.push(
      '',
      table(
        [t('metric'), t('treated'), t('matched comparison'), t('difference'), t('CI'), 'p'],
        r.matched.map((m) => [
          lang === 'zh' ? (EFFECT_NAMES_ZH[m.metric] ?? m.metric) : m.metric,
          fmt(m.effect.treatedMean, 4),
          fmt(m.effect.comparisonMean, 4),
          fmt(m.effect.difference, 4),
          `${fmt(m.effect.ci[0], 4)} … ${fmt(m.effect.ci[1], 4)}`,
          m.effect.pValue.toFixed(4),
        ]),
      ),
      '',
      table(
        [t('covariate'), t('SMD before'), t('SMD after')],
        r.balance.map((b) => [
          lang === 'zh' ? (EFFECT_NAMES_ZH[b.covariate] ?? b.covariate) : b.covariate,
          b.before.toFixed(3),
          b.after.toFixed(3),
        ]),
      ),
    )
  }
  if (r.caveat)
    lines.push('', pc.yellow(lang === 'zh' ? (EFFECT_CAVEATS_ZH[r.caveat] ?? r.caveat) : r.caveat))
  return lines.join('\n')
}

/** Registers `effects <campaign>`. */
export function registerEffectsCommands(program: Command): void {
  program
    .command('effects')
    .description(
      'incremental effect of a campaign (增值服务效果): holdout, or a matched comparison; full cost (sends, redeemed coupons at face value, bonus points at liability value), incremental orders and ROI',
    )
    .argument('[campaign]', 'campaign id (see --list)')
    .addOption(dbOption())
    .option('--list', 'list campaigns with their arms', false)
    .option(
      '--metrics <ids>',
      'comma-separated outcome metrics (default conversion,orders,net_revenue,repeat_purchase)',
    )
    .option('--window <days>', 'outcome window after the campaign start', '30')
    .option('--pre <days>', 'pre-period for CUPED and matching', '90')
    .addOption(
      new Option('--design <d>', 'holdout, matched or auto')
        .choices(['auto', 'holdout', 'matched'])
        .default('auto'),
    )
    .option('--level <p>', 'confidence level', '0.95')
    .addOption(langOption())
    .addOption(new Option('--json', 'machine-readable JSON on stdout').default(false))
    .action(async (campaign: string | undefined, flags) => {
      const f = parseFlags(effectsFlagsSchema, flags)
      await withDatabase(f.db, 'read', async (d) => {
        if (f.list || campaign === undefined) {
          const list = await listCampaigns(d.driver)
          if (f.json) return printJson({ campaigns: list })
          const t = translator(f.lang)
          process.stdout.write(
            `${table(
              [
                t('campaign'),
                t('kind'),
                t('treatment'),
                t('effects|holdout'),
                t('first sent'),
                t('cost'),
              ],
              list.map((c) => [
                c.campaignId,
                codeName(c.kind, f.lang),
                fmt(c.treatment),
                fmt(c.holdout),
                c.firstSent,
                money(c.cost, f.lang),
              ]),
            )}\n`,
          )
          return
        }
        const r = await programEffect(d.driver, campaign, {
          ...(f.metrics ? { metrics: f.metrics as ExperimentMetricId[] } : {}),
          windowDays: f.window,
          preDays: f.pre,
          design: f.design,
          level: f.level,
        })
        if (f.json) return printJson(r)
        process.stdout.write(`${renderEffect(r, f.lang)}\n`)
      })
    })
}
