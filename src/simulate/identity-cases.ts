/**
 * The hard cases of identity resolution (One-ID), planted on request (`identityCases`, off by default so the
 * default files do not change), and the truth to measure resolution against: which source records belong to
 * one person.
 *
 * The cases, each written as a registration row of `identity_cases.csv` (the members file's columns):
 * - `placeholder_phone`: store staff key the placeholder number 13800000000 for persons who gave none; each of
 *   these new persons has their own loyalty card. Different persons: they must not be merged.
 * - `email_typo`: a person registers again in the app with their own phone and a mistyped e-mail. The same
 *   person: resolution should merge the row into them (through the phone).
 * - `shared_family_phone`: a family member registers with the phone of a person already in the file and their
 *   own WeChat unionid. A different person that shares an identifier.
 * - `recycled_phone`: a new person registers at the end of the window with a number that belonged to a person
 *   registered before (carriers reassign numbers), and their own app account. A different person.
 *
 * Everything here draws from its own random stream, so planting the cases changes no other file.
 * @module
 */
import { IdentityCodes, formatPhone } from './identity-codes.js'
import type { Rng } from '../core/random.js'

/** The store placeholder number of the `placeholder_phone` case. */
export const PLACEHOLDER_PHONE = '13800000000'

export const IDENTITY_CASES = [
  'placeholder_phone',
  'email_typo',
  'shared_family_phone',
  'recycled_phone',
] as const
export type IdentityCase = (typeof IDENTITY_CASES)[number]

/** Identity values of a record as written (phones as 11 digits, e-mails lower-case and trimmed). */
export interface RecordIdentities {
  phone?: string
  email?: string
  app_user_id?: string
  card_no?: string
  wechat_unionid?: string
}

/** One source record (a registration row) and the person it belongs to. */
export interface IdentityRecord {
  /** `members.csv` or `identity_cases.csv`. */
  readonly file: string
  /** 1-based line in the file (the header is line 1). */
  readonly line: number
  /** 0-based person number; planted new persons are numbered after the simulated ones. */
  readonly person: number
  /** The planted case, or null for an ordinary row. */
  readonly case: IdentityCase | null
  readonly identities: RecordIdentities
}

export interface IdentityCasesTruth {
  readonly description: string
  readonly placeholderPhone: string
  /** Rows planted per case. */
  readonly planted: Readonly<Record<IdentityCase, number>>
  /** Every registration record of both files with its person. */
  readonly records: readonly IdentityRecord[]
}

/** A member row's identity columns (the last five of the members file) as record identities. */
export function rowIdentities(line: string): RecordIdentities {
  const [phone = '', email = '', app = '', card = '', wechat = ''] = line.split(',').slice(-5)
  const out: RecordIdentities = {}
  const digits = phone.replace(/\D/g, '').replace(/^86(?=1\d{10}$)/, '')
  if (digits) out.phone = digits
  if (email.trim()) out.email = email.trim().toLowerCase()
  if (app) out.app_user_id = app
  if (card) out.card_no = card
  if (wechat) out.wechat_unionid = wechat
  return out
}

/** An e-mail with one typing slip in its name: two neighbouring letters swapped, or one dropped. */
export function mistype(email: string, rng: Rng): string {
  const at = email.indexOf('@')
  const name = email.slice(0, at)
  if (name.length < 3) return `${name}${name.slice(-1)}${email.slice(at)}`
  const k = 1 + rng.int(name.length - 2)
  const typo = rng.chance(0.5)
    ? name.slice(0, k) + (name[k + 1] ?? '') + (name[k] ?? '') + name.slice(k + 2)
    : name.slice(0, k) + name.slice(k + 1)
  return `${typo === name ? `${name}x` : typo}${email.slice(at)}`
}

interface Existing {
  readonly person: number
  readonly identities: RecordIdentities
}

/**
 * Plans the case rows: returns the CSV lines (members columns) with their records. `persons` is the number of
 * simulated persons; `existing` the records of members.csv; `stamp` formats a time for the file.
 */
export function plantIdentityCases(
  rng: Rng,
  seed: number,
  persons: number,
  existing: readonly Existing[],
  times: { readonly first: string; readonly last: string },
): { lines: string[]; records: IdentityRecord[]; planted: Record<IdentityCase, number> } {
  const codes = new IdentityCodes(seed ^ 0x5f3759df)
  const per = Math.max(2, Math.round(persons * 0.001))
  const placeholders = Math.max(8, per)
  const lines: string[] = []
  const records: IdentityRecord[] = []
  const planted: Record<IdentityCase, number> = {
    placeholder_phone: 0,
    email_typo: 0,
    shared_family_phone: 0,
    recycled_phone: 0,
  }
  let next = persons
  const row = (
    at: string,
    channel: string,
    kase: IdentityCase,
    person: number,
    ids: RecordIdentities,
    phoneFormat: number,
  ) => {
    lines.push(
      `${at},${channel},,,,,,false,false,false,false,` +
        `${ids.phone ? formatPhone(ids.phone, phoneFormat) : ''},${ids.email ?? ''},` +
        `${ids.app_user_id ?? ''},${ids.card_no ?? ''},${ids.wechat_unionid ?? ''}`,
    )
    records.push({
      file: 'identity_cases.csv',
      line: lines.length + 1,
      person,
      case: kase,
      identities: ids,
    })
    planted[kase]++
  }
  for (let k = 0; k < placeholders; k++) {
    const person = next++
    row(
      times.last,
      'store',
      'placeholder_phone',
      person,
      {
        phone: PLACEHOLDER_PHONE,
        card_no: codes.cardNo(person),
      },
      0,
    )
  }
  // Distinct persons for the other cases, drawn without replacement from those with the needed identities.
  const used = new Set<number>()
  const pick = (ok: (e: Existing) => boolean): Existing | undefined => {
    const pool = existing.filter((e) => ok(e) && !used.has(e.person))
    const e = pool[rng.int(Math.max(1, pool.length))]
    if (e !== undefined) used.add(e.person)
    return e
  }
  for (let k = 0; k < per; k++) {
    const e = pick((x) => x.identities.phone !== undefined && x.identities.email !== undefined)
    if (e === undefined) break
    row(
      times.last,
      'app',
      'email_typo',
      e.person,
      {
        phone: e.identities.phone as string,
        email: mistype(e.identities.email as string, rng),
      },
      1,
    )
  }
  for (let k = 0; k < per; k++) {
    const e = pick((x) => x.identities.phone !== undefined)
    if (e === undefined) break
    const person = next++
    row(
      times.last,
      'mini_program',
      'shared_family_phone',
      person,
      {
        phone: e.identities.phone as string,
        wechat_unionid: codes.wechatUnionId(person),
      },
      2,
    )
  }
  for (let k = 0; k < per; k++) {
    const e = pick((x) => x.identities.phone !== undefined)
    if (e === undefined) break
    const person = next++
    row(
      times.last,
      'app',
      'recycled_phone',
      person,
      {
        phone: e.identities.phone as string,
        app_user_id: codes.appUserId(person),
      },
      0,
    )
  }
  return { lines, records, planted }
}
