/**
 * Planted points-farming rings (option `plantedFarming`, off by default; its own random stream, so the other
 * files' rows stay as they are and the default output is unchanged). A ring is a group of accounts one farmer
 * controls: registered in a burst from a few shared devices and addresses, with phone numbers from one number
 * block, most referred by another ring account; each account earns sign-up style bonuses with daily check-ins
 * at a clockwork time of day and one token order, and one account — the redeemer — spends the points.
 *
 * Beside the rings the option writes honest look-alikes, so that a shared identifier alone does not convict:
 * households whose members share an address (and often a tablet), some of them registered together on one day
 * at a store, and referral pairs of friends; they shop like ordinary members (orders of ¥60–600 spread over
 * months, check-ins at any hour). truth.json lists every ring with its accounts by phone, and how many honest
 * look-alike accounts were written.
 * @module
 */
import type { Rng } from '../core/random.js'
import { csvJson, type TimeFormat } from './csv-format.js'
import type { CsvWriter } from './csv-writer.js'

export interface FarmingRingTruth {
  readonly ring: number
  /** Every account of the ring (phones, 11 digits), the redeemer first. */
  readonly members: readonly string[]
  readonly redeemer: string
  readonly registeredFrom: string
  readonly registeredTo: string
}

export interface FarmingTruth {
  readonly description: string
  readonly rings: readonly FarmingRingTruth[]
  /** Honest accounts that share an address, a device or a referral with another honest account. */
  readonly honestLookAlikes: number
}

const DAY = 86_400
const RINGS = 8
const HOUSEHOLDS = 30
const REFERRAL_PAIRS = 20

interface Writers {
  readonly members: CsvWriter | null
  readonly orders: CsvWriter | null
  readonly events: CsvWriter | null
}

interface Account {
  readonly phone: string
  readonly appId: string
  readonly registeredSec: number
  readonly channel: string
  readonly attributes: Record<string, string>
}

const REGIONS = [
  ['浙江', '杭州'],
  ['江苏', '南京'],
  ['广东', '深圳'],
  ['上海', '上海'],
] as const

/**
 * Writes the rings and the honest look-alikes between `startSec` and `endSec` (the simulated window, seconds)
 * and returns their truth. Ids are prefixed `FARM`/`HOME` so they never meet the persons' ids.
 */
