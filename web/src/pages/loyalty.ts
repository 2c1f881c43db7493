/**
 * Loyalty: points issued, redeemed, expired and reversed per month, the liability and breakage, the tier
 * distribution and the tier movements of a range, from the ledger as last synced; below, the "what if" program
 * design lab (`loyalty-whatif.ts`).
 */
import type { components } from '../generated/api'
import { lang, t } from '../i18n'
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
  table,
  tooltipValue,
  valueAxis,
} from '../ui'
import { whatIfSection } from './loyalty-whatif'

type Program = NonNullable<components['schemas']['LoyaltyProgram']>

export async function loyaltyPage(): Promise<void> {
  loading()
  const { program: first } = await ok(client.GET('/api/v1/loyalty-program'))
  clear()
  app.append(el('h1', {}, t('nav.loyalty')))
  if (first === null) {
    app.append(emptyNotice(t('noLoyaltySync')), whatIfSection())
    return
  }
  const from = el('input', { id: 'loyalty-from', type: 'month', value: first.from })
  const to = el('input', { id: 'loyalty-to', type: 'month', value: first.to })
  const run = el('button', { id: 'loyalty-run', type: 'button' }, t('show'))
  const box = el('div', { id: 'loyalty' })
  const draw = (preloaded?: Program) =>
    fill(box, async () => {
      const p =
        preloaded ??
        (
          await ok(
            client.GET('/api/v1/loyalty-program', {
              params: { query: { from: from.value, to: to.value } },
            }),
          )
        ).program
      if (p === null) return [emptyNotice(t('noLoyaltySync'))]
      const x = p.total
      const tier = (id: string) => named(p.tierNames?.[id], id)
      const kpis = table(
        'loyalty-kpis',
        t('loyaltySummary'),
        [t('measure'), t('valueCol')],
        [
          [t('pointsIssued'), format(x.issued, 'points')],
          [t('pointsRedeemed'), format(x.redeemed, 'points')],
          [t('pointsExpired'), format(x.expired, 'points')],
          [t('pointsReversed'), format(x.reversed, 'points')],
          [t('redemptionRate'), format(x.redemptionRate, 'ratio')],
          [t('liabilityPoints'), format(x.liabilityPoints, 'points')],
          [t('liabilityAmount'), format(x.liabilityAmount, 'currency', x.currency)],
          [t('breakage'), format(x.breakage, 'ratio')],
          [t('upgradeRate'), format(x.upgradeRate, 'ratio')],
          [t('downgradeRate'), format(x.downgradeRate, 'ratio')],
        ],
        [1],
      )
      const points = chartBox('loyalty-points-chart', t('pointsPerMonth'))
      drawLater(points, {
        tooltip: { trigger: 'axis', valueFormatter: tooltipValue('points') },
        legend: { top: 0 },
        grid: { left: 80, right: 20, top: 40, bottom: 30 },
        xAxis: { type: 'category', data: p.months.map((m) => m.month) },
        yAxis: valueAxis('points', { name: t('points') }),
        series: [
          { type: 'bar', name: t('pointsIssued'), data: p.months.map((m) => m.issued) },
          { type: 'bar', name: t('pointsRedeemed'), data: p.months.map((m) => m.redeemed) },
          { type: 'bar', name: t('pointsExpired'), data: p.months.map((m) => m.expired) },
          { type: 'bar', name: t('pointsReversed'), data: p.months.map((m) => m.reversed) },
        ],
      })
      const tiers = chartBox('loyalty-tier-chart', t('tierDistribution'))
      drawLater(tiers, {
        tooltip: { trigger: 'axis', valueFormatter: tooltipValue('members') },
        grid: { left: 100, right: 30, top: 10, bottom: 30 },
        xAxis: valueAxis('members', { name: t('members') }),
        yAxis: { type: 'category', data: x.tierDistribution.map((d) => tier(d.tier)) },
        series: [{ type: 'bar', data: x.tierDistribution.map((d) => d.members) }],
      })
      const moves = chartBox('loyalty-moves-chart', t('tierMovesPerMonth'))
      drawLater(moves, {
        tooltip: { trigger: 'axis', valueFormatter: tooltipValue('members') },
        legend: { top: 0 },
        grid: { left: 60, right: 20, top: 40, bottom: 30 },
        xAxis: { type: 'category', data: p.months.map((m) => m.month) },
        yAxis: valueAxis('members', { name: t('members') }),
        series: [
          { type: 'line', name: t('upgrades'), data: p.months.map((m) => m.upgrades) },
          { type: 'line', name: t('downgrades'), data: p.months.map((m) => m.downgrades) },
        ],
      })
      return [
        // The ledger's time of the sync, in UTC (the database's timestamps carry no zone): labelled as such.
        el(
          'p',
          { class: 'hint' },
          `${t('lastSync')}${lang() === 'zh' ? '：' : ': '}${p.lastSync === null ? '–' : `${p.lastSync.slice(0, 16)} UTC`}`,
        ),
        el(
          'div',
          { class: 'two' },
          el('div', {}, kpis),
          el('div', {}, el('h2', {}, t('pointsPerMonth')), points),
        ),
        el(
          'div',
          { class: 'two' },
          el('div', {}, el('h2', {}, t('tierDistribution')), tiers),
          el('div', {}, el('h2', {}, t('tierMovesPerMonth')), moves),
        ),
        el('h2', {}, t('tierMovements')),
        p.movements.length === 0
          ? emptyNotice()
          : table(
              'loyalty-movements',
              t('tierMovements'),
              [t('fromTier'), t('toTier'), t('movement'), t('members')],
              p.movements.map((m) => [
                m.from === null ? t('enrolled') : tier(m.from),
                tier(m.to),
                t(`move.${m.kind}`),
                format(m.members, 'members'),
              ]),
              [3],
            ),
      ]
    })
  run.addEventListener('click', () => void draw())
  app.append(
    el('div', { class: 'controls' }, field(t('from'), from), field(t('to'), to), run),
    box,
    whatIfSection(),
  )
  await draw(first)
}
