/**
 * Segments: the RFM grid (members per recency × frequency-and-monetary cell, named by segment), the named RFM
 * segments with size and value, and the saved segments with theirs.
 */
import { t } from '../i18n'
import {
  api,
  app,
  chartBox,
  clear,
  drawLater,
  el,
  emptyNotice,
  field,
  fill,
  format,
  loading,
  named,
  table,
  type Name,
} from '../ui'

interface RfmGrid {
  asOf: string
  cells: { r: number; fm: number; segment: string; name: Name; members: number; revenue: number }[]
  segments: {
    segment: string
    name: Name
    members: number
    share: number
    revenue: number
    revenueShare: number
    avgRecencyDays: number | null
    avgFrequency: number | null
    avgMonetary: number | null
  }[]
}
interface SegmentSizes {
  asOf: string
  revenueFrom: string
  revenueTo: string
  segments: {
    name: string
    description: string | null
    members: number
    buyers: number
    revenue: number
    revenuePerMember: number | null
  }[]
}

export async function segmentsPage(): Promise<void> {
  loading()
  const first = await api<RfmGrid>('/api/v1/rfm/grid')
  clear()
  const asOf = el('input', { id: 'segments-asof', type: 'date', value: first.asOf })
  const run = el('button', { id: 'segments-run', type: 'button' }, t('show'))
  const rfmBox = el('div', { id: 'segments-rfm' })
  const savedBox = el('div', { id: 'segments-saved' })

  const drawRfm = (preloaded?: RfmGrid) =>
    fill(rfmBox, async () => {
      const g = preloaded ?? (await api<RfmGrid>(`/api/v1/rfm/grid?asOf=${asOf.value}`))
      if (g.cells.length === 0) return [emptyNotice()]
      const box = chartBox('rfm-grid-chart', t('rfmGrid'))
      const max = Math.max(...g.cells.map((c) => c.members))
      drawLater(box, {
        tooltip: {
          formatter: (p: { data: [number, number, number, string, number] }) =>
            `${p.data[3]}<br/>R ${5 - p.data[1]} · FM ${p.data[0] + 1}<br/>${t('members')}: ${format(p.data[2], 'members')}<br/>${t('revenue')}: ${format(p.data[4], 'currency')}`,
        },
        grid: { left: 60, right: 20, top: 10, bottom: 90 },
        xAxis: {
          type: 'category',
          name: t('fmScore'),
          nameLocation: 'middle',
          nameGap: 28,
          data: ['1', '2', '3', '4', '5'],
        },
        yAxis: {
          type: 'category',
          name: t('rScore'),
          nameLocation: 'middle',
          nameGap: 35,
          inverse: true,
          data: ['5', '4', '3', '2', '1'],
        },
        visualMap: {
          dimension: 2,
          min: 0,
          max,
          orient: 'horizontal',
          left: 'center',
          bottom: 0,
          inRange: { color: ['#f0f4f8', '#2f6fb3'] },
        },
        series: [
          {
            type: 'heatmap',
            data: g.cells.map((c) => [
              c.fm - 1,
              5 - c.r,
              c.members,
              named(c.name, c.segment),
              c.revenue,
            ]),
            label: {
              show: true,
              fontSize: 11,
              formatter: (p: { data: [number, number, number, string] }) =>
                `${p.data[3]}\n${format(p.data[2], 'members')}`,
            },
          },
        ],
      })
      const rows = g.segments.map((s) => [
        named(s.name, s.segment),
        format(s.members, 'members'),
        format(s.share, 'ratio'),
        format(s.revenue, 'currency'),
        format(s.revenueShare, 'ratio'),
        format(s.avgMonetary, 'currency'),
        format(s.avgRecencyDays, 'score'),
        format(s.avgFrequency, 'score'),
      ])
      return [
        box,
        el('h2', {}, `${t('rfm')} (${g.asOf})`),
        table(
          'rfm-segment-table',
          t('rfm'),
          [
            t('segment'),
            t('members'),
            t('share'),
            t('revenue'),
            t('revenueShare'),
            t('revenuePerMember'),
            t('avgRecencyDays'),
            t('avgFrequency'),
          ],
          rows,
          [1, 2, 3, 4, 5, 6, 7],
        ),
      ]
    })

  const drawSaved = () =>
    fill(savedBox, async () => {
      const s = await api<SegmentSizes>(`/api/v1/segment-sizes?asOf=${asOf.value}`)
      if (s.segments.length === 0) return [emptyNotice(t('noSavedSegments'))]
      return [
        el('p', { class: 'hint' }, `${t('revenueWindow')}: ${s.revenueFrom} – ${s.revenueTo}`),
        table(
          'saved-segment-table',
          t('savedSegments'),
          [
            t('segment'),
            t('description'),
            t('members'),
            t('buyers'),
            t('revenue'),
            t('revenuePerMember'),
          ],
          s.segments.map((x) => [
            x.name,
            x.description ?? '',
            format(x.members, 'members'),
            format(x.buyers, 'members'),
            format(x.revenue, 'currency'),
            format(x.revenuePerMember, 'currency'),
          ]),
          [2, 3, 4, 5],
        ),
      ]
    })

  run.addEventListener('click', () => void Promise.all([drawRfm(), drawSaved()]))
  app.append(
    el('h1', {}, t('nav.segments')),
    el('div', { class: 'controls' }, field(t('asOf'), asOf), run),
    el('h2', {}, t('rfmGrid')),
    rfmBox,
    el('h2', {}, t('savedSegments')),
    savedBox,
  )
  await Promise.all([drawRfm(first), drawSaved()])
}
