/** The CLI's settings: flags over environment over project file over defaults, the upward search, the errors. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command, Option } from 'commander'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  applyConfig,
  CONFIG_FILE,
  configuredFallback,
  findConfigFile,
  loadConfig,
} from '../../src/cli/config.js'
import { ConfigError, NotFoundError } from '../../src/core/errors.js'
import { lockWaitPolicy } from '../../src/store/db-lock.js'

let root: string
let project: string
let deep: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'memberlens-config-'))
  project = join(root, 'project')
  deep = join(project, 'reports', '2026')
  await mkdir(deep, { recursive: true })
  await writeFile(
    join(project, CONFIG_FILE),
    'db: data/members.duckdb\ntz: Asia/Shanghai\nlang: zh\ncurrency: CNY\nledger: ledger\nlock_wait: 5\ningest_tz: Europe/London\n',
  )
  await mkdir(join(project, 'data'))
  await writeFile(join(project, 'data', 'members.duckdb'), '')
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

/** A command with the options a data command declares, parsed from `argv`. */
function command(argv: string[], name = 'overview'): Command {
  const program = new Command('memberlens').exitOverride()
  const cmd = program
    .command(name)
    .addOption(new Option('--db <file>').default('./memberlens.duckdb'))
    .option('--engine <engine>')
    .option('--tz <zone>', 'zone', 'UTC')
    .addOption(new Option('--lang <lang>').choices(['en', 'zh']).default('en'))
    .option('--currency <code>')
    .action(() => undefined)
  program.parse(['node', 'memberlens', name, ...argv])
  return cmd
}

