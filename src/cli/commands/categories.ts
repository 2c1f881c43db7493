/**
 * `memberlens categories shares|paths|next|mix`: what members buy by product category (品类分析): share of revenue,
 * penetration and repurchase; first → second → third order category paths and channel migration (Sankey
 * nodes and links); next-category propensity for cross-sell; the category mix by tier, lifecycle stage or saved
 * segment.
 * @module
 */
import { Command, Option } from 'commander'
import pc from 'picocolors'
import {
  CATEGORY_MIX_BY,
  DEFAULT_TOP_CATEGORIES,
  getCategoryMix,
  getCategoryPaths,
  getCategoryShares,
  getNextCategories,
  type CategoryMixBy,
  type PathNode,
  type Sankey,
} from '../../engine/categories/category-analysis.js'
import {
  INTERVAL_GROUPS,
  getPurchaseIntervals,
  segmentMemberIds,
  type IntervalGroup,
} from '../../engine/categories/purchase-intervals.js'
import { STAGE_NAMES } from '../../engine/lifecycle/lifecycle-config.js'
import { InputError } from '../../core/errors.js'
import { addTimeZoneOption } from '../time-zone-option.js'
import { langOption, translator, type Lang } from '../lang.js'
import { count, decimal, figure, money, pct, printJson, table, toCsv } from '../output.js'
import { outputOptions, resolveZonedAsOf, zonedAsOfOption } from '../validations/retention.js'
import { addEngineOptions, withEngine, type EngineFlags } from '../engine-options.js'
import { dbOption } from '../database.js'

interface Common extends EngineFlags {
  db: string
  tz: string
  asOf?: string
  top: string
  lang: Lang
  json: boolean
  csv: boolean
}

function common(cmd: Command): Command {
  addEngineOptions(cmd).addOption(dbOption()).addOption(zonedAsOfOption())
  addTimeZoneOption(cmd)
  cmd.addOption(langOption('headers and node names'))
  for (const o of outputOptions()) cmd.addOption(o)
  return cmd
}

const topOption = () =>
  new Option(
    '--top <n>',
    'categories (channels) kept as their own nodes or rows, by revenue (orders); the rest are "other"',
  ).default(String(DEFAULT_TOP_CATEGORIES))

function wholeNumber(flag: string, value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw InputError.single({ field: flag, value, reason: 'expected a whole number' })
  return n
}

/** A Sankey node in words. */
function nodeName(n: Pick<PathNode, 'kind' | 'value' | 'step'>, lang: Lang): string {
  const t = translator(lang)
  if (n.kind === 'value') return n.value ?? ''
  if (n.kind === 'other') return t('categories|other categories')
  return n.step === 1 ? t('no purchase') : t('no further purchase')
}

function printSankey(title: string, s: Sankey, lang: Lang): void {
  const t = translator(lang)
  const byId = new Map(s.nodes.map((n) => [n.id, n]))
  process.stdout.write(`${pc.bold(title)} (${t('{n} members', { n: count(s.members, lang) })})\n`)
  const steps = [...new Set(s.nodes.map((n) => n.step))]
  const rows: { kind: PathNode['kind']; value: string | null; label: string }[] = [
    ...s.kept.map((v) => ({ kind: 'value' as const, value: v, label: v })),
    { kind: 'other', value: null, label: t('categories|other categories') },
    { kind: 'none', value: null, label: t('no (further) purchase') },
  ]
  process.stdout.write(
    `${table(
      ['', ...steps.map((k) => t('purchase no. {k}', { k }))],
      rows.map((r) => [
        r.label,
        ...steps.map((k) =>
          count(
            s.nodes.find((n) => n.step === k && n.kind === r.kind && n.value === r.value)
              ?.members ?? 0,
            lang,
          ),
        ),
      ]),
    )}\n`,
  )
  process.stdout.write(`${t('Largest flows')}\n`)
  process.stdout.write(
    `${table(
      [t('from'), t('to'), t('members'), t('share')],
      s.links.slice(0, 12).map((l) => {
        const a = byId.get(l.source)
        const b = byId.get(l.target)
        return [
          a === undefined ? l.source : `${a.step}. ${nodeName(a, lang)}`,
          b === undefined ? l.target : `${b.step}. ${nodeName(b, lang)}`,
          count(l.members, lang),
          pct(s.members > 0 ? l.members / s.members : null),
        ]
      }),
    )}\n\n`,
  )
}

