/**
 * Helpers for the simulator's tests: an RFC 4180 CSV reader and a small union–find identity resolver
 * (independent of the simulator's code, so the tests check the files, not the generator's own beliefs).
 * @module
 */
import { readFileSync } from 'node:fs'

export interface Csv {
  readonly header: readonly string[]
  readonly rows: readonly (readonly string[])[]
  /** Column index by name (throws for an unknown column). */
  col(name: string): number
}

/** Parses a whole CSV file (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes). */
export function readCsv(path: string): Csv {
  const text = readFileSync(path, 'utf8')
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let i = 0
  const n = text.length
  while (i < n) {
    const c = text[i]
    if (c === '"' && field === '') {
      // Quoted field: read to the closing quote, unescaping "".
      i++
      for (;;) {
        const q = text.indexOf('"', i)
        if (q < 0) throw new Error(`unterminated quote in ${path}`)
        field += text.slice(i, q)
        if (text[q + 1] === '"') {
          field += '"'
          i = q + 2
        } else {
          i = q + 1
          break
        }
      }
    } else if (c === ',') {
      row.push(field)
      field = ''
      i++
    } else if (c === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      i++
    } else {
      const next = nextSpecial(text, i)
      field += text.slice(i, next)
      i = next
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field)
    rows.push(row)
  }
  const header = rows.shift() ?? []
  return {
    header,
    rows,
    col(name: string): number {
      const k = header.indexOf(name)
      if (k < 0) throw new Error(`no column ${name} in ${path}`)
      return k
    },
  }
}

function nextSpecial(text: string, from: number): number {
  let i = from
  while (i < text.length) {
    const c = text[i]
    if (c === ',' || c === '\n' || c === '"') return i
    i++
  }
  return i
}

/** Canonical identity key of a source value, e.g. `phone:13800138000`; '' for an empty value. */
export function identityKey(kind: string, value: string): string {
  const v = value.trim()
  if (v === '') return ''
  if (kind === 'phone') {
    const digits = v.replace(/\D/g, '')
    return `phone:${digits.length === 13 && digits.startsWith('86') ? digits.slice(2) : digits}`
  }
  if (kind === 'email') return `email:${v.toLowerCase()}`
  return `${kind}:${v}`
}

export const IDENTITY_COLUMNS = [
  'phone',
  'email',
  'app_user_id',
  'card_no',
  'wechat_unionid',
  'pos_customer_id',
] as const

/** Union–find over identity keys. */
export class IdentityResolver {
  private readonly parent = new Map<string, string>()

  find(key: string): string {
    let root = key
    for (;;) {
      const p = this.parent.get(root)
      if (p === undefined) {
        this.parent.set(root, root)
        return root
      }
      if (p === root) break
      root = p
    }
    // Path compression.
    let k = key
    while (k !== root) {
      const p = this.parent.get(k) ?? root
      this.parent.set(k, root)
      k = p
    }
    return root
  }

  union(a: string, b: string): void {
    const ra = this.find(a)
    const rb = this.find(b)
    if (ra !== rb) this.parent.set(rb, ra)
  }

  /** Identity keys of one row of `csv`. */
  keysOf(csv: Csv, row: readonly string[]): string[] {
    const keys: string[] = []
    for (const kind of IDENTITY_COLUMNS) {
      const k = csv.header.indexOf(kind)
      if (k >= 0) {
        const key = identityKey(kind, row[k] ?? '')
        if (key !== '') keys.push(key)
      }
    }
    return keys
  }

  /** Unions the identities of every row of `csv`. */
  addRows(csv: Csv): void {
    for (const row of csv.rows) {
      const keys = this.keysOf(csv, row)
      const first = keys[0]
      if (first === undefined) continue
      this.find(first)
      for (let j = 1; j < keys.length; j++) this.union(first, keys[j] ?? first)
    }
  }

  /** Root of the first identity of a row ('' if the row carries none). */
  personOf(csv: Csv, row: readonly string[]): string {
    const first = this.keysOf(csv, row)[0]
    return first === undefined ? '' : this.find(first)
  }

  /** Number of distinct persons among all identities seen. */
  components(): number {
    const roots = new Set<string>()
    for (const k of this.parent.keys()) roots.add(this.find(k))
    return roots.size
  }
}

/** Parses an ISO timestamp written by the simulator to UTC seconds. */
export function seconds(ts: string): number {
  return Date.parse(ts) / 1000
}
