/**
 * The scheduled report's content: the overview's key figures, the metric tree with why each decomposable node
 * moved (the exact split of its change, `change-explanation.ts`) and the alerts that fired since the last
 * report — as Markdown for group robots, plain text and HTML for e-mail, in Chinese or English.
 * @module
 */
import {
  FORMULAS,
  explainChange,
  type ChangeExplanation,
} from '../analytics/reporting/change-explanation.js'
import type { Driver } from '../engine/drivers/driver.js'
import { getOverview } from '../engine/metrics/overview.js'
import {
  DEFAULT_TREE,
  evaluateTree,
  type TreeConfigInput,
  type TreeNode,
} from '../engine/metrics/tree.js'
import type { AlertEvent } from './alert-store.js'

export type DigestLang = 'en' | 'zh'

export interface Digest {
  readonly title: string
  readonly markdown: string
  readonly text: string
  readonly html: string
  readonly period: string
}

export interface DigestOptions {
  readonly lang: DigestLang
  readonly timezone?: string
  readonly tree?: TreeConfigInput
  /** Alerts to list (newest first). */
  readonly alerts: readonly AlertEvent[]
  /** What to include (default all). */
  readonly sections?: { overview?: boolean; tree?: boolean; alerts?: boolean }
  /** Money's ISO currency (default CNY). */
  readonly currency?: string
}

const WORDS = {
  en: {
    title: 'Member metrics',
    overview: 'Overview',
    tree: 'Metric tree',
    alerts: 'Alerts',
    none: 'No new alerts.',
    members: 'Members',
    active: 'Active members',
    buyers: 'Buyers',
    orders: 'Orders',
    revenue: 'Net revenue',
    aov: 'AOV',
    pop: 'vs previous',
    yoy: 'vs last year',
    why: 'why',
    pts: 'pts',
    on_track: 'on track',
    at_risk: 'at risk',
    off_track: 'off track',
    no_target: 'no target',
    no_data: 'no data',
  },
  zh: {
    title: '会员指标',
    overview: '概览',
    tree: '指标树',
    alerts: '告警',
    none: '没有新告警。',
    members: '会员数',
    active: '活跃会员',
    buyers: '购买会员',
    orders: '订单数',
    revenue: '消费金额',
    aov: '客单价',
    pop: '环比',
    yoy: '同比',
    why: '拆解',
    pts: '个百分点',
    on_track: '达标',
    at_risk: '有风险',
    off_track: '未达标',
    no_target: '未设目标',
    no_data: '无数据',
  },
} as const

/**
 * A figure as a manager reads it: money with its symbol and, from 100,000 up, shortened (¥143万 in Chinese,
 * ¥1.43M in English); counts whole; ratios and changes as percentages. null is "–".
 */
export function digestFigure(
  v: number | null,
  unit: string,
  lang: DigestLang,
  currency = 'CNY',
): string {
  if (v === null || !Number.isFinite(v)) return '–'
  const locale = lang === 'zh' ? 'zh-CN' : 'en-US'
  const big = Math.abs(v) >= 100_000
  if (unit === 'ratio')
    return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(v)
  if (unit === 'change')
    return new Intl.NumberFormat(locale, {
      style: 'percent',
      signDisplay: 'exceptZero',
      minimumFractionDigits: 1,
      maximumFractionDigits: 1,
    }).format(v)
  if (unit === 'currency')
    return new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      currencyDisplay: 'narrowSymbol',
      ...(big
        ? { notation: 'compact', maximumSignificantDigits: 3 }
        : { maximumFractionDigits: Math.abs(v) >= 100 ? 0 : 2 }),
    }).format(v)
  return new Intl.NumberFormat(locale, {
    ...(big ? { notation: 'compact', maximumSignificantDigits: 3 } : {}),
    maximumFractionDigits: unit === 'count' || Number.isInteger(v) ? 0 : 2,
  }).format(v)
}

const flatten = (nodes: readonly TreeNode[]): TreeNode[] =>
  nodes.flatMap((n) => [n, ...flatten(n.children)])

