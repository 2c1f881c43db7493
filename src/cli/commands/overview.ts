import pc from 'picocolors'
import { getOverview, type Overview } from '../../engine/metrics/overview.js'
import type { Driver } from '../../engine/drivers/driver.js'
import { fmt, keyValues, pct, printJson } from '../output.js'

export async function runOverview(
  driver: Driver,
  flags: { month?: string; tz: string; json: boolean },
): Promise<void> {
  const overview = await getOverview(driver, flags.month, { timezone: flags.tz })
  if (flags.json) {
    printJson({ overview: overview ?? null })
    return
  }
  process.stdout.write(`${renderOverview(overview)}\n`)
}

export function renderOverview(o: Overview | undefined): string {
  if (o === undefined)
    return 'The database holds no orders or events yet: load some with `memberlens ingest`.'
  const month = o.month.slice(0, 7)
  const a = o.allTime
  return [
    pc.bold(`Members and purchases — ${month}`),
    keyValues([
      ['members (month end)', fmt(o.membersAtMonthEnd)],
      ['new members', fmt(o.newMembers)],
      [
        'active members',
        `${fmt(o.activeMembers)}  (${pct(o.membersAtMonthEnd > 0 ? o.activeMembers / o.membersAtMonthEnd : null)} of members)`,
      ],
      ['buyers', fmt(o.buyers)],
      ['orders', fmt(o.orders)],
      ['net revenue', fmt(o.netRevenue, 2)],
      ['returns', fmt(o.returnsAmount, 2)],
      ['average order value', fmt(o.averageOrderValue, 2)],
      ['repurchase rate', pct(o.repurchaseRate)],
    ]),
    '',
    pc.bold(`All time (${a.firstActivity ?? '–'} … ${a.lastActivity ?? '–'})`),
    keyValues([
      ['members', fmt(a.members)],
      ['identities', fmt(a.identities)],
      ['members merged', fmt(a.mergedMembers)],
      ['buyers', fmt(a.buyers)],
      ['orders', fmt(a.orders)],
      ['net revenue', fmt(a.netRevenue, 2)],
    ]),
  ].join('\n')
}
