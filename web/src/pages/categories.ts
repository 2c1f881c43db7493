/**
 * Categories: revenue share, penetration and repurchase per category; the first → second → third purchase
 * category paths and the channel migration as Sankey charts (top N kept, the rest in "other", members without
 * a further purchase in their own node, so every column totals the members); next-category propensity; the
 * category mix by lifecycle stage, tier or a saved segment (its members against the other buyers).
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
  tooltipValue,
  valueAxis,
} from '../ui'

type Sankey = components['schemas']['CategorySankey']
type PathNode = Sankey['nodes'][number]

const PALETTE = [
  '#1971c2',
  '#2f9e44',
  '#f59f00',
  '#e8590c',
  '#7048e8',
  '#0c8599',
  '#c2255c',
  '#5c940d',
  '#364fc7',
  '#a61e4d',
]
const OTHER = '#adb5bd'
const NONE = '#dee2e6'

/** A node in the page's language: the category or channel, or one of the two buckets. */
function nodeLabel(n: Pick<PathNode, 'kind' | 'value' | 'step'>): string {
  if (n.kind === 'value') return n.value ?? ''
  if (n.kind === 'other') return t('categories.other')
  return n.step === 1 ? t('categories.noPurchase') : t('categories.noFurther')
}

function sankeyChart(id: string, label: string, s: Sankey): HTMLElement {
  const byId = new Map(s.nodes.map((n) => [n.id, n]))
  const colour = (n: PathNode) =>
    n.kind === 'other'
      ? OTHER
      : n.kind === 'none'
        ? NONE
        : PALETTE[s.kept.indexOf(n.value ?? '') % PALETTE.length]
  const name = (id: string) => {
    const n = byId.get(id)
    return n === undefined
      ? id
      : `${nodeLabel(n)} (${t('categories.order').replace('{k}', String(n.step))})`
  }
  const box = chartBox(id, label, 'tall')
  drawLater(box, {
    tooltip: {
      trigger: 'item',
      formatter: (p: {
        data: { source?: string; target?: string; value?: number; name?: string }
      }) =>
        p.data.source !== undefined
          ? `${name(p.data.source)} → ${name(p.data.target ?? '')}: ${format(p.data.value, 'members')}`
          : `${name(p.data.name ?? '')}: ${format(byId.get(p.data.name ?? '')?.members, 'members')}`,
    },
    series: [
      {
        type: 'sankey',
        left: 10,
        right: 160,
        top: 10,
        bottom: 10,
        nodeGap: 8,
        layoutIterations: 0,
        emphasis: { focus: 'adjacency' },
        lineStyle: { color: 'source', opacity: 0.35 },
        label: {
          fontSize: 11,
          formatter: (p: { name: string }) => {
            const n = byId.get(p.name)
            return n === undefined ? p.name : nodeLabel(n)
          },
        },
        data: s.nodes.map((n) => ({
          name: n.id,
          depth: n.step - 1,
          itemStyle: { color: colour(n) },
        })),
        links: s.links.map((l) => ({ source: l.source, target: l.target, value: l.members })),
      },
    ],
  })
  return box
}

