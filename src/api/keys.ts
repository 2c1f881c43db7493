/**
 * API keys and roles. Keys are random 32-byte secrets shown once; only their SHA-256 hash is stored, in a JSON
 * file beside the database (written atomically, re-read when it changes, so a revoked key stops working
 * without a restart).
 *
 * | role | may |
 * |---|---|
 * | viewer | read aggregates (metrics, tree, cohorts…) — no personal data |
 * | analyst | + read members, with phone and email masked |
 * | operator | + loyalty operations, segments and alert rules, unmasked |
 * | admin | everything, including ingest, key management and the audit log |
 *
 * Each route declares the scope it needs (`scoped()` in require-scope.ts); the check runs before the request's
 * parameters and body are validated, so a role that may not use a route learns nothing more than 403.
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { rename, writeFile } from 'node:fs/promises'
import { z } from 'zod'
import type { Clock } from '../core/clock.js'
import { ConfigError, NotFoundError } from '../core/errors.js'

export const ROLES = ['viewer', 'analyst', 'operator', 'admin'] as const
export type Role = (typeof ROLES)[number]
export const SCOPES = [
  'aggregates',
  'members',
  'pii',
  'loyalty',
  'segments',
  'alerts',
  'ingest',
  'keys',
  'audit',
] as const
export type Scope = (typeof SCOPES)[number]

const GRANTS: Readonly<Record<Role, readonly Scope[]>> = {
  viewer: ['aggregates'],
  analyst: ['aggregates', 'members'],
  operator: ['aggregates', 'members', 'pii', 'loyalty', 'segments', 'alerts'],
  admin: [
    'aggregates',
    'members',
    'pii',
    'loyalty',
    'segments',
    'alerts',
    'ingest',
    'keys',
    'audit',
  ],
}

export function allows(role: Role, scope: Scope): boolean {
  return GRANTS[role].includes(scope)
}

const keyRecord = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .strict()
export type KeyRecord = z.infer<typeof keyRecord>
const keyFile = z.object({ keys: z.array(keyRecord) }).strict()

const PREFIX = 'ml_'

function hash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

/** The key file: keys by hash, re-read when its modification time changes. */
export class KeyStore {
  private cache: { mtime: number; keys: KeyRecord[] } | undefined
  /** Keys that live only as long as this process (the dashboard's session key). */
  private readonly ephemeral: KeyRecord[] = []

  constructor(
    readonly path: string,
    private readonly clock: Clock,
  ) {}

  list(): KeyRecord[] {
    if (!existsSync(this.path)) return []
    const mtime = statSync(this.path).mtimeMs
    if (this.cache?.mtime === mtime) return this.cache.keys
    let data: unknown
    try {
      data = JSON.parse(readFileSync(this.path, 'utf8'))
    } catch (e) {
      throw new ConfigError(`${this.path}: not valid JSON: ${(e as Error).message}`)
    }
    const parsed = keyFile.safeParse(data)
    if (!parsed.success) throw new ConfigError(`${this.path}: not a memberlens key file`)
    this.cache = { mtime, keys: parsed.data.keys }
    return parsed.data.keys
  }

  /** The active key a secret belongs to, or undefined. Compares hashes in constant time. */
  authenticate(secret: string): KeyRecord | undefined {
    if (!secret.startsWith(PREFIX) || secret.length > 200) return undefined
    const h = Buffer.from(hash(secret), 'hex')
    return [...this.ephemeral, ...this.list()].find(
      (k) => k.revokedAt === null && timingSafeEqual(Buffer.from(k.hash, 'hex'), h),
    )
  }

  /** A key valid until this process ends; never written to the file. */
  createEphemeral(name: string, role: Role): string {
    const secret = `${PREFIX}${randomBytes(32).toString('base64url')}`
    this.ephemeral.push({
      id: `session-${randomBytes(4).toString('hex')}`,
      name,
      role,
      hash: hash(secret),
      createdAt: this.clock.now().toISOString(),
      revokedAt: null,
    })
    return secret
  }

  /** Creates a key; returns the secret, which is never stored and cannot be shown again. */
  async create(name: string, role: Role): Promise<{ key: KeyRecord; secret: string }> {
    const secret = `${PREFIX}${randomBytes(32).toString('base64url')}`
    const key: KeyRecord = {
      id: randomBytes(6).toString('hex'),
      name,
      role,
      hash: hash(secret),
      createdAt: this.clock.now().toISOString(),
      revokedAt: null,
    }
    await this.save([...this.list(), key])
    return { key, secret }
  }

  async revoke(id: string): Promise<KeyRecord> {
    const keys = this.list()
    const key = keys.find((k) => k.id === id)
    if (!key) throw new NotFoundError(`no key ${id}`)
    const revoked = { ...key, revokedAt: key.revokedAt ?? this.clock.now().toISOString() }
    await this.save(keys.map((k) => (k.id === id ? revoked : k)))
    return revoked
  }

  private async save(keys: KeyRecord[]): Promise<void> {
    const tmp = `${this.path}.${process.pid}.tmp`
    await writeFile(tmp, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 })
    await rename(tmp, this.path)
    this.cache = undefined
  }
}
