/**
 * Member look-up: by member id or by any identity, with every identity of the resolved member, its merges and
 * a short purchase summary.
 * @module
 */
import { NotFoundError } from '../../core/errors.js'
import { IDENTITY_TYPES, type IdentityType } from '../../core/schema.js'
import type { Driver } from '../../engine/drivers/driver.js'
import { phoneReader } from '../../core/phone.js'
import { join, sql, type Fragment } from '../../engine/sql/fragment.js'
import { getMemberCadence } from '../../engine/categories/purchase-intervals.js'
import { identityValid, normalizeIdentity, type IdentityContext } from '../identity.js'

export interface MemberProfile {
  readonly member: Record<string, unknown>
  readonly identities: ReadonlyArray<Record<string, unknown>>
  readonly mergedFrom: ReadonlyArray<Record<string, unknown>>
  readonly purchases: {
    readonly orders: number
    readonly netAmount: number
    readonly returnsAmount: number
    readonly firstOrderAt: string | null
    readonly lastOrderAt: string | null
    /** Distinct purchase days (UTC). */
    readonly purchaseDays: number
    /** The member's own cadence: median and P90 of the days between purchase days; null with one day or none. */
    readonly medianGapDays: number | null
    readonly p90GapDays: number | null
  }
}

/**
 * Finds the member a query names. Forms: `type:value` (e.g. `phone:13800138000`), a member id, or a bare
 * identity value tried against every identity type (normalised as that type). Returns undefined when nothing
 * matches.
 */
export async function findMemberId(
  driver: Driver,
  query: string,
  ctx: IdentityContext = { defaultCountryCode: '86' },
): Promise<bigint | undefined> {
  const q = query.trim()
  const typed = /^([a-z_]+):(.+)$/.exec(q)
  if (typed && (IDENTITY_TYPES as readonly string[]).includes(typed[1] as string)) {
    return lookupIdentity(driver, [typed[1] as IdentityType], typed[2] as string, ctx)
  }
  if (/^\d{1,18}$/.test(q)) {
    const m = await driver.first<{ memberId: bigint }>(
      sql`SELECT member_id FROM members WHERE member_id = ${BigInt(q)}`,
    )
    if (m) return m.memberId
  }
  return lookupIdentity(driver, IDENTITY_TYPES, q, ctx)
}

async function lookupIdentity(
  driver: Driver,
  types: readonly IdentityType[],
  value: string,
  ctx: IdentityContext,
): Promise<bigint | undefined> {
  const v = sql`${value}::VARCHAR`
  const arms: Fragment[] = []
  for (const t of types) {
    if (t === 'phone') {
      // Read exactly as ingest reads a phone, so every written form finds the stored number.
      const phone = phoneReader(ctx.defaultCountryCode)(value)
      if (phone.ok)
        arms.push(
          sql`SELECT member_id FROM identities WHERE identity_type = 'phone' AND identity_value = ${phone.value}`,
        )
      continue
    }
    const norm = normalizeIdentity(t, v)
    arms.push(
      sql`SELECT member_id FROM identities WHERE identity_type = ${t} AND ${identityValid(t, norm)} AND identity_value = ${norm}`,
    )
  }
  if (arms.length === 0) return undefined
  const r = await driver.first<{ memberId: bigint }>(
    sql`SELECT min(member_id) AS member_id FROM (${join(arms, ' UNION ALL ')})`,
  )
  return r?.memberId ?? undefined
}

/** The profile of the member a query names; throws {@link NotFoundError} when there is none. */
export async function getMemberProfile(
  driver: Driver,
  query: string,
  ctx?: IdentityContext,
): Promise<MemberProfile> {
  const id = await findMemberId(driver, query, ctx)
  if (id === undefined || id === null)
    throw new NotFoundError(`no member matches ${JSON.stringify(query)}`)
  const member = await driver.first(sql`SELECT * FROM members WHERE member_id = ${id}`)
  if (!member) throw new NotFoundError(`no member matches ${JSON.stringify(query)}`)
  const identities = await driver.all(sql`SELECT identity_type, identity_value, source_channel,
      strftime(first_seen_at, '%Y-%m-%d %H:%M:%S') AS first_seen_at
    FROM identities WHERE member_id = ${id} ORDER BY first_seen_at NULLS LAST, identity_type, identity_value`)
  const mergedFrom =
    await driver.all(sql`SELECT from_member_id, identity_type, identity_value, source_file, source_line
    FROM member_merges WHERE into_member_id = ${id} ORDER BY merge_id`)
  const p = await driver.first<
    Record<string, unknown>
  >(sql`SELECT count(*) AS orders, coalesce(sum(net_amount), 0)::DOUBLE AS net_amount,
      strftime(min(ordered_at), '%Y-%m-%d %H:%M:%S') AS first_order_at, strftime(max(ordered_at), '%Y-%m-%d %H:%M:%S') AS last_order_at,
      (SELECT coalesce(sum(amount), 0)::DOUBLE FROM returns WHERE member_id = ${id}) AS returns_amount
    FROM orders WHERE member_id = ${id} AND status <> 'cancelled'`)
  const cadence = await getMemberCadence(driver, Number(id))
  return {
    member,
    identities,
    mergedFrom,
    purchases: {
      orders: Number(p?.['orders'] ?? 0),
      netAmount: Number(p?.['netAmount'] ?? 0),
      returnsAmount: Number(p?.['returnsAmount'] ?? 0),
      firstOrderAt: (p?.['firstOrderAt'] as string | null) ?? null,
      lastOrderAt: (p?.['lastOrderAt'] as string | null) ?? null,
      purchaseDays: cadence.purchaseDays,
      medianGapDays: cadence.medianGapDays,
      p90GapDays: cadence.p90GapDays,
    },
  }
}

/** The merge log, newest first. */
export async function listMerges(
  driver: Driver,
  limit = 50,
): Promise<Array<Record<string, unknown>>> {
  return driver.all(sql`SELECT merge_id, load_id, from_member_id, into_member_id, identity_type, identity_value,
      source_file, source_line FROM member_merges ORDER BY merge_id DESC LIMIT ${limit}`)
}

/**
 * Identifiers kept on members but not used to merge them (deny list, or shared by too many members), most
 * recent first: one row per identifier, with how many members carry it and where it was first held back.
 */
export async function listSharedIdentities(
  driver: Driver,
  limit = 50,
): Promise<Array<Record<string, unknown>>> {
  // A database written before the table existed, opened read-only, has none.
  const exists = await driver.first(
    sql`SELECT 1 AS x FROM information_schema.tables WHERE table_name = 'shared_identities'`,
  )
  if (exists === undefined) return []
  return driver.all(sql`SELECT identity_type, identity_value, count(*) AS members,
      first(reason ORDER BY load_id, source_line) AS reason, min(load_id) AS first_load_id,
      first(source_file ORDER BY load_id, source_line) AS source_file,
      first(source_line ORDER BY load_id, source_line) AS source_line
    FROM shared_identities GROUP BY identity_type, identity_value
    ORDER BY max(load_id) DESC, identity_type, identity_value LIMIT ${limit}`)
}