export async function categoriesPage(): Promise<void> {
  loading()
  const shares = await ok(client.GET('/api/v1/categories'))
  // Saved segments for the mix, listed like the Segments page lists them for any role that reads
  // aggregates (the mix by segment needs no more); without any the mix offers stage and tier only.
  const saved = (await ok(client.GET('/api/v1/segment-sizes'))).segments
  clear()
  const top = select(
    'categories-top',
    t('categories.top'),
    ['5', '8', '12'].map((v) => [v, v] as const),
    '8',
  )
  const mixBy = select(
    'categories-mix-by',
    t('categories.mixBy'),
    [
      ['lifecycle_stage', t('lifecycle')],
      ['tier', t('categories.tier')],
      ...saved.map((g) => [`segment:${g.name}`, `${t('categories.segment')}: ${g.name}`] as const),
    ],
    'lifecycle_stage',
  )
  const pathsBox = el('div', { id: 'categories-paths' })
  const nextBox = el('div', { id: 'categories-next' })
  const mixBox = el('div', { id: 'categories-mix' })

  const sharesTable =
    shares.categories.length === 0
      ? emptyNotice()
      : table(
          'categories-shares',
          t('categories.shares'),
          [
            t('categories.category'),
            t('revenue'),
            t('share'),
            t('categories.orders'),
            t('categories.buyers'),
            t('categories.penetration'),
            t('categories.repurchase'),
          ],
          shares.categories.map((c) => [
            c.category,
            format(c.revenue, 'currency'),
            format(c.revenueShare, 'ratio'),
            format(c.orders, 'members'),
            format(c.buyers, 'members'),
            format(c.penetration, 'ratio'),
            format(c.repurchaseRate, 'ratio'),
          ]),
          [1, 2, 3, 4, 5, 6],
        )

  const drawPaths = () =>
    fill(pathsBox, async () => {
      const r = await ok(
        client.GET('/api/v1/categories/paths', { params: { query: { top: Number(top.value) } } }),
      )
      if (r.categories.members === 0) return [emptyNotice()]
      return [
        el(
          'p',
          { class: 'notice' },
          t('categories.pathsNote').replace('{n}', format(r.categories.members, 'members')),
        ),
        sankeyChart('categories-sankey', t('categories.paths'), r.categories),
        el('h2', {}, t('categories.channels')),
        sankeyChart('categories-channel-sankey', t('categories.channels'), r.channels),
      ]
    })

  const drawNext = () =>
    fill(nextBox, async () => {
      const r = await ok(client.GET('/api/v1/categories/next', { params: { query: {} } }))
      if (r.pairs.length === 0) return [emptyNotice()]
      // The two most likely next categories of each category.
      const best = r.pairs.filter((p, i) => r.pairs.findIndex((q) => q.from === p.from) + 2 > i)
      return [
        table(
          'categories-next-table',
          t('categories.next'),
          [
            t('categories.bought'),
            t('categories.nextHolds'),
            t('categories.base'),
            t('members'),
            t('categories.probability'),
            t('categories.lift'),
          ],
          best.map((p) => [
            p.from,
            p.to,
            format(p.base, 'members'),
            format(p.hits, 'members'),
            format(p.probability, 'ratio'),
            p.lift === null ? '–' : format(p.lift, 'correlation').replace(/^\+/, ''),
          ]),
          [2, 3, 4, 5],
        ),
      ]
    })

  const drawMix = () =>
    fill(mixBox, async () => {
      const segment = mixBy.value.startsWith('segment:') ? mixBy.value.slice(8) : undefined
      const r = await ok(
        client.GET('/api/v1/categories/mix', {
          params: {
            query:
              segment === undefined
                ? // The select offers these two besides the segments.
                  { by: mixBy.value as 'tier' | 'lifecycle_stage' }
                : { by: 'segment', segment },
          },
        }),
      )
      if (r.rows === null) return [emptyNotice(t('categories.noTiers'))]
      if (r.rows.length === 0) return [emptyNotice()]
      const groups = [...new Set(r.rows.map((x) => x.group))]
      const cats = [...new Set(r.rows.map((x) => x.category))]
      const groupName = (g: string | null) =>
        g === null
          ? t(segment === undefined ? 'categories.noGroup' : 'categories.otherBuyers')
          : named(r.rows?.find((x) => x.group === g)?.groupName ?? undefined, g)
      const box = chartBox('categories-mix-chart', t('categories.mix'))
      drawLater(box, {
        tooltip: { trigger: 'axis', valueFormatter: tooltipValue('ratio') },
        legend: { top: 0, type: 'scroll' },
        grid: { left: 110, right: 20, top: 40, bottom: 30 },
        yAxis: { type: 'category', data: groups.map(groupName) },
        xAxis: valueAxis('ratio', { max: 1 }),
        series: cats.map((c, i) => ({
          name: c === 'other' ? t('categories.other') : c,
          type: 'bar',
          stack: 'mix',
          itemStyle: { color: c === 'other' ? OTHER : PALETTE[i % PALETTE.length] },
          data: groups.map(
            (g) => r.rows?.find((x) => x.group === g && x.category === c)?.share ?? 0,
          ),
        })),
      })
      return [box]
    })

  top.addEventListener('change', () => void drawPaths())
  mixBy.addEventListener('change', () => void drawMix())
  app.append(
    el('h1', {}, t('nav.categories')),
    el('p', { id: 'categories-as-of' }, `${t('asOf')} ${shares.asOf}`),
    el('h2', {}, t('categories.shares')),
    sharesTable,
    el('h2', {}, t('categories.paths')),
    el('div', { class: 'controls' }, field(t('categories.top'), top)),
    pathsBox,
    el('h2', {}, t('categories.next')),
    nextBox,
    el('h2', {}, t('categories.mix')),
    el('div', { class: 'controls' }, field(t('categories.mixBy'), mixBy)),
    mixBox,
  )
  await Promise.all([drawPaths(), drawNext(), drawMix()])
}
