/**
 * Value: the predicted CLV distribution of the latest CLV run, P(alive) by frequency and recency, and the
 * model's validation on a holdout (predicted against actual purchases).
 */
import { t } from '../i18n'
import {
  app,
  chartBox,
  clear,
  client,
  coded,
  drawLater,
  el,
  emptyNotice,
  field,
  fill,
  format,
  loading,
  ok,
  select,
  shortLabel,
  table,
  tooltipValue,
  valueAxis,
} from '../ui'

export async function valuePage(): Promise<void> {
  loading()
  const { value } = await ok(client.GET('/api/v1/value'))
  clear()
  app.append(el('h1', {}, t('nav.value')))
  if (value === null) {
    app.append(emptyNotice(t('noClvRun')))
    return
  }
  const d = value.distribution
  const unit = value.unit === 'week' ? t('weeks') : (value.unit ?? '')
  const summary = table(
    'value-summary',
    t('clvSummary'),
    [t('measure'), t('valueCol')],
    [
      [t('members'), format(d.members, 'members')],
      [t('clvTotal'), format(d.total, 'currency')],
      [t('clvMean'), format(d.mean, 'currency')],
      [t('clvMedian'), format(d.quantiles?.['p50'], 'currency')],
      [t('clvP90'), format(d.quantiles?.['p90'], 'currency')],
      [t('top10Share'), format(d.top10Share, 'ratio')],
      [t('meanPAlive'), format(d.meanPAlive, 'ratio')],
      [t('valueAtRisk'), format(d.valueAtRisk, 'currency')],
      [t('likelyInactive'), format(d.likelyInactive?.members, 'members')],
    ],
    [1],
  )
  const hist = chartBox('value-histogram', t('clvHistogram'))
  drawLater(hist, {
    tooltip: { trigger: 'axis', valueFormatter: tooltipValue('members') },
    grid: { left: 60, right: 20, top: 30, bottom: 50 },
    xAxis: {
      type: 'category',
      name: t('clv'),
      nameLocation: 'middle',
      nameGap: 30,
      data: value.histogram.bins.map((b, i) =>
        i === value.histogram.bins.length - 1
          ? `≥ ${shortLabel('currency')(Math.round(b.from))}`
          : shortLabel('currency')(Math.round(b.from)),
      ),
    },
    yAxis: valueAxis('members', { name: t('members') }),
    series: [{ type: 'bar', name: t('members'), data: value.histogram.bins.map((b) => b.members) }],
  })
  const g = value.pAlive
  const heat = chartBox('value-palive', t('pAliveGrid'))
  const recencyLabel = (i: number) =>
    `${Math.round(i * g.recencyWidth)}–${Math.round((i + 1) * g.recencyWidth)}${i === g.recencyBuckets - 1 ? '+' : ''}`
  drawLater(heat, {
    tooltip: {
      formatter: (p: { data: [number, number, number, number] }) =>
        `${t('repeatPurchases')}: ${p.data[1]}<br/>${t('sinceLast')}: ${recencyLabel(p.data[0])} ${unit}<br/>${t('pAlive')}: ${format(p.data[2], 'ratio')}<br/>${t('members')}: ${format(p.data[3], 'members')}`,
    },
    grid: { left: 70, right: 20, top: 10, bottom: 90 },
    xAxis: {
      type: 'category',
      name: `${t('sinceLast')} (${unit})`,
      nameLocation: 'middle',
      nameGap: 28,
      data: Array.from({ length: g.recencyBuckets }, (_, i) => recencyLabel(i)),
    },
    yAxis: {
      type: 'category',
      name: t('repeatPurchases'),
      nameLocation: 'middle',
      nameGap: 45,
      data: Array.from({ length: g.maxFrequency + 1 }, (_, i) =>
        i === g.maxFrequency ? `${i}+` : String(i),
      ),
    },
    visualMap: {
      dimension: 2,
      min: 0,
      max: 1,
      text: ['100%', '0%'],
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      inRange: { color: ['#e03131', '#f59f00', '#2f9e44'] },
    },
    series: [
      {
        type: 'heatmap',
        data: g.cells.map((c) => [c.recency, c.frequency, c.pAlive, c.members]),
        label: {
          show: true,
          fontSize: 9,
          formatter: (p: { data: [number, number, number, number] }) =>
            shortLabel('ratio')(Math.round(p.data[2] * 100) / 100),
        },
      },
    ],
  })

  const calibration = el('input', { id: 'value-calibration', type: 'date' })
  const holdout = el('input', { id: 'value-holdout', type: 'date' })
  const model = select('value-model', t('model'), [
    ['bg-nbd', 'BG/NBD'],
    ['pareto-nbd', 'Pareto/NBD'],
    ['mbg-nbd', 'MBG/NBD'],
    ['bg-cnbd-k', 'BG/CNBD-k'],
  ])
  const run = el('button', { id: 'value-run', type: 'button' }, t('show'))
  const validationBox = el('div', { id: 'value-validation' })
  const validate = () =>
    fill(validationBox, async () => {
      const r = await ok(
        client.GET('/api/v1/value/validation', {
          params: {
            query: {
              // The select offers exactly the API's purchase models.
              model: model.value as 'bg-nbd' | 'pareto-nbd' | 'mbg-nbd' | 'bg-cnbd-k',
              calibrationEnd: calibration.value || undefined,
              holdoutEnd: holdout.value || undefined,
            },
          },
        }),
      )
      if (!calibration.value) calibration.value = r.calibrationEnd
      if (!holdout.value) holdout.value = r.holdoutEnd
      if (r.members === 0) return [emptyNotice()]
      const byX = chartBox('value-validation-chart', t('byFrequency'))
      drawLater(byX, {
        tooltip: { trigger: 'axis', valueFormatter: tooltipValue('per_member') },
        legend: { top: 0 },
        grid: { left: 60, right: 20, top: 40, bottom: 50 },
        xAxis: {
          type: 'category',
          name: t('calibrationPurchases'),
          nameLocation: 'middle',
          nameGap: 30,
          data: r.byFrequency.map((b) => b.x),
        },
        yAxis: valueAxis('per_member', { name: t('holdoutPurchases') }),
        series: [
          { type: 'bar', name: t('actual'), data: r.byFrequency.map((b) => round2(b.actual)) },
          {
            type: 'bar',
            name: t('predictedCol'),
            data: r.byFrequency.map((b) => round2(b.predicted)),
          },
        ],
      })
      const track = chartBox('value-tracking-chart', t('tracking'))
      drawLater(track, {
        tooltip: { trigger: 'axis', valueFormatter: tooltipValue('orders') },
        legend: { top: 0 },
        grid: { left: 70, right: 20, top: 40, bottom: 30 },
        xAxis: { type: 'category', data: r.tracking.actual.map((_, i) => i + 1) },
        yAxis: valueAxis('orders', { name: t('holdoutPurchasesTotal') }),
        series: [
          {
            type: 'line',
            name: t('actual'),
            symbol: 'none',
            data: r.tracking.actual,
            markLine: {
              symbol: 'none',
              label: { formatter: t('holdoutStarts') },
              data: [{ xAxis: r.tracking.calibrationPeriods - 1 }],
            },
          },
          {
            type: 'line',
            name: t('predictedCol'),
            symbol: 'none',
            lineStyle: { type: 'dashed' },
            data: r.tracking.predicted.map(round2),
          },
        ],
      })
      return [
        table(
          'value-validation-table',
          t('validation'),
          [t('measure'), t('actual'), t('predictedCol')],
          [
            [
              t('holdoutPurchasesTotal'),
              format(r.totals.actual, 'orders'),
              format(r.totals.predicted, 'orders'),
            ],
            [
              t('holdoutValue'),
              format(r.value.actual, 'currency'),
              format(r.value.predicted, 'currency'),
            ],
            [
              t('errorsPerMember'),
              `MAE ${format(r.errors.mae, 'currency')} · RMSE ${format(r.errors.rmse, 'currency')}`,
              `${t('bias')} ${format(r.errors.bias, 'currency')}`,
            ],
          ],
          [1, 2],
        ),
        el('h2', {}, t('byFrequency')),
        byX,
        el(
          'h2',
          {},
          `${t('tracking')} (${coded('per', r.tracking.unit)}, ${t('from')} ${r.tracking.start})`,
        ),
        track,
      ]
    })
  // The portfolio total with its bootstrap intervals (computed on request: it refits nothing but redraws).
  const intervalsBox = el('div', { id: 'value-intervals' })
  const intervals = fill(intervalsBox, async () => {
    const r = await ok(
      client.GET('/api/v1/clv/intervals', {
        params: { query: { runId: value.runId, top: 0, draws: 100 } },
      }),
    )
    const p = r.portfolio
    const range = (lower: number | null, upper: number | null, unit: string) =>
      `${format(lower, unit)} – ${format(upper, unit)}`
    return [
      table(
        'value-intervals-table',
        t('clvIntervals'),
        [t('measure'), t('valueCol'), t('intervalCol')],
        [
          [
            t('clvTotalInterval'),
            format(p.clv?.estimate, 'currency'),
            range(p.clv?.lower ?? null, p.clv?.upper ?? null, 'currency'),
          ],
          [
            t('purchasesExpectedInterval'),
            format(p.expectedPurchases?.estimate, 'orders'),
            range(p.expectedPurchases?.lower ?? null, p.expectedPurchases?.upper ?? null, 'orders'),
          ],
          [
            t('purchasesRealisedInterval'),
            '',
            range(p.realisedPurchases.lower, p.realisedPurchases.upper, 'orders'),
          ],
        ],
        [1, 2],
      ),
      el(
        'p',
        { class: 'hint' },
        t('intervalsHint')
          .replace('{level}', format(r.level, 'ratio'))
          .replace('{draws}', String(r.draws))
          .replace('{days}', format(r.horizonDays, 'days')),
      ),
    ]
  })
  run.addEventListener('click', () => void validate())
  model.addEventListener('change', () => void validate())
  app.append(
    el(
      'p',
      { class: 'hint' },
      `${t('clvRun')} `,
      el('code', { class: 'id' }, value.runId),
      ` · ${value.model ?? ''} + Gamma–Gamma · ${value.horizonMonths ?? 12} ${t('months')}`,
    ),
    el(
      'div',
      { class: 'two' },
      el('div', {}, el('h2', {}, t('clvSummary')), summary),
      el('div', {}, el('h2', {}, t('clvHistogram')), hist),
    ),
    el('h2', {}, t('clvIntervals')),
    intervalsBox,
    el('h2', {}, t('pAliveGrid')),
    heat,
    el('h2', {}, t('validation')),
    el(
      'div',
      { class: 'controls' },
      field(t('calibrationEnd'), calibration),
      field(t('holdoutEnd'), holdout),
      field(t('model'), model),
      run,
    ),
    validationBox,
  )
  await Promise.all([validate(), intervals])
}

const round2 = (x: number) => Math.round(x * 100) / 100
