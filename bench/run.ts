/**
 * `npm run bench`: runs every benchmark in turn, each in its own process, forwarding the arguments.
 *
 *   npm run bench                         # all
 *   npm run bench -- --only tree          # one (ingest, tree, retention, ledger, clv, api, clickhouse, startup)
 *   npm run bench -- --only ingest --orders 2000000
 *   npm run bench -- --only clickhouse [--url http://127.0.0.1:8123]   # DuckDB and ClickHouse side by side
 *   npm run bench -- --engine clickhouse [--db …] [--cluster]            # the same
 */
import { spawnSync } from 'node:child_process'

const BENCHES: Record<string, string> = {
  ingest: 'bench/ingest.bench.ts',
  tree: 'bench/tree.bench.ts',
  retention: 'bench/retention.bench.ts',
  ledger: 'bench/ledger.bench.ts',
  clv: 'bench/clv.bench.ts',
  api: 'bench/api.bench.ts',
  clickhouse: 'bench/clickhouse.bench.ts',
  startup: 'bench/startup.bench.ts',
}

const args = process.argv.slice(2)
const at = args.indexOf('--only')
// `--engine clickhouse` without --only means the ClickHouse benchmark.
const engine = args.indexOf('--engine')
const only = at >= 0 ? args[at + 1] : args[engine + 1] === 'clickhouse' ? 'clickhouse' : undefined
const rest = at >= 0 ? [...args.slice(0, at), ...args.slice(at + 2)] : args
if (only !== undefined && !(only in BENCHES)) {
  process.stderr.write(`unknown benchmark ${only}; one of ${Object.keys(BENCHES).join(', ')}\n`)
  process.exit(2)
}
let failed = false
for (const [name, file] of Object.entries(BENCHES)) {
  if (only !== undefined && name !== only) continue
  process.stdout.write(`\n== ${name} ==\n`)
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...rest], { stdio: 'inherit' })
  if (r.status !== 0) failed = true
}
process.exit(failed ? 1 : 0)
