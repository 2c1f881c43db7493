/**
 * The month's overview as text: members, buyers, orders, revenue and their changes (`overview`, `demo`).
 * @module
 */
import pc from 'picocolors'
import { type Overview } from '../../engine/metrics/overview.js'
import { translator, type Lang } from '../lang.js'
import { MISSING, fmt, keyValues, pct, money } from '../output.js'

export function renderOverview(o: Overview | undefined, lang: Lang = 'en'): string {
  const t = translator(lang)
  if (o === undefined)
    return t('The database holds no orders or events yet: load some with `memberlens ingest`.')
  const month = o.month.slice(0, 7)
  const a = o.allTime
  return [
    pc.bold(t('Members and purchases — {month}', { month })),
    keyValues([
      [t('members (month end)'), fmt(o.membersAtMonthEnd)],
      [t('new members'), fmt(o.newMembers)],
      [
        t('active members'),
        `${fmt(o.activeMembers)}  (${t('{share} of members', { share: pct(o.membersAtMonthEnd > 0 ? o.activeMembers / o.membersAtMonthEnd : null) })})`,
      ],
      [t('buyers'), fmt(o.buyers)],
      [t('orders'), fmt(o.orders)],
      [t('net revenue'), money(o.netRevenue, lang)],
      [t('returns'), money(o.returnsAmount, lang)],
      [t('average order value'), money(o.averageOrderValue, lang)],
      [t('repurchase rate'), pct(o.repurchaseRate)],
    ]),
    '',
    pc.bold(
      t('All time ({first} … {last})', {
        first: a.firstActivity ?? MISSING,
        last: a.lastActivity ?? MISSING,
      }),
    ),
    keyValues([
      [t('members'), fmt(a.members)],
      [t('identities'), fmt(a.identities)],
      [t('members merged'), fmt(a.mergedMembers)],
      [t('buyers'), fmt(a.buyers)],
      [t('orders'), fmt(a.orders)],
      [t('net revenue'), money(a.netRevenue, lang)],
    ]),
  ].join('\n')
}
