/**
 * Points-farming rings: groups of accounts one person runs to collect sign-up, referral and check-in points
 * and spend them through one account. Found in two steps over the member database:
 *
 * 1. **The graph** (SQL): members are linked when they share a device (`attributes.device_id` at registration,
 *    or `properties.device_id` of their events), an address (`attributes.address`), a phone number block (the
 *    first 8 of the 11 digits: numbers bought in a batch), or when one referred the other
 *    (`attributes.referrer_phone`). An identifier held by more than `maxShared` members (a store's shared
 *    tablet, a placeholder address) links nobody. Connected components are taken in memory (union–find).
 * 2. **Behaviour** (SQL aggregation per member, then per component): a component of at least `minSize`
 *    members is flagged when they registered within `burstHours` of each other and either most of them check
 *    in like a machine (at least 5 check-ins whose time of day varies by under `clockworkSeconds`, taken on
 *    the circle so that 23:59 and 00:01 are close) or they spend next to nothing (median net spend per member
 *    under `tokenSpend`). A household registering together at a store shares an address and a burst but shops
 *    and checks in like people, so it is not flagged.
 *
 * `evaluateFarming` scores the flags against the simulator's planted rings (truth.json `farming`);
 * `holdFlaggedMembers` puts the flagged members' points on hold for a review window.
 * @module
 */
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { sql, type Fragment } from '../../engine/sql/fragment.js'
import { InputError, NotFoundError } from '../../core/errors.js'
import { placeHold } from '../../ledger/holds.js'
import type { Ledger } from '../../ledger/ledger.service.js'

export interface FarmingOptions {
  readonly minSize: number
  readonly burstHours: number
  readonly clockworkSeconds: number
  readonly tokenSpend: number
  readonly maxShared: number
}

export const DEFAULT_FARMING_OPTIONS: FarmingOptions = {
  minSize: 3,
  burstHours: 48,
  clockworkSeconds: 600,
  tokenSpend: 50,
  maxShared: 50,
}

export interface FarmingRing {
  /** 1, 2, … by size, largest first. */
  readonly ring: number
  readonly memberIds: readonly number[]
  /** The member who spent most points in orders (the likely redeemer); null when none did. */
  readonly redeemer: number | null
  readonly registeredSpanHours: number
  readonly clockworkShare: number
  readonly medianSpend: number
  readonly pointsSpent: number
  /** What linked them: counts of shared devices, addresses, number blocks and referrals. */
  readonly links: Readonly<Record<string, number>>
  readonly reasons: readonly string[]
}

export interface FarmingReport {
  readonly options: FarmingOptions
  /** Members linked to at least one other member. */
  readonly linkedMembers: number
  /** Components of at least `minSize` members looked at. */
  readonly groups: number
  readonly rings: readonly FarmingRing[]
  readonly flaggedMembers: number
}

interface Edge {
  readonly a: number
  readonly b: number
  readonly kind: string
}

/** The identifiers members share, one row per (member, kind, value), from a 0-member start. */
function keys(maxShared: number): Fragment {
  return sql`
    WITH raw AS (
      SELECT member_id, 'device' AS kind, json_extract_string(attributes, '$.device_id') AS value FROM members
      UNION ALL
      SELECT member_id, 'address', lower(trim(json_extract_string(attributes, '$.address'))) FROM members
      UNION ALL
      SELECT member_id, 'device', json_extract_string(properties, '$.device_id') FROM events
       WHERE member_id IS NOT NULL AND properties IS NOT NULL
      UNION ALL
      SELECT member_id, 'phone_block', substr(identity_value, 1, 10) FROM identities
       WHERE identity_type = 'phone' AND length(identity_value) = 13 AND identity_value LIKE '86%'),
    k AS (SELECT DISTINCT member_id, kind, value FROM raw WHERE value IS NOT NULL AND value <> ''),
    shared AS (
      SELECT kind, value, min(member_id) AS root FROM k GROUP BY kind, value
      HAVING count(*) BETWEEN 2 AND ${maxShared}),
    edges AS (
      SELECT k.member_id AS a, s.root AS b, k.kind FROM k JOIN shared s USING (kind, value)
       WHERE k.member_id <> s.root
      UNION ALL
      SELECT m.member_id, i.member_id, 'referral' FROM members m
        JOIN identities i ON i.identity_type = 'phone'
         AND i.identity_value = '86' || json_extract_string(m.attributes, '$.referrer_phone')
       WHERE m.member_id <> i.member_id)`
}

