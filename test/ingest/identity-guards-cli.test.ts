/**
 * The identity guards from the command line: the ingest flags, the mapping file's `identity_guards`, the
 * ingest summary naming what was held back, and `members merges` listing it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-guards-cli-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const run = (args: string[]) => runCli([...args, '--db', join(dir, 'm.duckdb')])

const MEMBERS = [
  'phone,email,registered_at',
  '13900000001,front-desk@mall.cn,2024-01-01',
  '13900000002,front-desk@mall.cn,2024-01-02',
  '13900000003,family@home.cn,2024-01-03',
  '13900000004,family@home.cn,2024-01-04',
].join('\n')

describe('identity guards on the command line', () => {
  it('--deny-identity and --max-members-per-identity; the summary and members merges name what was held back', async () => {
    const f = join(dir, 'm.csv')
    await writeFile(f, MEMBERS)
    const r = await run([
      'ingest',
      'members',
      f,
      '--deny-identity',
      'email:FRONT-DESK@mall.cn',
      '--max-members-per-identity',
      '1',
    ])
    expect(r.code, r.err).toBe(0)
    expect(r.out).toContain('2 identifier(s) kept but not used to merge')
    expect(r.out).toContain('email:front-desk@mall.cn (2 members, deny list)')
    expect(r.out).toContain('email:family@home.cn (2 members, shared by 2 members (more than 1))')
    const merges = await run(['members', 'merges', '--json'])
    expect(JSON.parse(merges.out)).toMatchObject({
      merges: [],
      notMerged: [
        { identityValue: 'family@home.cn', members: 2 },
        { identityValue: 'front-desk@mall.cn', members: 2 },
      ],
    })
    const text = await run(['members', 'merges'])
    expect(text.out).toMatch(/Identifiers kept on members but not used to merge them/)
    expect(text.out).toMatch(/email:front-desk@mall\.cn\s+2\s+deny list/)
  })

  it('--exclusive-identity-types: a shared phone beside two app accounts merges only when switched off', async () => {
    const f = join(dir, 'a.csv')
    await writeFile(
      f,
      'phone,app_user_id,registered_at\n13900000001,u-1,2024-01-01\n13900000001,u-2,2024-02-01\n',
    )
    const r = await run(['ingest', 'members', f])
    expect(r.code, r.err).toBe(0)
    expect(r.out).toContain(
      'phone:8613900000001 (2 members, carried by members with different app_user_id)',
    )
    const off = await runCli([
      'ingest',
      'members',
      f,
      '--db',
      join(dir, 'off.duckdb'),
      '--exclusive-identity-types',
      'none',
      '--json',
    ])
    expect(JSON.parse(off.out)).toMatchObject({ loads: [{ membersCreated: 1 }] })
    const bad = await run(['ingest', 'members', f, '--exclusive-identity-types', 'app'])
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('not an identity type: app')
  })

  it('the mapping file sets the guards; without them the same file merges', async () => {
    const f = join(dir, 'm.csv')
    await writeFile(f, MEMBERS)
    const mapping = join(dir, 'map.yaml')
    await writeFile(
      mapping,
      'identity_guards:\n  deny_patterns: ["email:.*@mall\\\\.cn"]\n  max_members_per_identity: 1\n',
    )
    const guarded = await run(['ingest', 'members', f, '--mapping', mapping, '--json'])
    expect(guarded.code, guarded.err).toBe(0)
    expect(JSON.parse(guarded.out).loads[0]).toMatchObject({
      membersCreated: 4,
      identitiesHeldBack: 2,
    })
    await rm(join(dir, 'm.duckdb'))
    const plain = await run(['ingest', 'members', f, '--json'])
    expect(JSON.parse(plain.out).loads[0]).toMatchObject({
      membersCreated: 2,
      identitiesHeldBack: 0,
    })
  })

  it('refuses a bad threshold and an unknown guard key in the mapping file', async () => {
    const f = join(dir, 'm.csv')
    await writeFile(f, MEMBERS)
    expect((await run(['ingest', 'members', f, '--max-members-per-identity', '0'])).code).toBe(2)
    const mapping = join(dir, 'map.yaml')
    await writeFile(mapping, 'identity_guards:\n  max_shared: 3\n')
    const r = await run(['ingest', 'members', f, '--mapping', mapping])
    expect(r.code).not.toBe(0)
    expect(r.err).toMatch(/identity_guards/)
  })
})