/** "buyers −5.1 pts, AOV +0.9 pts" for a split of a change. */
function whyLine(e: ChangeExplanation, lang: DigestLang): string | null {
  const split = e.pop ?? e.yoy
  if (split === null) return null
  const w = WORDS[lang]
  const vs = split.vs === 'pop' ? w.pop : w.yoy
  const parts = split.parts
    .filter((p) => p.points !== null)
    .map((p) => {
      const pts = (p.points as number) * 100
      return `${p.name[lang]} ${pts >= 0 ? '+' : '−'}${Math.abs(pts).toFixed(1)} ${w.pts}`
    })
  return `${vs} ${digestFigure(split.rate, 'change', lang)}: ${parts.join(lang === 'zh' ? '，' : ', ')}`
}

const escHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string,
  )

/** Builds the report for the last complete month of the data. */
export async function buildDigest(driver: Driver, options: DigestOptions): Promise<Digest> {
  const lang = options.lang
  const w = WORDS[lang]
  const cur = options.currency ?? 'CNY'
  const timezone = options.timezone ?? 'UTC'
  const show = { overview: true, tree: true, alerts: true, ...options.sections }
  const tree = await evaluateTree(driver, options.tree ?? DEFAULT_TREE, { timezone })
  const title = `${w.title} ${tree.label}`
  const md: string[] = [`## ${title}`]
  const txt: string[] = [title]
  const html: string[] = [`<h2>${escHtml(title)}</h2>`]
  const section = (name: string) => {
    md.push('', `**${name}**`)
    txt.push('', name)
    html.push(`<h3>${escHtml(name)}</h3>`)
  }
  const list = (lines: readonly string[]) => {
    md.push(...lines.map((l) => `- ${l}`))
    txt.push(...lines.map((l) => `- ${l}`))
    html.push(`<ul>${lines.map((l) => `<li>${escHtml(l)}</li>`).join('')}</ul>`)
  }
  if (show.overview) {
    const o = await getOverview(driver, tree.label.length === 7 ? tree.label : undefined, {
      timezone,
    })
    if (o) {
      section(w.overview)
      list([
        `${w.members} ${digestFigure(o.membersAtMonthEnd, 'count', lang)}`,
        `${w.active} ${digestFigure(o.activeMembers, 'count', lang)}`,
        `${w.buyers} ${digestFigure(o.buyers, 'count', lang)}`,
        `${w.orders} ${digestFigure(o.orders, 'count', lang)}`,
        `${w.revenue} ${digestFigure(o.netRevenue, 'currency', lang, cur)}`,
        `${w.aov} ${digestFigure(o.averageOrderValue, 'currency', lang, cur)}`,
      ])
    }
  }
  if (show.tree) {
    section(w.tree)
    const lines: string[] = []
    for (const n of flatten(tree.nodes).filter((x) => x.role !== 'trend')) {
      let line = `${n.name[lang]} ${digestFigure(n.value, n.unit, lang, cur)} · ${w[n.status]} · ${w.pop} ${digestFigure(n.change.pop, 'change', lang)} · ${w.yoy} ${digestFigure(n.change.yoy, 'change', lang)}`
      if (FORMULAS[n.metric] !== undefined) {
        try {
          const e = await explainChange(driver, n.metric, { period: tree.period, timezone })
          const why = whyLine(e, lang)
          if (why !== null) line += ` — ${w.why}${lang === 'zh' ? '：' : ': '}${why}`
        } catch {
          // A node whose change cannot be split (no data in the base period) is listed without the why.
        }
      }
      lines.push(line)
    }
    list(lines)
  }
  if (show.alerts) {
    section(w.alerts)
    if (options.alerts.length === 0) {
      md.push(w.none)
      txt.push(w.none)
      html.push(`<p>${escHtml(w.none)}</p>`)
    } else
      list(
        options.alerts.map((a) =>
          lang === 'en'
            ? `${a.ruleName} (${a.label}): ${a.message}`
            : `${a.ruleName}（${a.label}）：${a.metric} 为 ${digestFigure(a.value, 'number', lang)}${
                a.anomaly?.expected != null
                  ? `，预期约 ${digestFigure(a.anomaly.expected, 'number', lang)}（稳健 z 值 ${a.anomaly.z?.toFixed(1) ?? '–'}）`
                  : ''
              }`,
        ),
      )
  }
  return {
    title,
    markdown: md.join('\n'),
    text: txt.join('\n'),
    html: `<!doctype html><html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><title>${escHtml(title)}</title></head><body>${html.join('\n')}</body></html>`,
    period: tree.period,
  }
}
