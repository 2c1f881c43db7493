/**
 * How well identity resolution (One-ID) did, measured against records whose persons are known (the
 * simulator's `identityCases` truth): pairwise precision and recall over source records, the planted hard
 * cases one by one, and how many members are known in one, two, or three and more channels.
 *
 * A record's resolved member is the member holding its strongest identity, in the order card number, app user
 * id, WeChat unionid, POS customer id, e-mail, phone (a phone is the identifier most often shared or reused).
 * Two records are a predicted pair when they resolved to one member, a true pair when they belong to one
 * person. Precision = correct pairs ÷ predicted pairs, recall = correct pairs ÷ true pairs (null without pairs).
 * @module
 */
import { phoneReader } from '../../core/phone.js'
import type { IdentityType } from '../../core/schema.js'
import type { Driver } from '../../engine/drivers/driver.js'
import { join, sql, type Fragment } from '../../engine/sql/fragment.js'
import { identityValid, normalizeIdentity, type IdentityContext } from '../identity.js'

/** The order in which a record's identities are tried. */
export const IDENTITY_STRENGTH: readonly IdentityType[] = [
  'card_no',
  'app_user_id',
  'wechat_unionid',
  'pos_customer_id',
  'email',
  'phone',
]

/** A source record and the person it belongs to. */
export interface LabelledRecord {
  readonly file: string
  readonly line: number
  readonly person: number
  /** A planted hard case, or null. */
  readonly case: string | null
  readonly identities: Partial<Record<IdentityType, string>>
}

export interface CaseQuality {
  readonly case: string
  readonly records: number
  /** Records resolved as the truth says: merged with their person's other records and with no one else's. */
  readonly correct: number
}

export interface IdentityQuality {
  readonly records: number
  /** Records none of whose identities is in the database (they are left out of the pairs). */
  readonly unresolved: number
  readonly truePairs: number
  readonly predictedPairs: number
  readonly correctPairs: number
  readonly precision: number | null
  readonly recall: number | null
  readonly cases: readonly CaseQuality[]
}

const pairs = (n: number) => (n * (n - 1)) / 2

/** The member each record resolved to (undefined when none of its identities is known). */
async function resolveRecords(
  driver: Driver,
  records: readonly LabelledRecord[],
  ctx: IdentityContext,
): Promise<(bigint | undefined)[]> {
  const readPhone = phoneReader(ctx.defaultCountryCode)
  const rows: Fragment[] = []
  records.forEach((r, i) => {
    IDENTITY_STRENGTH.forEach((type, rank) => {
      const raw = r.identities[type]
      if (raw === undefined || raw === '') return
      if (type === 'phone') {
        const p = readPhone(raw)
        if (p.ok) rows.push(sql`(${i}, ${rank}, ${type}, ${p.value})`)
        return
      }
      rows.push(sql`(${i}, ${rank}, ${type}, ${raw})`)
    })
  })
  const out: (bigint | undefined)[] = records.map(() => undefined)
  const norm = (t: Exclude<IdentityType, 'phone'>) => normalizeIdentity(t, sql`q.raw`)
  const stored = sql`CASE q.identity_type ${join(
    IDENTITY_STRENGTH.filter((t): t is Exclude<IdentityType, 'phone'> => t !== 'phone').map(
      (t) => sql`WHEN ${t} THEN CASE WHEN ${identityValid(t, norm(t))} THEN ${norm(t)} END`,
    ),
    ' ',
  )} ELSE q.raw END`
  // In chunks: one statement's parameters stay few.
  for (let k = 0; k < rows.length; k += 2000) {
    const chunk = rows.slice(k, k + 2000)
    const found = await driver.all<{ rec: number; memberId: bigint }>(sql`
      SELECT rec, arg_min(member_id, rank) AS member_id FROM (
        SELECT q.rec, q.rank, e.member_id
        FROM (VALUES ${join(chunk)}) AS q(rec, rank, identity_type, raw)
        JOIN identities e ON e.identity_type = q.identity_type AND e.identity_value = ${stored}
      ) x GROUP BY rec`)
    for (const f of found) {
      const rec = Number(f.rec)
      // A record split over chunks keeps the member of its strongest identity (chunks follow rank order).
      if (out[rec] === undefined) out[rec] = f.memberId
    }
  }
  return out
}

