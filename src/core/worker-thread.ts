/**
 * Starting a worker thread on one of this package's modules, from the built package (`.js`) or from the
 * TypeScript source (`.ts`, under tests and `tsx`, where the worker first registers tsx's loader so it can
 * import the module).
 * @module
 */
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'

/** A worker thread running `entry` (a `.js` or `.ts` module URL) with `workerData`. */
export function startModuleWorker(entry: URL, workerData: unknown): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData })
  const require = createRequire(import.meta.url)
  const pkg = require.resolve('tsx/package.json')
  const loader = pathToFileURL(pkg.replace(/package\.json$/, 'dist/esm/api/index.mjs')).href
  const code =
    `import(${JSON.stringify(loader)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}) })`
  return new Worker(code, { eval: true, workerData })
}