export function plantFarming(
  rng: Rng,
  fmt: TimeFormat,
  out: Writers,
  startSec: number,
  endSec: number,
): FarmingTruth {
  let orderSeq = 0
  let eventSeq = 0
  let appSeq = 0
  const usedPhones = new Set<string>()
  const phoneIn = (block: string): string => {
    for (;;) {
      let p = block
      while (p.length < 11) p += String(rng.int(10))
      if (!usedPhones.has(p)) {
        usedPhones.add(p)
        return p
      }
    }
  }
  const region = () => REGIONS[rng.int(REGIONS.length)] ?? REGIONS[0]
  const writeMember = (a: Account, where: readonly [string, string]): void => {
    out.members?.add(
      `${fmt.ts(a.registeredSec)},${a.channel},${where[0]},${where[1]},,,${csvJson(a.attributes)},` +
        `false,false,false,false,${a.phone},,${a.appId},,`,
    )
  }
  const writeOrder = (a: Account, sec: number, cents: number, pointsUsed: number): void => {
    const net = (cents / 100).toFixed(2)
    out.orders?.add(
      `FARM-O${++orderSeq},${fmt.ts(sec)},app,,${net},0.00,${net},CNY,paid,,${pointsUsed},` +
        `${a.phone},${a.appId},,,`,
    )
  }
  const writeCheckIn = (a: Account, sec: number): void => {
    out.events?.add(
      `FARM-E${++eventSeq},${fmt.ts(sec)},check_in,,,app,${csvJson({ device_id: a.attributes['device_id'] ?? null })},${a.appId},${a.phone},`,
    )
  }
  const newAppId = (prefix: string) => `${prefix}${String(++appSeq).padStart(7, '0')}`

  // The rings: registered in the last 40–90 % of the window, so their farming fits in it.
  const rings: FarmingRingTruth[] = []
  for (let r = 0; r < RINGS; r++) {
    const size = 6 + rng.int(7)
    const burst =
      startSec +
      Math.floor((0.4 + 0.5 * rng.uniform()) * Math.max(DAY, endSec - startSec - 60 * DAY))
    const block = `170${String(10_000 + rng.int(90_000))}`
    const devices = Array.from({ length: 1 + rng.int(2) }, () => `dev-${rng.int(1e9).toString(36)}`)
    const addresses = Array.from(
      { length: 1 + rng.int(2) },
      () =>
        `${1 + rng.int(300)} Lane ${1 + rng.int(90)}, Block ${String.fromCharCode(65 + rng.int(8))}`,
    )
    const where = region()
    const botMinute = rng.int(24 * 60)
    const accounts: Account[] = []
    for (let i = 0; i < size; i++) {
      const registeredSec = burst + Math.floor(rng.uniform() * 6 * 3600)
      const attributes: Record<string, string> = {
        source: 'invite',
        device_id: devices[rng.int(devices.length)] as string,
        address: addresses[rng.int(addresses.length)] as string,
      }
      const referrer = accounts[rng.int(Math.max(1, accounts.length))]
      if (referrer !== undefined && rng.chance(0.8)) attributes['referrer_phone'] = referrer.phone
      accounts.push({
        phone: phoneIn(block),
        appId: newAppId('fa'),
        registeredSec,
        channel: 'app',
        attributes,
      })
    }
    accounts.sort((a, b) => a.registeredSec - b.registeredSec)
    for (const a of accounts) writeMember(a, where)
    const redeemer = accounts[0] as Account
    for (const a of accounts) {
      // One token order, then daily check-ins at the same minute (give or take a few seconds).
      const first = a.registeredSec + 600 + rng.int(3600)
      writeOrder(a, first, 500 + rng.int(1500), 0)
      const days = 14 + rng.int(21)
      const day0 = Math.floor(a.registeredSec / DAY) + 1
      for (let d = 0; d < days; d++) {
        const sec = (day0 + d) * DAY + botMinute * 60 + rng.int(20)
        if (sec < endSec) writeCheckIn(a, sec)
      }
    }
    // The redeemer spends what the ring earned: orders paid largely with points, after the farming weeks.
    for (let k = 0; k < 2 + rng.int(3); k++) {
      const sec = redeemer.registeredSec + (20 + 5 * k + rng.int(5)) * DAY
      if (sec < endSec) writeOrder(redeemer, sec, 2000 + rng.int(4000), 500 * (2 + rng.int(6)))
    }
    rings.push({
      ring: r + 1,
      members: [redeemer.phone, ...accounts.slice(1).map((a) => a.phone)],
      redeemer: redeemer.phone,
      registeredFrom: fmt.ts(accounts[0]?.registeredSec ?? burst),
      registeredTo: fmt.ts(accounts.at(-1)?.registeredSec ?? burst),
    })
  }

  // Honest look-alikes: households and referral pairs that shop like ordinary members.
  let honest = 0
  const shop = (a: Account): void => {
    let t = a.registeredSec + rng.int(20) * DAY
    while (t < endSec) {
      writeOrder(a, t, 6000 + rng.int(54_000), 0)
      if (rng.chance(0.5)) writeCheckIn(a, t + rng.int(DAY))
      t += Math.floor((10 + 50 * rng.uniform()) * DAY)
    }
  }
  for (let h = 0; h < HOUSEHOLDS + REFERRAL_PAIRS; h++) {
    const household = h < HOUSEHOLDS
    const size = household ? 2 + rng.int(3) : 2
    const together = household && rng.chance(0.4)
    const base = startSec + rng.int(Math.max(1, endSec - startSec - 90 * DAY))
    const device = household && rng.chance(0.6) ? `dev-${rng.int(1e9).toString(36)}` : null
    const address = `${1 + rng.int(300)} Road ${1 + rng.int(90)}, Flat ${1 + rng.int(40)}`
    const where = region()
    const members: Account[] = []
    for (let i = 0; i < size; i++) {
      const registeredSec = together
        ? base + rng.int(3600)
        : base + Math.floor(rng.uniform() * 300 * DAY)
      const attributes: Record<string, string> = { source: household ? 'store' : 'invite' }
      if (household) attributes['address'] = address
      if (device !== null && rng.chance(0.7)) attributes['device_id'] = device
      if (!household && i === 1 && members[0]) attributes['referrer_phone'] = members[0].phone
      const a: Account = {
        phone: phoneIn(`1${3 + rng.int(6)}${rng.int(10)}`),
        appId: newAppId('hh'),
        registeredSec: Math.max(startSec, Math.min(registeredSec, endSec - 30 * DAY)),
        channel: together ? 'store' : 'app',
        attributes,
      }
      members.push(a)
      writeMember(a, where)
      shop(a)
      honest++
    }
  }
  return {
    description:
      'Planted points-farming rings: each ring’s accounts by phone (redeemer first); every other account is honest, including the households and referral pairs written beside them, which share addresses, devices or referrals.',
    rings,
    honestLookAlikes: honest,
  }
}
