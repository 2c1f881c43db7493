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
 * - `shared_family_phone`: a family member (spouse, parent or child) registers with the phone of a person already
 *   in the file, their own WeChat unionid, and their own birthday and gender as the form asks. A different
 *   person that shares an identifier.
 * - `recycled_phone`: a new person registers at the end of the window with a number that belonged to a person
 *   registered before, and their own app account, birthday and gender. Carriers reassign a number only after
 *   it has been suspended and quiet for months, so the earlier person is one with no activity (registration,
 *   order, event) in the {@link RECYCLED_QUIET_DAYS} days before. A different person.
 *
 * The `email_typo` rows carry the person's own birthday and gender as a second registration does (each left
 * blank at times); the placeholder rows carry none (staff key the minimum).
 *
 * Everything here draws from its own random stream, so planting the cases changes no other file.
 * @module
 */
import { IdentityCodes, formatPhone } from './identity-codes.js'
import type { Rng } from '../core/random.js'
import { DAY, isoDate } from './calendar.js'

/**
 * Days a number is out of its owner's hands before a carrier gives it to someone else: suspension for unpaid
 * bills, reclaiming and a quiet period, together about half a year.
 */
export const RECYCLED_QUIET_DAYS = 180

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

/** Birthday (YYYY-MM-DD) and gender as a members row writes them; '' when not given. */
export interface Profile {
  readonly birthday: string
  readonly gender: string
}

/** The birthday and gender of a members row (its fifth and sixth columns). */
export function rowProfile(line: string): Profile {
  const cols = line.split(',')
  return { birthday: cols[4] ?? '', gender: cols[5] ?? '' }
}

/** What the planting needs to know of the simulated world. */
export interface CaseWorld {
  /** Time of the planted rows, as written and in seconds. */
  readonly last: string
  readonly lastSec: number
  /** Each person's last registration, order or event (seconds). */
  readonly lastActive: Float64Array
  /** Each person's birthday and gender (from their members row). */
  readonly profile: (person: number) => Profile
}

const GENDERS = ['female', 'male', 'other', 'unknown', ''] as const
const GENDER_SHARES = [0.56, 0.38, 0.01, 0.03, 0.02] as const

function drawGender(rng: Rng): string {
  let u = rng.uniform()
  for (let k = 0; k < GENDERS.length; k++) {
    u -= GENDER_SHARES[k] as number
    if (u < 0) return GENDERS[k] as string
  }
  return ''
}

/** A newcomer's birthday (given 80 % of the time, adults of 18 to 75) at `atSec`. */
function drawBirthday(rng: Rng, atSec: number): string {
  if (!rng.chance(0.8)) return ''
  const age = Math.min(75, 18 + rng.gamma(3) * 6)
  return isoDate(Math.floor(atSec - age * 365.25 * DAY))
}

/**
 * A family member of a person with `profile`: a spouse (about the same age, the other gender), or a parent or
 * child (20 to 35 years apart). Their own birthday is given 80 % of the time.
 */
function familyProfile(rng: Rng, profile: Profile, atSec: number): Profile {
  const base = Date.parse(`${profile.birthday}T00:00:00Z`)
  if (profile.birthday === '' || Number.isNaN(base)) {
    return { birthday: drawBirthday(rng, atSec), gender: drawGender(rng) }
  }
  const kind = rng.int(3)
  const span = 20 + rng.uniform() * 15
  const holderAge = (atSec - base / 1000) / (365.25 * DAY)
  // A child is at least 16; a holder too young to have one has a parent register instead.
  const child = kind === 2 && holderAge - span >= 16
  const years = kind === 0 ? (rng.uniform() - 0.5) * 10 : child ? span : -span
  const other =
    profile.gender === 'female' ? 'male' : profile.gender === 'male' ? 'female' : drawGender(rng)
  const gender = kind === 0 ? other : drawGender(rng)
  const birthday = rng.chance(0.8)
    ? isoDate(Math.min(atSec - 16 * 365.25 * DAY, base / 1000 + years * 365.25 * DAY))
    : ''
  return { birthday, gender }
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
  world: CaseWorld,
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
    profile: Profile = { birthday: '', gender: '' },
  ) => {
    lines.push(
      `${at},${channel},,,${profile.birthday},${profile.gender},,false,false,false,false,` +
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
      world.last,
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
      world.last,
      'app',
      'email_typo',
      e.person,
      {
        phone: e.identities.phone as string,
        email: mistype(e.identities.email as string, rng),
      },
      1,
      secondRegistration(rng, world.profile(e.person)),
    )
  }
  for (let k = 0; k < per; k++) {
    const e = pick((x) => x.identities.phone !== undefined)
    if (e === undefined) break
    const person = next++
    row(
      world.last,
      'mini_program',
      'shared_family_phone',
      person,
      {
        phone: e.identities.phone as string,
        wechat_unionid: codes.wechatUnionId(person),
      },
      2,
      familyProfile(rng, world.profile(e.person), world.lastSec),
    )
  }
  const quietSince = world.lastSec - RECYCLED_QUIET_DAYS * DAY
  for (let k = 0; k < per; k++) {
    const e = pick(
      (x) =>
        x.identities.phone !== undefined && (world.lastActive[x.person] ?? Infinity) <= quietSince,
    )
    if (e === undefined) break
    const person = next++
    row(
      world.last,
      'app',
      'recycled_phone',
      person,
      {
        phone: e.identities.phone as string,
        app_user_id: codes.appUserId(person),
      },
      0,
      { birthday: drawBirthday(rng, world.lastSec), gender: drawGender(rng) },
    )
  }
  return { lines, records, planted }
}

/** The person's own birthday and gender on a second registration, each left blank at times. */
function secondRegistration(rng: Rng, profile: Profile): Profile {
  return {
    birthday: rng.chance(0.5) ? profile.birthday : '',
    gender: rng.chance(0.3) ? '' : profile.gender,
  }
}
