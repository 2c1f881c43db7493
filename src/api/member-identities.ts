/**
 * Source identities for the members of a per-member API list (`ids=customer_id,phone`), so a list can be
 * joined back to the system the members came from: the first-seen identity of each type, phones in E.164
 * (the rule of the CLI's `--ids`), masked for roles without the `pii` scope.
 * @module
 */
import type { IdentityType } from '../core/schema.js'
import type { Driver } from '../engine/drivers/driver.js'
import { identityValues, memberIdentityColumns } from '../engine/segments/identity-columns.js'
import { maskIdentity } from './masking.js'

/**
 * For each member id, its identities of `types` by type (null where it has none); an empty map when no
 * types are asked for. `pii` false masks every value.
 */
export async function identitiesForMembers(
  driver: Driver,
  memberIds: readonly number[],
  types: readonly IdentityType[],
  pii: boolean,
): Promise<(memberId: number) => Record<string, string | null> | undefined> {
  if (types.length === 0) return () => undefined
  const columns = await memberIdentityColumns(driver, memberIds, types)
  return (memberId) => {
    const values = identityValues(columns, memberId, types)
    return Object.fromEntries(
      types.map((t, k) => {
        const v = values[k] ?? null
        return [t, v === null || pii ? v : maskIdentity(t, v)]
      }),
    )
  }
}