describe('configuration', () => {
  it('finds the project file in the nearest folder above and resolves its paths from that folder', async () => {
    expect(findConfigFile(deep)).toBe(join(project, CONFIG_FILE))
    expect(findConfigFile(root)).toBeUndefined()
    const c = await loadConfig({ cwd: deep, env: {} })
    expect(c.file).toBe(join(project, CONFIG_FILE))
    expect(c.settings.db).toEqual({
      value: join(project, 'data', 'members.duckdb'),
      source: { kind: 'file', path: join(project, CONFIG_FILE) },
    })
    expect(c.settings.ledger.value).toBe(join(project, 'ledger'))
    expect(c.settings.tz.value).toBe('Asia/Shanghai')
    expect(c.settings.lock_wait.value).toBe(5)
    expect(c.settings.engine).toEqual({ value: 'duckdb', source: { kind: 'default' } })
  })

  it('takes the environment over the file, and a relative path in the environment from the current folder', async () => {
    const c = await loadConfig({
      cwd: deep,
      env: { MEMBERLENS_DB: 'x.duckdb', MEMBERLENS_LANG: 'en', MEMBERLENS_ENGINE: '' },
    })
    expect(c.settings.db).toEqual({
      value: 'x.duckdb',
      source: { kind: 'env', name: 'MEMBERLENS_DB' },
    })
    expect(c.settings.lang.source).toEqual({ kind: 'env', name: 'MEMBERLENS_LANG' })
    // An empty variable counts as unset.
    expect(c.settings.engine.source).toEqual({ kind: 'default' })
    expect(c.settings.tz.source).toEqual({ kind: 'file', path: join(project, CONFIG_FILE) })

    // MEMBERLENS_CLICKHOUSE_URL still sets the URL; MEMBERLENS_URL wins over it.
    const alias = await loadConfig({
      cwd: root,
      env: { MEMBERLENS_CLICKHOUSE_URL: 'http://ch:8123' },
    })
    expect(alias.settings.url).toEqual({
      value: 'http://ch:8123',
      source: { kind: 'env', name: 'MEMBERLENS_CLICKHOUSE_URL' },
    })
    const both = await loadConfig({
      cwd: root,
      env: { MEMBERLENS_CLICKHOUSE_URL: 'http://ch:8123', MEMBERLENS_URL: 'https://olap:8443' },
    })
    expect(both.settings.url.value).toBe('https://olap:8443')
  })

  it('fills the options a command did not get as flags: flag over environment over file', async () => {
    const cmd = command(['--lang', 'en'])
    await applyConfig(cmd, { cwd: deep, env: { MEMBERLENS_TZ: 'Europe/Berlin' } })
    expect(cmd.opts()).toMatchObject({
      db: join(project, 'data', 'members.duckdb'),
      tz: 'Europe/Berlin',
      lang: 'en',
      currency: 'CNY',
    })
    expect(cmd.getOptionValueSource('lang')).toBe('cli')
    expect(cmd.getOptionValueSource('tz')).toBe('env')
    expect(cmd.getOptionValueSource('db')).toBe('config')
    expect(cmd.opts()['engine']).toBeUndefined()
    expect(lockWaitPolicy().timeoutMs).toBe(5000)
  })

  it('defaults the project time zone to Asia/Shanghai and the zone of naive timestamps at ingest to UTC', async () => {
    const c = await loadConfig({ cwd: root, env: {} })
    expect(c.settings.tz).toEqual({ value: 'Asia/Shanghai', source: { kind: 'default' } })
    expect(c.settings.ingest_tz).toEqual({ value: 'UTC', source: { kind: 'default' } })
  })

  it('leaves ingest its mapping file: the ingest zone and currency become fallbacks, not flags', async () => {
    const cmd = command([], 'ingest')
    await applyConfig(cmd, { cwd: deep, env: {} })
    // The project time zone (tz) never reaches ingest's --tz; the zone of naive timestamps is ingest_tz.
    expect(cmd.opts()['tz']).toBe('UTC')
    expect(cmd.opts()['currency']).toBeUndefined()
    expect(configuredFallback('ingest_tz')).toBe('Europe/London')
    expect(configuredFallback('currency')).toBe('CNY')
    expect(cmd.opts()['db']).toBe(join(project, 'data', 'members.duckdb'))
  })

  it('stops a command whose database file does not exist, naming where the path came from', async () => {
    const cmd = command([])
    const error = await applyConfig(cmd, {
      cwd: root,
      env: { MEMBERLENS_DB: 'nowhere.duckdb' },
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NotFoundError)
    expect((error as Error).message).toMatch(
      /^no database at nowhere\.duckdb \(from MEMBERLENS_DB\): build one with `memberlens demo --db nowhere\.duckdb` or load data with `memberlens ingest/,
    )
    // A command that creates its database goes on.
    await expect(
      applyConfig(command([], 'demo'), { cwd: root, env: { MEMBERLENS_DB: 'nowhere.duckdb' } }),
    ).resolves.toBeDefined()
  })

  it('names the file, line and key of a bad value in the project file', async () => {
    const dir = join(root, 'bad')
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, CONFIG_FILE), 'db: a.duckdb\n\nengine: duckdb2\n')
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toThrow(
      new ConfigError(
        `${join(dir, CONFIG_FILE)}:3: key "engine": must be duckdb or clickhouse (got "duckdb2")`,
      ),
    )
    await writeFile(join(dir, CONFIG_FILE), 'tz: Mars/Olympus\n')
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toThrow(
      /memberlens\.config\.yaml:1: key "tz": must be an IANA time zone/,
    )
    await writeFile(join(dir, CONFIG_FILE), 'database: a.duckdb\n')
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toThrow(
      /:1: key "database": unknown setting \(known: db, engine, url, tz, ingest_tz, lang, currency, ledger, lock_wait\)/,
    )
    await writeFile(join(dir, CONFIG_FILE), 'db: [a, b\n')
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toThrow(
      /memberlens\.config\.yaml:\d+: not valid YAML/,
    )
    await writeFile(join(dir, CONFIG_FILE), 'lock_wait: -1\n')
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toThrow(
      /:1: key "lock_wait": must be 0 or more seconds \(got -1\)/,
    )
    await rm(join(dir, CONFIG_FILE))
  })

  it('names the variable of a bad value in the environment', async () => {
    await expect(loadConfig({ cwd: root, env: { MEMBERLENS_CURRENCY: 'yuan' } })).rejects.toThrow(
      'environment variable MEMBERLENS_CURRENCY: must be an ISO 4217 code such as CNY (got "yuan")',
    )
    await expect(loadConfig({ cwd: root, env: { MEMBERLENS_URL: 'ftp://x' } })).rejects.toThrow(
      /environment variable MEMBERLENS_URL: must be an http:\/\/ or https:\/\/ URL/,
    )
    await expect(
      loadConfig({ cwd: root, env: { MEMBERLENS_CONFIG: 'missing.yaml' } }),
    ).rejects.toThrow(/MEMBERLENS_CONFIG: no configuration file at .*missing\.yaml/)
  })
})
