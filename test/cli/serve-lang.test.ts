/** `serve --lang`: the language the dashboard opens in, from the flag, the environment or the project file. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerServeCommands } from '../../src/cli/commands/serve.js'
import { applyConfig, CONFIG_FILE } from '../../src/cli/config.js'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-serve-lang-'))
  await writeFile(join(dir, CONFIG_FILE), 'lang: zh\n')
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The serve command parsed from `argv`, its action replaced so that no server starts. */
function serve(argv: string[]): Command {
  const program = new Command('memberlens').exitOverride()
  registerServeCommands(program)
  const cmd = program.commands.find((c) => c.name() === 'serve') as Command
  cmd
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .action(() => undefined)
  program.parse(['node', 'memberlens', 'serve', '--create', ...argv])
  return cmd
}

describe('serve --lang', () => {
  it('takes the configured language unless the flag is given, and has none of its own otherwise', async () => {
    const fromFile = serve([])
    await applyConfig(fromFile, { cwd: dir, env: {} })
    expect(fromFile.opts()['lang']).toBe('zh')
    const fromEnv = serve([])
    await applyConfig(fromEnv, { cwd: tmpdir(), env: { MEMBERLENS_LANG: 'zh' } })
    expect(fromEnv.opts()['lang']).toBe('zh')
    const flag = serve(['--lang', 'en'])
    await applyConfig(flag, { cwd: dir, env: {} })
    expect(flag.opts()['lang']).toBe('en')
    // Nothing configured: the server leaves the language to its default (English).
    const none = serve([])
    await applyConfig(none, { cwd: tmpdir(), env: {} })
    expect(none.opts()['lang']).toBeUndefined()
    expect(() => serve(['--lang', 'fr'])).toThrow(/Allowed choices are en, zh/)
  })
})
