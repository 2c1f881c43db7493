/** Retention: the cohort heatmap, LTV curves by cohort, the survival curve, lifecycle stage sizes and RFM segments. */
import { t, lang } from '../i18n'
import {
  app,
  chart,
  clear,
  client,
  el,
  format,
  loading,
  ok,
  shortLabel,
  tooltipValue,
  valueAxis,
  type Name,
} from '../ui'

// Retention: the cohort heatmap, LTV curves, survival, lifecycle stage sizes and RFM segments.
export async function retention(): Promise<void> {
  loading()
  const [ltv, surv] = await Promise.all([
    ok(client.GET('/api/v1/cohorts/ltv', { params: { query: { grain: 'month', periods: 12 } } })),
    ok(client.GET('/api/v1/survival')),
  ])
  const [c, l, r] = await Promise.all([
    ok(client.GET('/api/v1/cohorts', { params: { query: { grain: 'month', periods: 12 } } })),
    ok(client.GET('/api/v1/lifecycle')),
    ok(client.GET('/api/v1/rfm')),
  ])
  clear()
  const cohorts = c.cohorts.slice(-18)
  const heat = el('div', { class: 'chart', id: 'cohort-chart', 'aria-label': t('cohortHeatmap') })
  const stages = el('div', { class: 'chart', id: 'stage-chart', 'aria-label': t('lifecycle') })
  const ltvChart = el('div', { class: 'chart', id: 'ltv-chart', 'aria-label': t('ltvCurves') })
  const survivalChart = el('div', {
    class: 'chart',
    id: 'survival-chart',
    'aria-label': t('survivalCurve'),
  })
  const g = surv.groups[0]
  app.append(
    el('h1', {}, t('nav.retention')),
    el('h2', {}, t('cohortHeatmap')),
    heat,
    el('h2', {}, t('ltvCurves')),
    ltvChart,
    el('h2', {}, t('survivalCurve')),
    el(
      'p',
      { class: 'hint', id: 'survival-summary' },
      g
        ? `${t('members')} ${format(g.members, 'members')} · ${t('churned')} ${format(g.churned, 'members')} · ${t('medianLifetime')} ${g.medianDays === null ? '–' : `${format(g.medianDays, 'days')}`} (${surv.churnDays} ${t('days')} ${t('withoutPurchase')})`
        : t('survivalTooShort').replace('{days}', String(surv.churnDays)),
    ),
    el(
      'p',
      { class: 'hint', id: 'survival-definition' },
      t('survivalDefinition').replace('{days}', String(surv.churnDays)),
    ),
    survivalChart,
    el('h2', {}, `${t('lifecycle')} (${l.asOf})`),
    stages,
  )
  // The latest eight cohorts with at least one complete period.
  const curves = ltv.curves.filter((x) => x.points.some((p) => p.ltv !== null)).slice(-8)
  chart(ltvChart, {
    tooltip: { trigger: 'axis', valueFormatter: tooltipValue('currency') },
    legend: { top: 0, type: 'scroll' },
    grid: { left: 60, right: 20, top: 60, bottom: 30 },
    xAxis: { type: 'category', data: Array.from({ length: 13 }, (_, i) => `+${i}`) },
    yAxis: valueAxis('currency', { name: t('ltvPerMember') }),
    series: curves.map((x) => ({
      type: 'line',
      name: `${x.cohort} (${x.size})`,
      data: x.points.map((p) => p.ltv),
    })),
  })
  if (g) {
    chart(survivalChart, {
      tooltip: { trigger: 'axis', valueFormatter: tooltipValue('ratio') },
      grid: { left: 60, right: 20, top: 20, bottom: 40 },
      xAxis: { type: 'value', name: t('days'), nameLocation: 'middle', nameGap: 25 },
      yAxis: valueAxis('ratio', { min: 0, max: 1 }),
      series: [
        {
          type: 'line',
          step: 'end',
          showSymbol: false,
          name: t('survivalCurve'),
          data: [[0, 1], ...g.curve.map((p) => [p.days, p.survival])],
        },
        {
          type: 'line',
          step: 'end',
          showSymbol: false,
          lineStyle: { type: 'dashed', width: 1 },
          name: '95%',
          data: g.curve.map((p) => [p.days, p.lower]),
        },
        {
          type: 'line',
          step: 'end',
          showSymbol: false,
          lineStyle: { type: 'dashed', width: 1 },
          name: '95% ',
          data: g.curve.map((p) => [p.days, p.upper]),
        },
      ],
    })
  }
  const data: [number, number, number | null][] = []
  cohorts.forEach((co, y) => co.cells.forEach((cell) => data.push([cell.period, y, cell.rate])))
  chart(heat, {
    tooltip: {
      formatter: (p: { data: [number, number, number | null] }) =>
        `${cohorts[p.data[1]]?.cohort.slice(0, 7) ?? ''} +${p.data[0]}: ${format(p.data[2], 'ratio')}`,
    },
    grid: { left: 110, right: 20, top: 10, bottom: 70 },
    xAxis: { type: 'category', data: Array.from({ length: 13 }, (_, i) => `+${i}`) },
    yAxis: { type: 'category', data: cohorts.map((x) => `${x.cohort.slice(0, 7)} (${x.size})`) },
    visualMap: {
      min: 0,
      max: 1,
      text: ['100%', '0%'],
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      inRange: { color: ['#f0f4f8', '#2f6fb3'] },
    },
    series: [
      {
        type: 'heatmap',
        data,
        label: {
          show: true,
          fontSize: 9,
          formatter: (p: { data: [number, number, number | null] }) =>
            shortLabel('ratio')(p.data[2]),
        },
      },
    ],
  })
  const stageName = (x: { stage: string; name?: Name }) => x.name?.[lang()] ?? x.stage
  chart(stages, {
    tooltip: { trigger: 'axis', valueFormatter: tooltipValue('members') },
    grid: { left: 160, right: 20, top: 10, bottom: 30 },
    xAxis: valueAxis('members'),
    yAxis: { type: 'category', data: l.stages.map(stageName) },
    series: [{ type: 'bar', data: l.stages.map((x) => Number(x.members)) }],
  })
  const rows = r.segments.map((x) =>
    el(
      'tr',
      {},
      el('td', {}, x.name?.[lang()] ?? x.segment),
      el('td', { class: 'num' }, format(Number(x.members), 'members')),
      el('td', { class: 'num' }, format(x.revenue ?? null, 'currency')),
    ),
  )
  app.append(
    el('h2', {}, t('rfm')),
    el(
      'table',
      { id: 'rfm-table' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', {}, t('segment')),
          el('th', {}, t('members')),
          el('th', {}, t('revenue')),
        ),
      ),
      el('tbody', {}, ...rows),
    ),
  )
}
