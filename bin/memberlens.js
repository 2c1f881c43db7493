#!/usr/bin/env node
// Runs the compiled command line (dist/, built by `npm run build`, which `npm install` runs in a clone).

// A reader that stops early (`memberlens … | head`) closes the pipe: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(0)
    throw e
  })
}

let cli
try {
  cli = await import('../dist/cli/index.js')
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist')) throw error
  process.stderr.write('memberlens is not built: run `npm run build` in its folder, then try again.\n')
  process.exit(1)
}
process.exitCode = await cli.main(process.argv)
