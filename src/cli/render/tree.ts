/**
 * The metric tree as text: values in their units, status, target, 环比/同比 and a sparkline (`tree`, `demo`).
 * @module
 */
import pc from 'picocolors'
import { type Unit } from '../../engine/metrics/catalog.js'
import type { EventAlignment } from '../../engine/metrics/event-alignment.js'
import { type Status, type TreeNode, type TreeResult } from '../../engine/metrics/tree.js'
import { translator, type Lang } from '../lang.js'
import { STATUS_NAMES } from '../messages.js'
import { figure } from '../output.js'

const SPARK = '▁▂▃▄▅▆▇█'
const STATUS_TEXT: Record<Status, (s: string) => string> = {
  on_track: pc.green,
  at_risk: pc.yellow,
  off_track: pc.red,
  no_target: pc.dim,
  no_data: pc.dim,
}

const STATUS_MARK: Record<Status, string> = {
  on_track: '●',
  at_risk: '●',
  off_track: '●',
  no_target: '○',
  no_data: '○',
}

/** A target as the engine words it (`+5% vs last year`, `no decline`, a number) in the language. */
function targetText(text: string, lang: Lang): string {
  if (lang === 'en') return text
  if (text === 'no decline') return '不下降'
  const m = /^([+-]?\d+%) vs (previous period|last year by event|last year)$/.exec(text)
  if (m)
    return `${m[2] === 'previous period' ? '较上期' : m[2] === 'last year' ? '较去年同期' : '较去年节点对齐同期'} ${m[1] ?? ''}`
  return text
}
/** The tree as indented terminal text with status colours and sparklines. */
export function renderTree(t: TreeResult, lang: Lang = 'en'): string {
  const tr = translator(lang)
  const lines: string[] = [pc.bold(`${t.goal.name[lang]} — ${t.label}`)]
  const row = (node: TreeNode, indent: string, last: boolean) => {
    const branch = `${indent}${last ? '└─ ' : '├─ '}`
    const unit = node.role === 'trend' ? 'change' : (node.unit as Unit)
    const name = `${node.name[lang]}`
    const value = formatValue(node.value, unit, lang)
    const target =
      node.targetText === null
        ? ''
        : pc.dim(
            ` ${tr('target')} ${node.role === 'trend' ? targetText(node.targetText, lang) : `${formatValue(node.target, unit, lang)} (${targetText(node.targetText, lang)})`}`,
          )
    const change =
      node.role === 'trend'
        ? ''
        : pc.dim(
            `  ${formatValue(node.change.pop, 'change', lang)} ${tr('pop')}  ${formatValue(node.change.yoy, 'change', lang)} ${tr('yoy')}${node.change.yoyEvent === undefined ? '' : `  ${formatValue(node.change.yoyEvent, 'change', lang)} ${tr('yoy by event')}`}`,
          )
    const role = node.role === 'core' ? pc.bold(name) : name
    lines.push(
      `${branch}${role}  ${pc.bold(value)}  ${STATUS_TEXT[node.status](`${STATUS_MARK[node.status]} ${STATUS_NAMES[node.status][lang]}`)}${target}${change}  ${pc.cyan(sparkline(node.series))}`,
    )
    if (node.pushdown !== undefined) {
      const parts = node.pushdown.children.map((c) => {
        // A whole-number count can need a fraction (2.4 orders): shown with decimals, not rounded away.
        const whole = c.required === null || Number.isInteger(c.required)
        const unit = !whole && (c.unit === 'members' || c.unit === 'orders') ? 'count' : c.unit
        return `${c.name[lang]} ${formatValue(c.required, unit as Unit, lang)} (${formatValue(c.rate, 'change', lang)})`
      })
      lines.push(
        pc.dim(
          `${indent}${last ? '   ' : '│  '}${node.children.length > 0 ? '│ ' : '  '} ↳ ${tr('to reach the target, holding the others')}${lang === 'zh' ? '：' : ': '}${parts.join(' · ')}`,
        ),
      )
    }
    node.children.forEach((c, i) =>
      row(c, `${indent}${last ? '   ' : '│  '}`, i === node.children.length - 1),
    )
  }
  t.nodes.forEach((n, i) => row(n, '', i === t.nodes.length - 1))
  if (t.yoyEvent !== undefined) lines.push(pc.dim(alignmentNote(t.label, t.yoyEvent, lang)))
  lines.push(
    pc.dim(
      tr(
        'core metrics in bold; related metrics and change rates below each; the line shows the last periods',
      ),
    ),
  )
  return lines.join('\n')
}

/** A value in the unit of its metric, for people, in the language (money in the configured currency). */
export function formatValue(
  v: number | null | undefined,
  unit: Unit | 'change',
  lang: Lang = 'en',
): string {
  return figure(v, unit, lang)
}

/** A one-line chart of a series. */
export function sparkline(values: readonly (number | null)[]): string {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v))
  if (xs.length === 0) return ''
  const lo = Math.min(...xs)
  const hi = Math.max(...xs)
  return values
    .map((v) =>
      v === null || !Number.isFinite(v)
        ? ' '
        : SPARK[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * 7)],
    )
    .join('')
}

/** How a period was compared for `:yoy_event`, in a sentence. */
export function alignmentNote(label: string, a: EventAlignment, lang: Lang): string {
  const tr = translator(lang)
  const window = `${a.against.from} … ${a.against.to}`
  if (a.event === null)
    return tr(
      '{period}: no calendar event near ({why}); 同比 by event is the calendar 同比, against {window}',
      {
        period: label,
        why: tr(
          a.fallback === 'grain'
            ? 'quarters and years are not aligned'
            : (a.fallback ?? 'no event within reach'),
        ),
        window,
      },
    )
  return tr('{period}: aligned on {event} ({date}; last year {lastYear}), against {window}', {
    period: label,
    event: a.event.name[lang],
    date: a.event.date,
    lastYear: a.event.lastYear,
    window,
  })
}
