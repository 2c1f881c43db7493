/** The lazy command table: every entry loads a module that declares the command it names, and no command is missing. */
import { describe, expect, it } from 'vitest'
import { COMMANDS, buildFullProgram, buildProgram, commandName } from '../../src/cli/index.js'

describe('command table', () => {
  it('loads, for each command, a module that declares it', async () => {
    for (const name of Object.keys(COMMANDS)) {
      const program = await buildProgram(['node', 'memberlens', name, '--help'])
      const declared = program.commands.find((c) => c.name() === name)
      expect(declared, name).toBeDefined()
      // A fully declared command has its own options or subcommands, not just the summary.
      expect(declared!.options.length + declared!.commands.length, name).toBeGreaterThan(0)
    }
  })

  it('names every command the modules declare', async () => {
    const full = await buildFullProgram()
    expect(full.commands.map((c) => c.name()).sort()).toEqual(Object.keys(COMMANDS).sort())
  })

  it('finds the command in a command line', () => {
    expect(commandName(['node', 'memberlens', '--verbose', 'metrics', 'list'])).toBe('metrics')
    expect(commandName(['node', 'memberlens', 'help', 'tree'])).toBe('tree')
    expect(commandName(['node', 'memberlens', '--version'])).toBeUndefined()
  })
})
