/**
 * Tags (会员标签): the tag groups of a month, each tag with its rule in words (or "manual"), the members holding
 * it and their share of the members registered by the month's end, and a bar of shares per group.
 */
import type { components } from '../generated/api'
import { t } from '../i18n'
import {
  app,
  chartBox,
  clear,
  client,
  drawLater,
  el,
  emptyNotice,
  field,
  fill,
  format,
  loading,
  named,
  ok,
  select,
  table,
} from '../ui'

type Tags = components['schemas']['MemberTags']
type Group = NonNullable<Tags['current']>['groups'][number]
type Tag = Group['tags'][number]

const MEASURE_UNITS: Readonly<Record<string, string>> = {
  net_revenue: 'currency',
  aov: 'currency',
  returned_amount: 'currency',
  predicted_clv: 'currency',
  discount_share: 'ratio',
  p_alive: 'ratio',
  orders: 'count',
  days_since_last_purchase: 'days',
  tenure_days: 'days',
  risk_score: 'score',
}

/** One condition of a rule in the page's language: `消费金额 (近 90 天) ≥ ¥1,000`, `预测 CLV 前 20%`. */
function conditionText(c: Record<string, unknown>): string {
  const days =
    typeof c['days'] === 'number' ? ` (${t('tagWindow').replace('{days}', String(c['days']))})` : ''
  if (typeof c['attribute'] === 'string') {
    const values = Array.isArray(c['in']) ? (c['in'] as unknown[]).map(String).join(', ') : ''
    return `${t(`tagAttr.${c['attribute']}`)}${days} ∈ {${values}}`
  }
  const measure = String(c['measure'])
  const name = `${t(`tagMeasure.${measure}`)}${days}`
  if (typeof c['top'] === 'number') return `${name} ${t('tagTop')} ${format(c['top'], 'ratio')}`
  if (typeof c['bottom'] === 'number')
    return `${name} ${t('tagBottom')} ${format(c['bottom'], 'ratio')}`
  const op = String(c['op']).replace('>=', '≥').replace('<=', '≤')
  return `${name} ${op} ${format(Number(c['value']), MEASURE_UNITS[measure] ?? 'count')}`
}

function ruleText(tag: Tag): string {
  if (tag.rule === null) return t('tagManual')
  return tag.rule.map(conditionText).join(t('tagAnd'))
}

export async function tagsPage(): Promise<void> {
  loading()
  const first = await ok(client.GET('/api/v1/tags'))
  clear()
  app.append(el('h1', {}, t('nav.tags')))
  if (first.current === null) {
    // The command to run, for the data's last complete month.
    const o = (await ok(client.GET('/api/v1/overview'))).overview
    const period = o === null ? 'YYYY-MM' : o.month.slice(0, 7)
    app.append(emptyNotice(t('noTagsFor').replace('{period}', period)))
    return
  }
  const period = select(
    'tags-period',
    t('tagPeriod'),
    first.periods.map((p) => [p, p] as const),
    first.current.period,
  )
  const box = el('div', { id: 'tags-groups' })
  const draw = (preloaded?: Tags) =>
    fill(box, async () => {
      const answer =
        preloaded ??
        (await ok(client.GET('/api/v1/tags', { params: { query: { period: period.value } } })))
      const c = answer.current
      if (c === null) return [emptyNotice(t('noTags'))]
      const out: (Node | string)[] = [
        el(
          'p',
          { class: 'hint' },
          `${t('tagBase')}: ${format(c.baseMembers, 'members')} · ${t('tagComputedAt')}: ${c.computedAt ?? '–'}`,
        ),
      ]
      const chart = chartBox('tags-share-chart', t('tagShares'))
      const all = c.groups.flatMap((g) => g.tags.map((x) => ({ g, x })))
      drawLater(chart, {
        tooltip: { trigger: 'axis' },
        grid: { left: 160, right: 30, top: 10, bottom: 30 },
        xAxis: {
          type: 'value',
          max: 1,
          axisLabel: { formatter: (v: number) => format(v, 'ratio') },
        },
        yAxis: {
          type: 'category',
          inverse: true,
          data: all.map(({ g, x }) => `${named(g.name, g.id)} · ${named(x.name, x.id)}`),
        },
        series: [{ type: 'bar', data: all.map(({ x }) => x.share ?? 0) }],
      })
      out.push(chart)
      for (const g of c.groups) {
        out.push(
          el('h2', {}, `${named(g.name, g.id)}${g.exclusive ? ` (${t('tagExclusive')})` : ''}`),
          table(
            `tags-${g.id}`,
            named(g.name, g.id),
            [t('tag'), t('tagKey'), t('tagRule'), t('members'), t('share')],
            g.tags.map((x) => [
              named(x.name, x.id),
              x.key,
              ruleText(x),
              format(x.members, 'members'),
              format(x.share, 'ratio'),
            ]),
            [3, 4],
          ),
        )
      }
      return out
    })
  period.addEventListener('change', () => void draw())
  app.append(el('div', { class: 'controls' }, field(t('tagPeriod'), period)), box)
  await draw(first)
}

/** A group's tags as checkbox options for the segment builder: `group:tag` with the names. */
export function tagOptions(g: Group): { value: string; label: string }[] {
  return g.tags.map((x) => ({ value: x.key, label: named(x.name, x.id) }))
}
