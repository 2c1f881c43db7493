/**
 * Naming members the way the source systems do, shared by every command that exports or looks up members:
 * `--ids phone,customer_id,…` adds the members' source identities as columns of a per-member export, and
 * {@link resolveMemberFlag} reads a `--member` value as `members show` reads its query (a member id, an
 * identity `type:value`, or a bare identity value).
 * @module
 */
import { InvalidArgumentError, Option } from 'commander'
import { IDENTITY_TYPES, type IdentityType } from '../core/schema.js'
import { InputError, NotFoundError } from '../core/errors.js'
import type { Driver } from '../engine/drivers/driver.js'
import { parseIdentityList } from '../engine/segments/identity-columns.js'
import { findMemberId } from '../duckdb/members/member-profile.js'

/** The flag {@link idsOption} adds, as commander names it (absent when not given). */
export interface IdsFlags {
  readonly ids?: readonly IdentityType[]
}

/** `--ids <types>`: identity types separated by commas, checked where the command line is read. */
export function idsOption(what = 'add these source identities as columns'): Option {
  return new Option(
    '--ids <types>',
    `${what} (first seen of each type; phones in E.164): ${IDENTITY_TYPES.join(', ')}, separated by commas`,
  ).argParser((value: string) => {
    try {
      return parseIdentityList(value)
    } catch (error) {
      if (error instanceof InputError) {
        const issue = error.issues[0]
        throw new InvalidArgumentError(
          `${issue?.value === undefined ? '' : `${issue.value}: `}${issue?.reason ?? error.message}`,
        )
      }
      throw error
    }
  })
}

/**
 * The member a `--member` value names, read as `memberlens members show` reads its query: a member id, an
 * identity `type:value` (`customer_id:17123`, `phone:13800138000`) or a bare identity value. Throws
 * InputError naming the flag and the value when no member matches.
 */
export async function resolveMemberFlag(
  driver: Driver,
  value: string,
  flag = '--member',
  countryCode = '86',
): Promise<number> {
  let id: bigint | undefined
  try {
    id = await findMemberId(driver, value, { defaultCountryCode: countryCode })
  } catch (error) {
    if (error instanceof NotFoundError) id = undefined
    else throw error
  }
  if (id === undefined) {
    throw InputError.single({
      field: flag,
      value,
      reason:
        'no member has this id or identity (give a member id, or type:value such as customer_id:17123 or phone:13800138000)',
    })
  }
  return Number(id)
}
