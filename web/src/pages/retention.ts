/**
 * Retention: the cohort heatmap and LTV curves by cohort (cohorts by registration or first purchase, per week,
 * month or quarter, active by a purchase or any event), the survival curve, lifecycle stage sizes and RFM
 * segments.
 */
import type { components } from '../generated/api'
import { t, lang } from '../i18n'
import {
  app,
  chart,
  charts,
  clear,
  client,
  el,
  emptyNotice,
  fill,
  format,
  loading,
  ok,
  select,
  shortLabel,
  tooltipValue,
  valueAxis,
  type Name,
} from '../ui'

type Grain = 'week' | 'month' | 'quarter'
type Anchor = components['schemas']['CohortRetention']['spec']['anchor']
type LtvCurve = components['schemas']['CohortLtv']['curves'][number]

/** Periods after the cohort's own shown per grain: a quarter of a year in weeks, a year in months, two in quarters. */
const PERIODS: Record<Grain, number> = { week: 13, month: 12, quarter: 8 }
/** Cohorts the heatmap shows (the youngest) and the LTV chart selects at first (the youngest with a complete period). */
const HEATMAP_COHORTS = 18
const LTV_DEFAULT = 8

/** A cohort's name: its month (2026-03), quarter (2026 Q1) or the first day of its week. */
function cohortLabel(cohort: string, grain: Grain): string {
  if (grain === 'month') return cohort.slice(0, 7)
  if (grain === 'quarter')
    return `${cohort.slice(0, 4)} Q${Math.floor((Number(cohort.slice(5, 7)) - 1) / 3) + 1}`
  return cohort.slice(0, 10)
}

