import { getOverview } from '../../engine/metrics/overview.js'
import type { Driver } from '../../engine/drivers/driver.js'
import { type Lang } from '../lang.js'
import { printJson } from '../output.js'
import { renderOverview } from '../render/overview.js'

export async function runOverview(
  driver: Driver,
  flags: { month?: string; tz: string; json: boolean; lang?: Lang },
): Promise<void> {
  const overview = await getOverview(driver, flags.month, { timezone: flags.tz })
  if (flags.json) {
    printJson({ overview: overview ?? null })
    return
  }
  process.stdout.write(`${renderOverview(overview, flags.lang)}\n`)
}
