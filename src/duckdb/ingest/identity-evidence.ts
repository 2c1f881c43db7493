/**
 * Evidence against a phone link on a registration. A phone number is the identifier most often shared (a
 * family's one number) or reused (a carrier reassigns a number some months after its owner stopped paying for
 * it). A registration record (a row of a members file) that reaches an existing member only through its phone,
 * and that carries another identifier of its own, is kept apart from that member when the record itself says it
 * is someone else:
 * - **recycled number**: the member had no activity (registration, order, event) in the
 *   {@link LinkEvidenceOptions.recycledAfterDays} days before the record's registration time;
 * - **conflicting attributes**: the record's birthday and the member's are both known and differ, or both
 *   genders are female/male and differ ({@link LinkEvidenceOptions.attributeConflicts}).
 *
 * The refused link is handled like a link refused for an exclusive identity type (see `identity-resolution.ts`):
 * the record stays with its other identifiers, and the phone is written to `shared_identities` for both members
 * with the reason, for review. A record with nothing but the phone is still found through it.
 * @module
 */
import type { DuckDbDriver } from '../driver.js'
import { sql, type Fragment } from '../../engine/sql/fragment.js'

export interface LinkEvidenceOptions {
  /**
   * A registration's phone does not join a member with no activity in this many days before the registration
   * (default {@link DEFAULT_RECYCLED_AFTER_DAYS}); null switches the rule off.
   */
  readonly recycledAfterDays?: number | null
  /** A registration's phone does not join a member whose birthday or gender differs (default true). */
  readonly attributeConflicts?: boolean
}

/**
 * Chinese carriers suspend a number some months after its owner stops paying, reclaim it and reassign it only
 * after a further quiet period: a reassigned number has been out of its owner's hands for about half a year.
 */
export const DEFAULT_RECYCLED_AFTER_DAYS = 180

/** The reason written to `shared_identities` for a recycled number. */
export function recycledReason(days: number): string {
  return `member inactive for more than ${days} days before this registration`
}

export const CONFLICT_REASON = 'different birthday or gender on this registration'

/**
 * Builds `_ml_veto(_line, member_id, reason)`: the links from the records of `_ml_ids` to existing members that
 * the evidence refuses. `attributes` is the table `(_line, birthday DATE, gender VARCHAR)` of the records, or
 * undefined when the file has neither column. Returns the number of vetoed links.
 */
export async function buildLinkVetoes(
  driver: DuckDbDriver,
  options: LinkEvidenceOptions,
  attributes: Fragment | undefined,
): Promise<number> {
  const days =
    options.recycledAfterDays === undefined
      ? DEFAULT_RECYCLED_AFTER_DAYS
      : options.recycledAfterDays
  const conflicts = (options.attributeConflicts ?? true) && attributes !== undefined
  await driver.execute(
    sql`CREATE OR REPLACE TEMP TABLE _ml_veto (_line BIGINT, member_id BIGINT, reason VARCHAR)`,
  )
  if (days === null && !conflicts) return 0
  // Links through a phone to a known member, on records that carry more than that link and reach the member
  // through nothing else.
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_vcand AS
    SELECT DISTINCT i._line, e.member_id, i._ts
    FROM _ml_ids i JOIN identities e USING (identity_type, identity_value)
    WHERE i.identity_type = 'phone' AND i._nids > 1
      AND NOT EXISTS (SELECT 1 FROM _ml_ids o JOIN identities f USING (identity_type, identity_value)
        WHERE o._line = i._line AND o.identity_type <> 'phone' AND f.member_id = e.member_id)
      AND NOT EXISTS (SELECT 1 FROM _ml_memref r WHERE r._line = i._line AND r.member_id = e.member_id)`)
  const arms: Fragment[] = []
  if (days !== null) {
    arms.push(sql`SELECT c._line, c.member_id, ${recycledReason(days)} AS reason
      FROM _ml_vcand c JOIN (
        SELECT member_id, max(t) AS last_at FROM (
          SELECT member_id, registered_at AS t FROM members WHERE member_id IN (SELECT member_id FROM _ml_vcand)
          UNION ALL SELECT member_id, ordered_at FROM orders WHERE member_id IN (SELECT member_id FROM _ml_vcand)
          UNION ALL SELECT member_id, ts FROM events WHERE member_id IN (SELECT member_id FROM _ml_vcand)
        ) GROUP BY member_id
      ) a USING (member_id)
      WHERE c._ts IS NOT NULL AND a.last_at < c._ts - to_days(${days}::INTEGER)`)
  }
  if (conflicts && attributes !== undefined) {
    arms.push(sql`SELECT c._line, c.member_id, ${CONFLICT_REASON} AS reason
      FROM _ml_vcand c JOIN ${attributes} r USING (_line) JOIN members m USING (member_id)
      WHERE (r.birthday IS NOT NULL AND m.birthday IS NOT NULL AND r.birthday <> m.birthday)
        OR (r.gender IN ('female', 'male') AND m.gender IN ('female', 'male') AND r.gender <> m.gender)`)
  }
  // One reason per link: the first rule that refuses it.
  await driver.execute(sql`INSERT INTO _ml_veto
    SELECT _line, member_id, first(reason ORDER BY k) FROM (
      ${arms.length === 1 ? sql`SELECT *, 0 AS k FROM (${arms[0] as Fragment})` : sql`SELECT *, 0 AS k FROM (${arms[0] as Fragment}) UNION ALL SELECT *, 1 FROM (${arms[1] as Fragment})`}
    ) GROUP BY _line, member_id`)
  const n = await driver.first<{ n: bigint }>(sql`SELECT count(*) AS n FROM _ml_veto`)
  return Number(n?.n ?? 0)
}