/** Registers `memberlens categories …` and `memberlens intervals`. */
export function registerCategoryCommands(program: Command): void {
  registerIntervalCommands(program)
  const categories = program
    .command('categories')
    .description(
      'product categories (品类): share, penetration, repurchase, purchase paths, cross-sell, mix by tier, stage or segment',
    )
    .addHelpText(
      'after',
      `
Purchases are orders not cancelled, before --as-of. An order's category is the category with the largest
revenue (quantity × unit price) among its lines; lines without a category count as "unknown". Rules:
docs/categories.md.

Examples:
  memberlens categories shares
  memberlens categories paths --top 6 --json        # Sankey nodes and links; every column totals the members
  memberlens categories next --from dairy --min-base 50
  memberlens categories mix --by lifecycle_stage --lang zh
  memberlens categories mix --segment vip`,
    )

  common(
    categories
      .command('shares', { isDefault: true })
      .description('share of revenue, penetration and repurchase rate per category'),
  ).action(async (flags: Common) => {
    await withEngine(flags, async (driver) => {
      const at = await resolveZonedAsOf(driver, flags.asOf, flags.tz)
      const s = await getCategoryShares(driver, { asOf: at.instant })
      if (flags.json) return printJson({ ...s, asOf: at.local, timeZone: at.zone })
      if (flags.csv)
        return void process.stdout.write(
          toCsv(
            [
              'category',
              'revenue',
              'revenue_share',
              'orders',
              'buyers',
              'penetration',
              'repeat_buyers',
              'repurchase_rate',
            ],
            s.categories.map((c) => [
              c.category,
              c.revenue,
              c.revenueShare,
              c.orders,
              c.buyers,
              c.penetration,
              c.repeatBuyers,
              c.repurchaseRate,
            ]),
          ),
        )
      const t = translator(flags.lang)
      process.stdout.write(
        `${pc.bold(t('Categories as of {asOf}', { asOf: at.label }))} (${t('{n} buyers with order lines', { n: count(s.buyersWithItems, flags.lang) })})\n`,
      )
      process.stdout.write(
        `${table(
          [
            t('category'),
            t('revenue'),
            t('share'),
            t('orders'),
            t('buyers'),
            t('penetration'),
            t('repurchase rate'),
          ],
          s.categories.map((c) => [
            c.category,
            money(c.revenue, flags.lang),
            pct(c.revenueShare),
            count(c.orders, flags.lang),
            count(c.buyers, flags.lang),
            pct(c.penetration),
            pct(c.repurchaseRate),
          ]),
        )}\n`,
      )
      if (s.ordersWithoutItems > 0)
        process.stdout.write(
          `${t('{n} purchases have no order lines; their category is "unknown".', { n: count(s.ordersWithoutItems, flags.lang) })}\n`,
        )
    })
  })

  common(
    categories
      .command('paths')
      .description(
        'first → second → third order category, and first → second order channel (Sankey nodes and links)',
      ),
  )
    .addOption(topOption())
    .action(async (flags: Common) => {
      const top = wholeNumber('--top', flags.top)
      await withEngine(flags, async (driver) => {
        const at = await resolveZonedAsOf(driver, flags.asOf, flags.tz)
        const p = await getCategoryPaths(driver, { asOf: at.instant, top })
        if (flags.json) return printJson({ ...p, asOf: at.local, timeZone: at.zone })
        if (flags.csv)
          return void process.stdout.write(
            toCsv(
              ['sankey', 'source', 'target', 'members'],
              [
                ...p.categories.links.map((l) => ['categories', l.source, l.target, l.members]),
                ...p.channels.links.map((l) => ['channels', l.source, l.target, l.members]),
              ],
            ),
          )
        const t = translator(flags.lang)
        printSankey(t('Category paths as of {asOf}', { asOf: at.label }), p.categories, flags.lang)
        printSankey(t('Channel migration, first order → second'), p.channels, flags.lang)
      })
    })

  common(
    categories
      .command('next')
      .description(
        'cross-sell: P(next purchase holds B | bought A), after the first purchase holding A',
      ),
  )
    .option('--from <category>', 'only pairs starting from this category')
    .option('--min-base <n>', 'leave out categories A with fewer members in the base', '30')
    .action(async (flags: Common & { from?: string; minBase: string }) => {
      const minBase = wholeNumber('--min-base', flags.minBase)
      await withEngine(flags, async (driver) => {
        const at = await resolveZonedAsOf(driver, flags.asOf, flags.tz)
        const n = await getNextCategories(driver, {
          asOf: at.instant,
          minBase,
          ...(flags.from === undefined ? {} : { from: flags.from }),
        })
        if (flags.json) return printJson({ ...n, asOf: at.local, timeZone: at.zone })
        if (flags.csv)
          return void process.stdout.write(
            toCsv(
              ['from', 'to', 'base', 'hits', 'probability', 'baseline', 'lift'],
              n.pairs.map((r) => [r.from, r.to, r.base, r.hits, r.probability, r.baseline, r.lift]),
            ),
          )
        const t = translator(flags.lang)
        process.stdout.write(
          `${pc.bold(t('Next-category propensity as of {asOf}', { asOf: at.label }))}\n`,
        )
        if (n.pairs.length === 0)
          return void process.stdout.write(
            `${t('No category has {n} or more members who bought it and purchased again.', { n: minBase })}\n`,
          )
        process.stdout.write(
          `${table(
            [
              t('bought'),
              t('next purchase holds'),
              t('base'),
              t('members'),
              t('probability'),
              t('baseline'),
              t('lift'),
            ],
            n.pairs.map((r) => [
              r.from,
              r.to,
              count(r.base, flags.lang),
              count(r.hits, flags.lang),
              pct(r.probability),
              pct(r.baseline),
              decimal(r.lift, 2),
            ]),
          )}\n`,
        )
      })
    })

  common(
    categories
      .command('mix')
      .description('category revenue mix per tier, lifecycle stage or saved segment'),
  )
    .addOption(topOption())
    .addOption(
      new Option('--by <dimension>', 'group members by (segment: the saved segment of --segment)')
        .choices(CATEGORY_MIX_BY)
        .default('lifecycle_stage'),
    )
    .option(
      '--segment <name>',
      'a saved segment: its members against the other buyers (implies --by segment)',
    )
    .action(async (flags: Common & { by: CategoryMixBy; segment?: string }) => {
      const top = wholeNumber('--top', flags.top)
      const by: CategoryMixBy = flags.segment === undefined ? flags.by : 'segment'
      await withEngine(flags, async (driver) => {
        const at = await resolveZonedAsOf(driver, flags.asOf, flags.tz)
        const m = await getCategoryMix(driver, {
          asOf: at.instant,
          top,
          by,
          ...(flags.segment === undefined ? {} : { segment: flags.segment }),
        })
        if (flags.json) return printJson({ ...m, asOf: at.local, timeZone: at.zone })
        if (flags.csv)
          return void process.stdout.write(
            toCsv(
              ['group', 'category', 'revenue', 'share', 'buyers'],
              (m.rows ?? []).map((r) => [r.group, r.category, r.revenue, r.share, r.buyers]),
            ),
          )
        const t = translator(flags.lang)
        if (m.rows === null)
          return void process.stdout.write(
            `${t('No tiers yet: run `memberlens loyalty sync` (or `loyalty replay`) first.')}\n`,
          )
        const group = (g: string | null) =>
          g === null
            ? by === 'segment'
              ? t('(other buyers)')
              : t('(none)')
            : by === 'lifecycle_stage'
              ? ((STAGE_NAMES as Record<string, { en: string; zh: string }>)[g]?.[flags.lang] ?? g)
              : g
        process.stdout.write(
          `${pc.bold(t('Category mix as of {asOf}', { asOf: at.label }))}\n${table(
            [
              by === 'tier' ? t('tier') : by === 'segment' ? t('segment') : t('stage'),
              t('category'),
              t('revenue'),
              t('share'),
              t('buyers'),
            ],
            m.rows.map((r) => [
              group(r.group),
              r.category === 'other' ? t('categories|other categories') : r.category,
              money(r.revenue, flags.lang),
              pct(r.share),
              count(r.buyers, flags.lang),
            ]),
          )}\n`,
        )
      })
    })
}

