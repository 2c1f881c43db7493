#!/usr/bin/env node
// Runs the TypeScript CLI through the tsx loader, so `npx memberlens` works right after `npm install`.
import { register } from 'tsx/esm/api'

// A reader that stops early (`memberlens … | head`) closes the pipe: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(0)
    throw e
  })
}

register()
const { main } = await import('../src/cli/index.ts')
process.exitCode = await main(process.argv)
