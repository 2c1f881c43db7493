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
 * `rows` with each member's identities of `types` by type (null where it has none) as `identities`; the rows
 * unchanged when no types are asked for. `pii` false masks every value.
 */
export async function withIdentities<R extends { readonly memberId: number }>(
  driver: Driver,
  rows: readonly R[],
  types: readonly IdentityType[],
  pii: boolean,
): Promise<(R | (R & { identities: Record<string, string | null> }))[]> {
  if (types.length === 0) return [...rows]
  const columns = await memberIdentityColumns(
    driver,
    rows.map((r) => r.memberId),
    types,
  )
  return rows.map((row) => {
    const values = identityValues(columns, row.memberId, types)
    const identities = Object.fromEntries(
      types.map((t, k) => {
        const v = values[k] ?? null
        return [t, v === null || pii ? v : maskIdentity(t, v)]
      }),
    )
    return { ...row, identities }
  })
}