// Retention: the cohort heatmap, LTV curves, survival, lifecycle stage sizes and RFM segments.
export async function retention(): Promise<void> {
  loading()
  // Without orders or events there is no cohort, buyer or stage: say how to load data instead.
  if ((await ok(client.GET('/api/v1/overview'))).overview === null) {
    clear()
    app.append(el('h1', {}, t('nav.retention')), emptyNotice(t('noActivity')))
    return
  }
  const [surv, l, r] = await Promise.all([
    ok(client.GET('/api/v1/survival')),
    ok(client.GET('/api/v1/lifecycle')),
    ok(client.GET('/api/v1/rfm')),
  ])
  clear()
  const anchor = select(
    'retention-anchor',
    t('cohortAnchor'),
    (['registration', 'first-purchase'] as const).map((a) => [a, t(`anchor.${a}`)] as const),
    'registration',
  )
  const grain = select(
    'retention-grain',
    t('grain'),
    (['week', 'month', 'quarter'] as const).map((g) => [g, t(`grain.${g}`)] as const),
    'month',
  )
  const activity = select(
    'retention-activity',
    t('activeMeans'),
    (['any', 'purchase', 'event'] as const).map((a) => [a, t(`activity.${a}`)] as const),
    'any',
  )
  const cohortBox = el('div', { id: 'retention-cohorts' })
  const stages = el('div', { class: 'chart', id: 'stage-chart', 'aria-label': t('lifecycle') })
  const survivalChart = el('div', {
    class: 'chart',
    id: 'survival-chart',
    'aria-label': t('survivalCurve'),
  })
  const g = surv.groups[0]
  const drawCohorts = () =>
    fill(cohortBox, () =>
      cohortCharts(anchor.value as Anchor, grain.value as Grain, activity.value),
    )
  for (const control of [anchor, grain, activity])
    control.addEventListener('change', () => void drawCohorts())
  app.append(
    el('h1', {}, t('nav.retention')),
    el(
      'div',
      { class: 'controls', id: 'retention-controls' },
      el('label', {}, t('cohortAnchor'), anchor),
      el('label', {}, t('grain'), grain),
      el('label', {}, t('activeMeans'), activity),
    ),
    cohortBox,
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
  const cohortsDrawn = drawCohorts()
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
  await cohortsDrawn
}

/** The cohort heatmap and the LTV chart for one choice of anchor, grain and activity. */
async function cohortCharts(
  anchor: Anchor,
  grain: Grain,
  activity: string,
): Promise<HTMLElement[]> {
  const periods = PERIODS[grain]
  const [c, ltv] = await Promise.all([
    ok(client.GET('/api/v1/cohorts', { params: { query: { anchor, grain, activity, periods } } })),
    ok(client.GET('/api/v1/cohorts/ltv', { params: { query: { anchor, grain, periods } } })),
  ])
  const heat = el('div', { class: 'chart', id: 'cohort-chart', 'aria-label': t('cohortHeatmap') })
  const ltvChart = el('div', { class: 'chart', id: 'ltv-chart', 'aria-label': t('ltvCurves') })
  const cohorts = c.cohorts.slice(-HEATMAP_COHORTS)
  // A readable row per cohort (and room for the axis and the scale).
  heat.style.height = `${Math.max(260, 24 * cohorts.length + 130)}px`
  const offsets = Array.from({ length: periods + 1 }, (_, i) => `+${i}`)
  const picker = ltvPicker(ltv.curves, grain)
  requestAnimationFrame(() => {
    drawHeatmap(heat, cohorts, grain, offsets)
    drawLtv(ltvChart, ltv.curves, grain, offsets, picker)
  })
  return [
    el('h2', {}, t('cohortHeatmap')),
    heat,
    el('h2', {}, t('ltvCurves')),
    picker.box,
    ltvChart,
  ]
}

type Cohorts = components['schemas']['CohortRetention']['cohorts']

/**
 * Rates as % in every cell. The colour scale runs from 0 to the highest rate after the cohort's own period
 * (which is near 100% by construction and would wash every later cell out); cells above it take the darkest
 * colour. Cells whose period has not ended are left blank.
 */
function drawHeatmap(box: HTMLElement, cohorts: Cohorts, grain: Grain, offsets: string[]): void {
  const later = cohorts.flatMap((co) =>
    co.cells.filter((x) => x.period > 0 && x.rate !== null).map((x) => x.rate as number),
  )
  const top = Math.min(1, Math.max(0.05, ...later))
  const data = cohorts.flatMap((co, y) =>
    co.cells.map((cell) => [
      cell.period,
      y,
      cell.rate === null ? '-' : Math.min(cell.rate, top),
      cell.rate,
    ]),
  )
  chart(box, {
    tooltip: {
      formatter: (p: { data: [number, number, unknown, number | null] }) =>
        `${cohortLabel(cohorts[p.data[1]]?.cohort ?? '', grain)} +${p.data[0]}: ${format(p.data[3], 'ratio')}`,
    },
    grid: { left: 130, right: 20, top: 10, bottom: 90 },
    xAxis: {
      type: 'category',
      data: offsets,
      name: t('periodsSince'),
      nameLocation: 'middle',
      nameGap: 25,
    },
    yAxis: {
      type: 'category',
      data: cohorts.map((x) => `${cohortLabel(x.cohort, grain)} (${format(x.size, 'members')})`),
    },
    visualMap: {
      min: 0,
      max: top,
      dimension: 2,
      calculable: false,
      text: [`≥ ${shortLabel('ratio')(top)}`, shortLabel('ratio')(0)],
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      inRange: { color: ['#f7fbff', '#c6dbef', '#6baed6', '#2171b5', '#08306b'] },
    },
    series: [
      {
        type: 'heatmap',
        data,
        label: {
          show: true,
          fontSize: 9,
          color: '#111',
          textBorderColor: '#fff',
          textBorderWidth: 2,
          formatter: (p: { data: [number, number, unknown, number | null] }) =>
            p.data[3] === null ? '' : shortLabel('ratio')(p.data[3]),
        },
      },
    ],
  })
}

/**
 * Every cohort, to choose those the LTV chart shows: a list (several may be chosen) with shortcuts for the
 * youngest eight, all and none; at first the youngest eight with a complete period.
 */
function ltvPicker(
  curves: readonly LtvCurve[],
  grain: Grain,
): { readonly box: HTMLElement; readonly list: HTMLSelectElement } {
  const name = (x: LtvCurve) => `${cohortLabel(x.cohort, grain)} (${x.size})`
  const list = el(
    'select',
    { id: 'ltv-cohorts', multiple: '', size: '6', 'aria-label': t('ltvCohorts') },
    ...curves.map((x) => el('option', { value: x.cohort }, name(x))),
  )
  const youngest = curves
    .filter((x) => x.points.some((p) => p.ltv !== null))
    .slice(-LTV_DEFAULT)
    .map((x) => x.cohort)
  const choose = (cohorts: readonly string[]) => {
    for (const o of list.options) o.selected = cohorts.includes(o.value)
    list.dispatchEvent(new Event('change'))
  }
  for (const o of list.options) o.selected = youngest.includes(o.value)
  const button = (id: string, label: string, cohorts: () => readonly string[]) => {
    const b = el('button', { type: 'button', id }, label)
    b.addEventListener('click', () => choose(cohorts()))
    return b
  }
  const box = el(
    'div',
    { class: 'controls', id: 'ltv-picker' },
    el('label', {}, t('ltvCohorts'), list),
    button('ltv-latest', t('ltvLatest'), () => youngest),
    button('ltv-all', t('ltvAll'), () => curves.map((x) => x.cohort)),
    button('ltv-none', t('ltvClear'), () => []),
  )
  return { box, list }
}

/** LTV curves of every cohort; the legend and the list both choose which show, and follow each other. */
function drawLtv(
  box: HTMLElement,
  curves: readonly LtvCurve[],
  grain: Grain,
  offsets: string[],
  picker: ReturnType<typeof ltvPicker>,
): void {
  const name = (x: LtvCurve) => `${cohortLabel(x.cohort, grain)} (${x.size})`
  const chosen = () =>
    Object.fromEntries(
      curves.map((x, i) => [name(x), picker.list.options[i]?.selected ?? false] as const),
    )
  const c = chart(box, {
    tooltip: { trigger: 'axis', valueFormatter: tooltipValue('currency') },
    legend: { top: 0, type: 'scroll', selected: chosen() },
    grid: { left: 70, right: 20, top: 60, bottom: 40 },
    xAxis: {
      type: 'category',
      data: offsets,
      name: t('periodsSince'),
      nameLocation: 'middle',
      nameGap: 25,
    },
    yAxis: valueAxis('currency', { name: t('ltvPerMember') }),
    series: curves.map((x) => ({
      type: 'line',
      name: name(x),
      data: x.points.map((p) => p.ltv),
    })),
  })
  picker.list.addEventListener('change', () => {
    if (charts.includes(c)) c.setOption({ legend: { selected: chosen() } })
  })
  c.on('legendselectchanged', (e: unknown) => {
    const selected = (e as { selected: Record<string, boolean> }).selected
    curves.forEach((x, i) => {
      const o = picker.list.options[i]
      if (o) o.selected = selected[name(x)] ?? false
    })
  })
}