function checkOptions(o: FarmingOptions): void {
  const bad = (field: string, v: number, reason: string) =>
    InputError.single({ field, value: String(v), reason })
  if (!Number.isInteger(o.minSize) || o.minSize < 2) throw bad('minSize', o.minSize, 'at least 2')
  if (!Number.isInteger(o.maxShared) || o.maxShared < o.minSize)
    throw bad('maxShared', o.maxShared, 'a whole number at least minSize')
  for (const [f, v] of [
    ['burstHours', o.burstHours],
    ['clockworkSeconds', o.clockworkSeconds],
    ['tokenSpend', o.tokenSpend],
  ] as const) {
    if (!(Number.isFinite(v) && v > 0)) throw bad(f, v, 'a positive number')
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

/** Finds the farming rings in the member database (see the module notes for the rule). */
export async function detectFarming(
  driver: DuckDbDriver,
  options: Partial<FarmingOptions> = {},
): Promise<FarmingReport> {
  const o: FarmingOptions = { ...DEFAULT_FARMING_OPTIONS, ...options }
  checkOptions(o)
  const edges = (
    await driver.all<{ a: unknown; b: unknown; kind: string }>(
      sql`${keys(o.maxShared)} SELECT a, b, kind FROM edges`,
    )
  ).map((e): Edge => ({ a: Number(e.a), b: Number(e.b), kind: e.kind }))

  // Connected components by union–find with path halving.
  const parent = new Map<number, number>()
  const find = (x: number): number => {
    let r = x
    for (;;) {
      const p = parent.get(r) ?? r
      if (p === r) break
      const g = parent.get(p) ?? p
      parent.set(r, g)
      r = g
    }
    return r
  }
  for (const e of edges) {
    if (!parent.has(e.a)) parent.set(e.a, e.a)
    if (!parent.has(e.b)) parent.set(e.b, e.b)
    const ra = find(e.a)
    const rb = find(e.b)
    if (ra !== rb) parent.set(Math.max(ra, rb), Math.min(ra, rb))
  }
  const groups = new Map<number, number[]>()
  for (const m of parent.keys()) {
    const r = find(m)
    const g = groups.get(r)
    if (g) g.push(m)
    else groups.set(r, [m])
  }
  const candidates = [...groups.values()].filter((g) => g.length >= o.minSize)

  // Behaviour of the linked members, aggregated in SQL.
  const features = await driver.all<{
    memberId: unknown
    regS: unknown
    spend: unknown
    pointsUsed: unknown
    checkIns: unknown
    todSd: unknown
  }>(sql`${keys(o.maxShared)},
    linked AS (SELECT a AS member_id FROM edges UNION SELECT b FROM edges),
    o AS (
      SELECT member_id, sum(net_amount) AS spend, sum(COALESCE(points_used, 0)) AS points_used FROM orders
       WHERE status <> 'cancelled' AND member_id IN (SELECT member_id FROM linked) GROUP BY member_id),
    c AS (
      SELECT member_id, count(*) AS check_ins,
             least(stddev_pop(tod), stddev_pop((tod + 43200) % 86400)) AS tod_sd
        FROM (SELECT member_id, epoch(ts)::BIGINT % 86400 AS tod FROM events
               WHERE event_type = 'check_in' AND member_id IN (SELECT member_id FROM linked))
       GROUP BY member_id)
    SELECT m.member_id, epoch(m.registered_at) AS reg_s, COALESCE(o.spend, 0) AS spend,
           COALESCE(o.points_used, 0) AS points_used, COALESCE(c.check_ins, 0) AS check_ins, c.tod_sd
      FROM members m JOIN linked l ON l.member_id = m.member_id
      LEFT JOIN o ON o.member_id = m.member_id LEFT JOIN c ON c.member_id = m.member_id`)
  const byMember = new Map(
    features.map((f) => [
      Number(f.memberId),
      {
        reg: Number(f.regS),
        spend: Number(f.spend),
        pointsUsed: Number(f.pointsUsed),
        checkIns: Number(f.checkIns),
        todSd: f.todSd === null || f.todSd === undefined ? null : Number(f.todSd),
      },
    ]),
  )
  const linkKinds = new Map<number, Record<string, number>>()
  for (const e of edges) {
    const r = find(e.a)
    const k = linkKinds.get(r) ?? {}
    k[e.kind] = (k[e.kind] ?? 0) + 1
    linkKinds.set(r, k)
  }

  const rings: Omit<FarmingRing, 'ring'>[] = []
  for (const g of candidates) {
    const f = g.map((m) => byMember.get(m)).filter((x) => x !== undefined)
    if (f.length < o.minSize) continue
    const regs = f.map((x) => x.reg)
    const span = (Math.max(...regs) - Math.min(...regs)) / 3600
    const clockwork =
      f.filter((x) => x.checkIns >= 5 && x.todSd !== null && x.todSd <= o.clockworkSeconds).length /
      f.length
    const med = median(f.map((x) => x.spend))
    const reasons: string[] = []
    if (span <= o.burstHours)
      reasons.push(`${g.length} linked accounts registered within ${span.toFixed(1)} hours`)
    if (clockwork >= 0.5)
      reasons.push(`${Math.round(clockwork * 100)}% check in at the same time of day`)
    if (med < o.tokenSpend) reasons.push(`median spend ${med.toFixed(2)} per account`)
    const flagged = span <= o.burstHours && (clockwork >= 0.5 || med < o.tokenSpend)
    if (!flagged) continue
    const sorted = [...g].sort((a, b) => a - b)
    let redeemer: number | null = null
    let most = 0
    for (const m of sorted) {
      const p = byMember.get(m)?.pointsUsed ?? 0
      if (p > most) {
        most = p
        redeemer = m
      }
    }
    rings.push({
      memberIds: sorted,
      redeemer,
      registeredSpanHours: span,
      clockworkShare: clockwork,
      medianSpend: med,
      pointsSpent: f.reduce((a, x) => a + x.pointsUsed, 0),
      links: linkKinds.get(find(g[0] as number)) ?? {},
      reasons,
    })
  }
  rings.sort(
    (a, b) =>
      b.memberIds.length - a.memberIds.length || (a.memberIds[0] ?? 0) - (b.memberIds[0] ?? 0),
  )
  return {
    options: o,
    linkedMembers: parent.size,
    groups: candidates.length,
    rings: rings.map((r, i) => ({ ring: i + 1, ...r })),
    flaggedMembers: rings.reduce((a, r) => a + r.memberIds.length, 0),
  }
}

export interface FarmingEvaluation {
  /** Planted ring accounts found in the database (by phone). */
  readonly plantedMembers: number
  readonly flaggedMembers: number
  readonly truePositives: number
  readonly precision: number | null
  readonly recall: number | null
  readonly plantedRings: number
  /** Planted rings with at least half their accounts in one flagged ring. */
  readonly ringsFound: number
}

/**
 * Precision and recall of the flagged members against planted rings given by phone (11 digits), as truth.json
 * `farming.rings[].members` lists them.
 */
export async function evaluateFarming(
  driver: DuckDbDriver,
  report: FarmingReport,
  rings: ReadonlyArray<{ readonly members: readonly string[] }>,
): Promise<FarmingEvaluation> {
  const phones = rings.flatMap((r) => r.members)
  // Identities hold phones with the country code; one comma-separated parameter carries them all.
  const wanted = phones.map((p) => `86${p}`).join(',')
  const rows =
    phones.length === 0
      ? []
      : await driver.all<{ identityValue: string; memberId: unknown }>(
          sql`SELECT identity_value, member_id FROM identities
               WHERE identity_type = 'phone'
                 AND list_contains(string_split(${wanted}, ','), identity_value)`,
        )
  const memberOf = new Map(rows.map((r) => [r.identityValue.slice(2), Number(r.memberId)]))
  const planted = new Set<number>()
  for (const p of phones) {
    const m = memberOf.get(p)
    if (m !== undefined) planted.add(m)
  }
  const flagged = new Set(report.rings.flatMap((r) => r.memberIds))
  let tp = 0
  for (const m of flagged) if (planted.has(m)) tp++
  let found = 0
  for (const r of rings) {
    const ids = r.members.map((p) => memberOf.get(p)).filter((m) => m !== undefined)
    const best = Math.max(
      0,
      ...report.rings.map((f) => ids.filter((m) => f.memberIds.includes(m)).length),
    )
    if (ids.length > 0 && best * 2 >= ids.length) found++
  }
  return {
    plantedMembers: planted.size,
    flaggedMembers: flagged.size,
    truePositives: tp,
    precision: flagged.size === 0 ? null : tp / flagged.size,
    recall: planted.size === 0 ? null : tp / planted.size,
    plantedRings: rings.length,
    ringsFound: found,
  }
}

export interface HoldSummary {
  readonly at: string
  readonly heldUntil: string
  readonly reviewDays: number
  /** Holds placed now (a repeated run with the same date places none again). */
  readonly placed: number
  readonly repeated: number
  readonly heldPoints: number
  /** Flagged members the ledger does not know (never enrolled). */
  readonly notEnrolled: number
}

/**
 * Places a hold (`ledger/holds.ts`) on the points of every member of a flagged ring, for `reviewDays` from `at`,
 * with the ring's reasons. Keys `farming:<day>:<member>` make a second run on the same day a no-op.
 */
export async function holdFlaggedMembers(
  ledger: Ledger,
  report: FarmingReport,
  options: { at: Date; reviewDays: number },
): Promise<HoldSummary> {
  const day = options.at.toISOString().slice(0, 10)
  let placed = 0
  let repeated = 0
  let heldPoints = 0
  let notEnrolled = 0
  for (const ring of report.rings) {
    const reason = `farming ring ${ring.ring} (${ring.memberIds.length} accounts): ${ring.reasons.join('; ')}`
    for (const m of ring.memberIds) {
      try {
        const r = await placeHold(ledger, {
          memberId: String(m),
          idempotencyKey: `farming:${day}:${m}`,
          reason,
          reviewDays: options.reviewDays,
          at: options.at,
        })
        if (r.replayed) repeated++
        else placed++
        heldPoints += Number(r.details['heldPoints'] ?? 0)
      } catch (error) {
        if (error instanceof NotFoundError) notEnrolled++
        else throw error
      }
    }
  }
  return {
    at: options.at.toISOString(),
    heldUntil: new Date(options.at.getTime() + options.reviewDays * 86_400_000).toISOString(),
    reviewDays: options.reviewDays,
    placed,
    repeated,
    heldPoints,
    notEnrolled,
  }
}
