/**
 * A self-contained HTML report of the metric tree and its charts for one period: inline CSS and charts rendered
 * on the server as SVG (ECharts' server-side renderer), so the file reads offline and prints well.
 * @module
 */
import * as echarts from 'echarts'
import type { Driver } from '../../engine/drivers/driver.js'
import { getOverview } from '../../engine/metrics/overview.js'
import {
  DEFAULT_TREE,
  evaluateTree,
  type TreeConfigInput,
  type TreeNode,
} from '../../engine/metrics/tree.js'

export type ReportLang = 'en' | 'zh'

const LABELS: Record<ReportLang, Record<string, string>> = {
  en: {
    title: 'Member metrics report',
    generated: 'Generated',
    metric: 'Metric',
    value: 'Value',
    target: 'Target',
    status: 'Status',
    pop: 'vs previous',
    yoy: 'vs last year',
    trends: 'Core metrics over the last 12 periods',
    on_track: 'on track',
    at_risk: 'at risk',
    off_track: 'off track',
    no_target: 'no target',
    no_data: 'no data',
    members: 'Members',
    buyers: 'Buyers',
    orders: 'Orders',
    revenue: 'Net revenue',
    active: 'Active members',
  },
  zh: {
    title: '会员指标报告',
    generated: '生成时间',
    metric: '指标',
    value: '数值',
    target: '目标',
    status: '状态',
    pop: '环比',
    yoy: '同比',
    trends: '核心指标近 12 期走势',
    on_track: '达标',
    at_risk: '有风险',
    off_track: '未达标',
    no_target: '未设目标',
    no_data: '无数据',
    members: '会员数',
    buyers: '购买会员',
    orders: '订单数',
    revenue: '消费金额',
    active: '活跃会员',
  },
}

const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string,
  )

function fmt(v: number | null, unit: string): string {
  if (v === null || !Number.isFinite(v)) return '–'
  if (unit === 'ratio') return `${(v * 100).toFixed(1)}%`
  if (unit === 'change') return `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`
  if (unit === 'currency' || unit === 'per_member')
    return v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2)
}

/** One line chart as an SVG string. */
export function lineChartSvg(
  title: string,
  labels: readonly string[],
  values: readonly (number | null)[],
  width = 560,
  height = 220,
): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height })
  chart.setOption({
    animation: false,
    title: { text: title, textStyle: { fontSize: 13 } },
    grid: { left: 60, right: 16, top: 36, bottom: 28 },
    xAxis: { type: 'category', data: labels },
    yAxis: { type: 'value', scale: true },
    series: [{ type: 'line', data: values, symbolSize: 4 }],
  })
  const svg = chart.renderToSVGString()
  chart.dispose()
  return svg
}

export interface ReportOptions {
  readonly period?: string
  readonly lang?: ReportLang
  readonly tree?: TreeConfigInput
  /** Time written in the report (from the caller's clock), labelled with its zone. */
  readonly generatedAt: string
  /** The project time zone in which months are counted (default UTC). */
  readonly timezone?: string
}

/** The report as one HTML document. */
export async function buildHtmlReport(driver: Driver, options: ReportOptions): Promise<string> {
  const lang = options.lang ?? 'en'
  const L = LABELS[lang]
  const timezone = options.timezone ?? 'UTC'
  const tree = await evaluateTree(driver, options.tree ?? DEFAULT_TREE, {
    ...(options.period === undefined ? {} : { period: options.period }),
    timezone,
  })
  const overview = await getOverview(driver, tree.label.length === 7 ? tree.label : undefined, {
    timezone,
  })
  const labels = Array.from({ length: 12 }, (_, i) => {
    const d = new Date(`${tree.period}T00:00:00Z`)
    d.setUTCMonth(d.getUTCMonth() - (11 - i))
    return d.toISOString().slice(0, 7)
  })
  const rows: string[] = []
  const walk = (n: TreeNode, depth: number) => {
    const unit = n.role === 'trend' ? 'change' : n.unit
    rows.push(`<tr class="${n.role}"><td style="padding-left:${0.5 + depth * 1.2}em">${esc(n.name[lang])}</td>
      <td class="num">${esc(fmt(n.value, unit))}</td><td class="num">${esc(n.role === 'trend' ? '≥ 0' : fmt(n.target, unit))}</td>
      <td><span class="s ${n.status}">${esc(L[n.status])}</span></td>
      <td class="num">${n.role === 'trend' ? '' : esc(fmt(n.change.pop, 'change'))}</td><td class="num">${n.role === 'trend' ? '' : esc(fmt(n.change.yoy, 'change'))}</td></tr>`)
    for (const c of n.children) walk(c, depth + 1)
  }
  for (const n of tree.nodes) walk(n, 0)
  const charts = tree.nodes.map(
    (n) =>
      `<figure>${lineChartSvg(n.name[lang], labels.slice(-n.series.length), n.series)}</figure>`,
  )
  const kpis = overview
    ? [
        [L['members'], overview.membersAtMonthEnd],
        [L['active'], overview.activeMembers],
        [L['buyers'], overview.buyers],
        [L['orders'], overview.orders],
        [L['revenue'], fmt(overview.netRevenue, 'currency')],
      ]
        .map(
          ([k, v]) =>
            `<div class="kpi"><div>${esc(k)}</div><strong>${esc(typeof v === 'number' ? v.toLocaleString('en-US') : v)}</strong></div>`,
        )
        .join('')
    : ''
  return `<!doctype html>
<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><title>${esc(L['title'])} — ${esc(tree.label)}</title>
<style>body{font:14px/1.45 system-ui,'PingFang SC','Microsoft YaHei',sans-serif;color:#1f2933;max-width:1100px;margin:2em auto;padding:0 1em}
h1{font-size:1.4em;margin-bottom:.2em}.meta{color:#52606d}.kpis{display:flex;gap:1em;flex-wrap:wrap;margin:1em 0}
.kpi{background:#f0f4f8;border-radius:6px;padding:.5em .9em}.kpi strong{font-size:1.3em}
table{border-collapse:collapse;width:100%;margin:1em 0}td,th{border-bottom:1px solid #e4e7eb;padding:.3em .5em;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.core td:first-child{font-weight:600}tr.trend{color:#52606d}
.s{border-radius:9px;padding:0 .5em;color:#fff;font-size:.85em;background:#9fb3c8}.s.on_track{background:#2f9e44}.s.at_risk{background:#f59f00}.s.off_track{background:#e03131}
figure{display:inline-block;margin:.5em}@media print{figure{break-inside:avoid}}</style></head>
<body><h1>${esc(tree.goal.name[lang])} — ${esc(tree.label)}</h1>
<p class="meta">${esc(L['title'])} · ${esc(L['generated'])} ${esc(options.generatedAt)}</p>
<div class="kpis">${kpis}</div>
<table><thead><tr><th>${esc(L['metric'])}</th><th>${esc(L['value'])}</th><th>${esc(L['target'])}</th><th>${esc(L['status'])}</th><th>${esc(L['pop'])}</th><th>${esc(L['yoy'])}</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
<h2>${esc(L['trends'])}</h2>${charts.join('\n')}
</body></html>`
}