/** Pairwise precision and recall of the resolved members against the records' persons. */
export async function measureIdentityQuality(
  driver: Driver,
  records: readonly LabelledRecord[],
  ctx: IdentityContext = { defaultCountryCode: '86' },
): Promise<IdentityQuality> {
  const members = await resolveRecords(driver, records, ctx)
  const byPerson = new Map<number, number>()
  const byMember = new Map<string, number>()
  const byCell = new Map<string, number>()
  let unresolved = 0
  records.forEach((r, i) => {
    const m = members[i]
    if (m === undefined) {
      unresolved++
      return
    }
    byPerson.set(r.person, (byPerson.get(r.person) ?? 0) + 1)
    byMember.set(String(m), (byMember.get(String(m)) ?? 0) + 1)
    const cell = `${r.person}|${m}`
    byCell.set(cell, (byCell.get(cell) ?? 0) + 1)
  })
  const sum = (m: Map<unknown, number>) => [...m.values()].reduce((t, n) => t + pairs(n), 0)
  const truePairs = sum(byPerson)
  const predictedPairs = sum(byMember)
  const correctPairs = sum(byCell)
  // Per case: a record is right when its member holds exactly its person's (resolved) records.
  const cases = new Map<string, { records: number; correct: number }>()
  records.forEach((r, i) => {
    if (r.case === null) return
    const c = cases.get(r.case) ?? { records: 0, correct: 0 }
    c.records++
    const m = members[i]
    if (m !== undefined) {
      const cell = byCell.get(`${r.person}|${m}`) ?? 0
      if (cell === byPerson.get(r.person) && cell === byMember.get(String(m))) c.correct++
    }
    cases.set(r.case, c)
  })
  return {
    records: records.length,
    unresolved,
    truePairs,
    predictedPairs,
    correctPairs,
    precision: predictedPairs > 0 ? correctPairs / predictedPairs : null,
    recall: truePairs > 0 ? correctPairs / truePairs : null,
    cases: [...cases.entries()].map(([k, v]) => ({ case: k, ...v })),
  }
}

export interface LinkedChannels {
  readonly members: number
  /** Members known in exactly 1, exactly 2, and 3 or more channels. */
  readonly one: number
  readonly two: number
  readonly threeOrMore: number
  /** Members known in each channel, largest first. */
  readonly channels: readonly { readonly channel: string; readonly members: number }[]
}

/**
 * How many members are known in one, two, or three and more channels: the channels of a member are its
 * registration channel, the channels where its identities were first seen and the channels of its orders.
 */
export async function getLinkedChannels(driver: Driver): Promise<LinkedChannels> {
  const mc = sql`SELECT DISTINCT member_id, channel FROM (
      SELECT member_id, registration_channel AS channel FROM members
      UNION ALL SELECT member_id, source_channel FROM identities
      UNION ALL SELECT member_id, channel FROM orders WHERE member_id IS NOT NULL
    ) x WHERE channel IS NOT NULL AND channel <> ''`
  const c = await driver.first<Record<string, bigint>>(sql`
    WITH n AS (
      SELECT m.member_id, count(mc.channel) AS k FROM members m LEFT JOIN (${mc}) mc ON mc.member_id = m.member_id
      GROUP BY m.member_id
    )
    SELECT count(*) AS members, count(*) FILTER (WHERE k <= 1) AS one, count(*) FILTER (WHERE k = 2) AS two,
      count(*) FILTER (WHERE k >= 3) AS three FROM n`)
  const channels = await driver.all<{ channel: string; members: bigint }>(
    sql`SELECT channel, count(*) AS members FROM (${mc}) mc GROUP BY channel ORDER BY 2 DESC, 1`,
  )
  return {
    members: Number(c?.['members'] ?? 0),
    one: Number(c?.['one'] ?? 0),
    two: Number(c?.['two'] ?? 0),
    threeOrMore: Number(c?.['three'] ?? 0),
    channels: channels.map((r) => ({ channel: r.channel, members: Number(r.members) })),
  }
}