/** Registers `memberlens intervals`. */
export function registerIntervalCommands(program: Command): void {
  common(
    program
      .command('intervals')
      .description(
        'inter-purchase intervals (回购周期): P10 … P90 of the days between purchase days, per group or category',
      ),
  )
    .addOption(new Option('--by <group>', 'split by').choices([...INTERVAL_GROUPS]).default('all'))
    .option('--segment <name>', 'only the members of this saved segment')
    .addHelpText(
      'after',
      `
Purchases on one calendar day (in --tz) are one purchase day; a gap is the whole days to the next one. With
--by category, the gaps are between the days a member bought that category (its repurchase cycle). Each
member's own median and P90 gap are in \`memberlens members show\` and Member 360. Rules: docs/categories.md.

Examples:
  memberlens intervals
  memberlens intervals --by category --json
  memberlens intervals --by lifecycle_stage --segment vip --lang zh`,
    )
    .action(async (flags: Common & { by: IntervalGroup; segment?: string }) => {
      await withEngine(flags, async (driver) => {
        const at = await resolveZonedAsOf(driver, flags.asOf, flags.tz)
        const members =
          flags.segment === undefined
            ? undefined
            : await segmentMemberIds(driver, flags.segment, at.instant)
        const r = await getPurchaseIntervals(driver, {
          asOf: at.instant,
          by: flags.by,
          timezone: flags.tz,
          ...(members === undefined ? {} : { members }),
        })
        if (flags.json)
          return printJson({
            ...r,
            asOf: at.local,
            timeZone: at.zone,
            segment: flags.segment ?? null,
          })
        if (flags.csv)
          return void process.stdout.write(
            toCsv(
              ['group', 'members', 'gaps', 'p10', 'p25', 'p50', 'p75', 'p90', 'mean'],
              (r.rows ?? []).map((x) => [
                x.group,
                x.members,
                x.gaps,
                x.p10,
                x.p25,
                x.p50,
                x.p75,
                x.p90,
                x.mean,
              ]),
            ),
          )
        const t = translator(flags.lang)
        if (r.rows === null)
          return void process.stdout.write(
            `${t('No tiers yet: run `memberlens loyalty sync` (or `loyalty replay`) first.')}\n`,
          )
        const days = (v: number | null) => figure(v, 'days', flags.lang)
        const group = (g: string | null) =>
          g === null
            ? t('(none)')
            : g === 'all'
              ? t('all members')
              : flags.by === 'lifecycle_stage'
                ? ((STAGE_NAMES as Record<string, { en: string; zh: string }>)[g]?.[flags.lang] ??
                  g)
                : g
        process.stdout.write(
          `${pc.bold(t('Days between purchases as of {asOf}', { asOf: at.label }))}${flags.segment === undefined ? '' : ` · ${flags.segment}`}\n`,
        )
        if (r.rows.length === 0)
          return void process.stdout.write(`${t('No member has two purchase days yet.')}\n`)
        process.stdout.write(
          `${table(
            ['', t('members'), t('gaps'), 'P10', 'P25', 'P50', 'P75', 'P90'],
            r.rows.map((x) => [
              group(x.group),
              count(x.members, flags.lang),
              count(x.gaps, flags.lang),
              days(x.p10),
              days(x.p25),
              days(x.p50),
              days(x.p75),
              days(x.p90),
            ]),
          )}\n`,
        )
      })
    })
}
