/**
 * Identity values of simulated persons (phone, email, app user id, loyalty card, WeChat unionid, POS
 * customer id) and the formatting noise that different source systems add to them.
 *
 * Numeric parts come from affine bijections i ↦ (i·m + c) mod 10^k with m coprime to 10, so values are
 * unique per person index by construction (no collision checks needed); m is large so that neighbouring
 * persons get unrelated-looking numbers, and the seed sets c so different seeds give different people.
 * @module
 */
import { Rng, hash32 } from '../core/random.js'

/** Mobile prefixes of the three Chinese carriers. */
// prettier-ignore
const PHONE_PREFIXES = [
  '130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151', '152', '153', '155',
  '156', '157', '158', '159', '166', '177', '180', '181', '182', '183', '185', '186', '187', '188',
  '189', '191', '198', '199',
]

// prettier-ignore
const EMAIL_NAMES = [
  'wang.fang', 'li.na', 'zhang.wei', 'liu.yang', 'chen.jing', 'yang.li', 'huang.min', 'zhao.lei',
  'wu.jun', 'zhou.jie', 'xu.tao', 'sun.qiang', 'ma.chao', 'zhu.xia', 'hu.ming', 'guo.hua', 'he.ping',
  'lin.yan', 'luo.gang', 'gao.xiang', 'emma', 'leo', 'amy', 'kevin',
]

const EMAIL_DOMAINS = ['qq.com', '163.com', '126.com', 'gmail.com', 'outlook.com', 'sina.com']
const UNIONID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Largest supported population: the email numbers are unique below this many persons. */
export const MAX_PERSONS = 10_000_000

/** a·b mod m without leaving the exact integer range of doubles (a, b < m ≤ 10^10). */
function mulMod(a: number, b: number, m: number): number {
  const hi = Math.floor(b / 131_072)
  const lo = b - hi * 131_072
  return (((((a * hi) % m) * 131_072) % m) + ((a * lo) % m)) % m
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/** Generates the canonical identity values of person `i`. */
export class IdentityCodes {
  private readonly seed: number
  private readonly offsets: readonly number[]
  private readonly rng: Rng

  constructor(seed: number) {
    this.seed = seed
    this.offsets = [1e8, 1e7, 1e9, 1e10, 1e8].map((mod, k) => hash32(seed, k, 900) % mod)
    this.rng = new Rng(seed)
  }

  private code(i: number, kind: number, mul: number, mod: number): number {
    return (mulMod(i % mod, mul, mod) + (this.offsets[kind] ?? 0)) % mod
  }

  /** 11-digit mobile number, e.g. `13800138000`. */
  phone(i: number): string {
    const prefix = PHONE_PREFIXES[hash32(this.seed, i, 901) % PHONE_PREFIXES.length]
    return `${prefix}${pad(this.code(i, 0, 61_803_399, 1e8), 8)}`
  }

  /** Lower-case email address (the canonical form). */
  email(i: number): string {
    const h = hash32(this.seed, i, 902)
    const name = EMAIL_NAMES[h % EMAIL_NAMES.length]
    const domain = EMAIL_DOMAINS[(h >>> 8) % EMAIL_DOMAINS.length]
    return `${name}${this.code(i, 1, 6_180_339, 1e7)}@${domain}`
  }

  /** App / online account id, e.g. `u048213377`. */
  appUserId(i: number): string {
    return `u${pad(this.code(i, 2, 618_033_989, 1e9), 9)}`
  }

  /** Loyalty card number, 14 digits starting 8800. */
  cardNo(i: number): string {
    return `8800${pad(this.code(i, 3, 6_180_339_887, 1e10), 10)}`
  }

  /** POS customer number of the store system, e.g. `P30215577`. */
  posCustomerId(i: number): string {
    return `P${pad(this.code(i, 4, 38_196_601, 1e8), 8)}`
  }

  /** WeChat unionid: `o` + 27 URL-safe characters. */
  wechatUnionId(i: number): string {
    const rng = this.rng.reseed(this.seed, i, 903)
    let s = 'o'
    for (let k = 0; k < 27; k++) s += UNIONID_ALPHABET[rng.nextU32() & 63]
    return s
  }
}

/**
 * A phone as a source system writes it: 0 `13800138000`, 1 `+86 138-0013-8000`, 2 `138 0013 8000`.
 */
export function formatPhone(phone: string, format: number): string {
  if (format === 1) return `+86 ${phone.slice(0, 3)}-${phone.slice(3, 7)}-${phone.slice(7)}`
  if (format === 2) return `${phone.slice(0, 3)} ${phone.slice(3, 7)} ${phone.slice(7)}`
  return phone
}

/** An email as typed into a form: 0 as is, 1 capitalised (`Wang.fang1@qq.com`), 2 upper-case domain. */
export function emailVariant(email: string, variant: number): string {
  if (variant === 1) return email.charAt(0).toUpperCase() + email.slice(1)
  if (variant === 2) {
    const at = email.indexOf('@')
    return email.slice(0, at + 1) + email.slice(at + 1).toUpperCase()
  }
  if (variant === 3) return ` ${email} `
  return email
}
