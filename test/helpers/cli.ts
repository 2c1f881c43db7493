/**
 * Runs the command line in-process (`main` of src/cli/index.ts) and captures what it writes, for tests that
 * read a command's output without spawning a process.
 * @module
 */
import { vi } from 'vitest'
import { main } from '../../src/cli/index.js'

export interface CliRun {
  readonly code: number
  readonly out: string
  readonly err: string
}

/** Runs `memberlens …args` in this process; stdout and stderr are captured, not printed. */
export async function runCli(args: readonly string[]): Promise<CliRun> {
  let out = ''
  let err = ''
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true))
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true))
  try {
    const code = await main(['node', 'memberlens', ...args])
    return { code, out, err }
  } finally {
    o.mockRestore()
    e.mockRestore()
  }
}
