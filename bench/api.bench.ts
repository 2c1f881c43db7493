/// <reference lib="dom" />
/**
 * API and dashboard benchmark (`npm run bench -- --only api`): `memberlens serve` on 127.0.0.1 (a free port)
 * over a simulated database, driven on loopback by autocannon for a bounded time, and the dashboard's overview
 * page loaded in headless Chromium.
 *
 *   npm run bench -- --only api [--members 1000000] [--months 24] [--seconds 10] [--connections 16]
 *                               [--repeat 3] [--loads 5] [--skip-build]
 *
 *   npm run bench -- --only api --db bench/out/grown-10000000/memberlens.duckdb [--skip-build]
 *
 * `--db` serves an existing database file in place (no copy: at 10^7 members a copy would not fit on the disk);
 * the server's key file, audit log and alert rules still live in a scratch directory. The server's own peak
 * memory (VmHWM) is read from /proc before it stops.
 *
 * The database is the metric-tree benchmark's cache (`bench/out/tree-<members>-<months>/memberlens.duckdb`,
 * built here with the same recipe when missing). The server runs on a copy of it in a scratch directory, so
 * the cache is only read, and its key file, audit log and alert rules live in that scratch directory too.
 *
 * API: each endpoint is first requested alone four times: the first answer is the cold one (the first request
 * after the server opened the database, before any answer is cached), the median of the other three the warm
 * one. Then each is driven for --seconds by --connections connections; a request still running when the time
 * is up is not counted (the number of completed requests is printed). The endpoints: the overview, the metric
 * tree, the 12-period cohort matrix and a metric query (three catalog metrics over the last twelve months of
 * data, by month). The baseline is `GET /health` in the same run: the server with no database work. Figures
 * are medians over --repeat runs.
 *
 * Page: each load opens a fresh browser context (empty HTTP cache) at the dashboard URL. First contentful
 * paint is the browser's own `first-contentful-paint` entry. The page is **usable** when the overview heading
 * naming the period is shown, the metric cards of the tree are drawn with their values, and the trend chart has
 * drawn its series (more than three SVG paths in `#trend-chart`) — everything the overview page shows, with
 * data. Both are milliseconds from the start of navigation; medians over --loads loads.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { chromium } from 'playwright-core'
import { systemClock } from '../src/core/clock.js'
import { sql } from '../src/engine/sql/fragment.js'
import { ingestFile } from '../src/duckdb/ingest/ingest.js'
import { simulate } from '../src/simulate/simulate.js'
import { openDatabase } from '../src/store/database.js'
import { median } from './measure.js'
import { INGEST_TABLES } from '../src/core/schema.js'

const { values } = parseArgs({
  strict: false,
  options: {
    members: { type: 'string', default: '1000000' },
    months: { type: 'string', default: '24' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    repeat: { type: 'string', default: '3' },
    loads: { type: 'string', default: '5' },
    'skip-build': { type: 'boolean', default: false },
    db: { type: 'string' },
    'burst-ms': { type: 'string', default: '1000' },
  },
})
const members = Number(values.members as string)
const months = Number(values.months as string)
const seconds = Number(values.seconds as string)
const connections = Number(values.connections as string)
const repeat = Number(values.repeat as string)
const loads = Number(values.loads as string)
const burstMs = Number(values['burst-ms'] as string)
const log = (s: string) => process.stderr.write(`${s}\n`)

// 1. The database: the tree benchmark's cache, complete once its simulated CSV files are gone.
const given = values.db as string | undefined
if (given !== undefined && !existsSync(given)) throw new Error(`--db ${given}: no such file`)
const cacheDir = join('bench', 'out', `tree-${members}-${months}`)
const cacheDb = given ?? join(cacheDir, 'memberlens.duckdb')
if (given === undefined && existsSync(join(cacheDir, 'data'))) {
  log(
    `${cacheDir} is still being built (its data/ directory exists); wait for it or pick another --members`,
  )
  process.exit(1)
}
if (!existsSync(cacheDb)) {
  log(`simulating ${members.toLocaleString('en-US')} members × ${months} months and loading them…`)
  await mkdir(cacheDir, { recursive: true })
  const sim = await simulate(join(cacheDir, 'data'), { members, months, seed: 3 })
  const db = await openDatabase(cacheDb, { memoryLimit: '8GB' })
  for (const table of INGEST_TABLES) {
    const file = (sim.files as Record<string, string>)[table]
    if (file !== undefined) await ingestFile(db.driver, file, { table, clock: systemClock })
  }
  await db.driver.execute(sql`CHECKPOINT`)
  await db.close()
  await rm(join(cacheDir, 'data'), { recursive: true, force: true })
}
if (!values['skip-build']) {
  log('building the dashboard (npm run build -w web)…')
  execFileSync('npm', ['run', 'build', '-w', 'web'], { stdio: 'ignore' })
}

const scratch = await mkdtemp(join(tmpdir(), 'memberlens-api-bench-'))
const dbPath = given ?? join(scratch, 'memberlens.duckdb')
if (given === undefined) {
  log(`database ${cacheDb}, served from a copy`)
  await copyFile(cacheDb, dbPath)
} else log(`database ${given}, served in place`)
const sideFiles = [
  '--keys',
  join(scratch, 'memberlens.keys.json'),
  '--audit',
  join(scratch, 'memberlens.audit.duckdb'),
]
const counts = await (async () => {
  const db = await openDatabase(dbPath, { readOnly: true })
  const r = await db.driver.first<Record<string, bigint>>(
    sql`SELECT (SELECT count(*) FROM members) AS members, (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM events) AS events`,
  )
  const last = await db.driver.first<{ m: string }>(
    sql`SELECT strftime(max(ordered_at), '%Y-%m') AS m FROM orders`,
  )
  await db.close()
  return {
    members: Number(r?.['members'] ?? 0),
    orders: Number(r?.['orders'] ?? 0),
    events: Number(r?.['events'] ?? 0),
    lastMonth: last?.m ?? '2026-10',
  }
})()
/** `YYYY-MM` eleven months before `month`. */
const yearBefore = (month: string): string => {
  const [y, m] = month.split('-').map(Number) as [number, number]
  const i = y * 12 + (m - 1) - 11
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`
}

const cli = (args: string[]) =>
  execFileSync(process.execPath, ['bin/memberlens.js', ...args], { encoding: 'utf8' })
const key = (
  JSON.parse(
    cli([
      'keys',
      'create',
      '--name',
      'benchmark',
      '--role',
      'viewer',
      '--db',
      dbPath,
      ...sideFiles,
      '--json',
    ]),
  ) as { secret: string }
).secret

// 2. The server, in its own process so the load generator does not share its event loop. What it writes to
// stderr (errors of requests cut off when a run ends) is kept and summarised at the end.
let server: ChildProcess | undefined
const serverErrors: string[] = []
async function startServer(): Promise<{ url: string; dashboardUrl: string }> {
  const child = spawn(
    process.execPath,
    // The per-key rate limit raised far above what loopback can drive: the bench measures the server, not
    // the limiter (whose 429 answers would otherwise count as fast replies).
    [
      'bin/memberlens.js',
      'serve',
      '--db',
      dbPath,
      ...sideFiles,
      '--alerts',
      join(scratch, 'memberlens.alerts.json'),
      '--port',
      '0',
      '--alerts-every',
      '0',
      '--rate',
      '1000000',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  server = child
  child.stderr?.on('data', (d: Buffer) => serverErrors.push(...d.toString().split('\n')))
  let out = ''
  return new Promise((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`server exited with ${code}`)))
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      // eslint-disable-next-line no-control-regex
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '')
      const m = /dashboard\s+(http:\/\/127\.0\.0\.1:\d+)(\/#key=\S+)/.exec(plain)
      if (m) ok({ url: m[1] as string, dashboardUrl: `${m[1]}${m[2]}` })
    })
  })
}
/** The server process's peak resident memory in MB (VmHWM), while it runs. */
function serverPeakRssMb(): number | null {
  const pid = server?.pid
  if (pid === undefined) return null
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : null
  } catch {
    return null
  }
}
async function stopServer(): Promise<void> {
  const child = server
  if (!child || child.exitCode !== null) return
  await new Promise<void>((ok) => {
    child.once('exit', () => ok())
    child.kill('SIGTERM')
  })
}

interface Load {
  rps: number
  p50: number
  p99: number
  completed: number
  errors: number
  non2xx: number
}
const ENDPOINTS = {
  health: '/health',
  overview: '/api/v1/overview',
  tree: '/api/v1/tree',
  cohorts: '/api/v1/cohorts?periods=12',
  metrics: `/api/v1/metrics/query?metrics=active_members,buyers,net_revenue&grain=month&from=${yearBefore(counts.lastMonth)}&to=${counts.lastMonth}`,
} as const
type Endpoint = keyof typeof ENDPOINTS
const NAMES = Object.keys(ENDPOINTS) as Endpoint[]

let browserClose: (() => Promise<void>) | undefined
try {
  const loadBefore = loadavg()[0] ?? 0
  const { url, dashboardUrl } = await startServer()
  const headers = { authorization: `Bearer ${key}` }

  // 3. Warm-up: each endpoint a few times alone; the later ones give the latency of one request, warm.
  const alone: Record<Endpoint, number> = {
    health: 0,
    overview: 0,
    tree: 0,
    cohorts: 0,
    metrics: 0,
  }
  const cold: Record<Endpoint, number> = { health: 0, overview: 0, tree: 0, cohorts: 0, metrics: 0 }
  const aloneFailures: Record<Endpoint, string[]> = {
    health: [],
    overview: [],
    tree: [],
    cohorts: [],
    metrics: [],
  }
  for (const [name, path] of Object.entries(ENDPOINTS) as [Endpoint, string][]) {
    const times: number[] = []
    for (let i = 0; i < 4; i++) {
      const t = performance.now()
      const r = await fetch(`${url}${path}`, { headers })
      const body = await r.text()
      times.push(performance.now() - t)
      // An answer that is not 2xx (at 10^7 members a query can run past the API's time limit) is timed and
      // reported with its status, not taken for a fast reply.
      if (!r.ok) {
        aloneFailures[name].push(`HTTP ${r.status} ${body.slice(0, 120)}`)
        log(
          `  ${path}: request ${i + 1} answered HTTP ${r.status} after ${times.at(-1)?.toFixed(0)} ms`,
        )
      }
    }
    alone[name] = median(times.slice(1))
    cold[name] = times[0] as number
    log(`  ${path}: cold ${cold[name].toFixed(1)} ms, warm ${alone[name].toFixed(1)} ms alone`)
  }

  // 4. Throughput and latency under load, bounded in time. Requests run side by side on the server's pooled
  // database sessions (8 by default) and wait for one beyond that; one more answer after a run means the
  // requests the run left behind have been served or are about to be.
  const drain = async () => {
    const r = await fetch(`${url}${ENDPOINTS.overview}`, { headers })
    await r.arrayBuffer()
  }
  const runs: Record<Endpoint, Load[]> = {
    health: [],
    overview: [],
    tree: [],
    cohorts: [],
    metrics: [],
  }
  // An endpoint slower alone than --burst-ms would complete nothing in a window of a few seconds: it gets one
  // burst instead, --connections requests at once (one per connection), each timed to its answer.
  const burst = async (path: string): Promise<Load> => {
    const t = performance.now()
    const times = await Promise.all(
      Array.from({ length: connections }, async () => {
        const start = performance.now()
        try {
          const r = await fetch(`${url}${path}`, { headers })
          await r.arrayBuffer()
          return { ms: performance.now() - start, ok: r.ok, status: String(r.status) }
        } catch (e) {
          // No answer at all (e.g. no response headers within the client's 300-second timeout): counted, not fatal.
          const cause = (e as { cause?: { code?: string } }).cause?.code ?? 'error'
          return { ms: performance.now() - start, ok: false, status: `no answer (${cause})` }
        }
      }),
    )
    const statuses = times.reduce<Record<string, number>>((acc, x) => {
      acc[x.status] = (acc[x.status] ?? 0) + 1
      return acc
    }, {})
    burstStatuses[path] = statuses
    const sorted = times.map((x) => x.ms).sort((a, b) => a - b)
    const at = (q: number) =>
      sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0
    return {
      rps: connections / ((performance.now() - t) / 1000),
      p50: at(0.5),
      p99: at(0.99),
      completed: connections,
      errors: 0,
      non2xx: times.filter((x) => !x.ok).length,
    }
  }
  const burstStatuses: Record<string, Record<string, number>> = {}
  const bursts = new Set<Endpoint>(NAMES.filter((n) => alone[n] > burstMs))
  for (let i = 0; i < repeat; i++) {
    for (const [name, path] of Object.entries(ENDPOINTS) as [Endpoint, string][]) {
      if (bursts.has(name)) {
        if (i > 0) continue // one burst: its requests take long enough
        const b = await burst(path)
        runs[name].push(b)
        log(
          `  burst ${path}: ${connections} requests at once, p50 ${b.p50.toFixed(0)} ms, p99 ${b.p99.toFixed(0)} ms, statuses ${JSON.stringify(burstStatuses[path])}`,
        )
        continue
      }
      const r = await autocannon({
        url: `${url}${path}`,
        headers,
        connections,
        duration: seconds,
        timeout: 600,
      })
      runs[name].push({
        rps: r.requests.total / r.duration,
        // No completed request: no latency figure (autocannon reports 0).
        p50: r.requests.total > 0 ? r.latency.p50 : Number.POSITIVE_INFINITY,
        p99: r.requests.total > 0 ? r.latency.p99 : Number.POSITIVE_INFINITY,
        completed: r.requests.total,
        errors: r.errors,
        non2xx: r.non2xx,
      })
      // Requests still queued when the time was up keep the server busy: wait for them before going on.
      await drain()
      log(
        `  run ${i + 1} ${path}: ${r.requests.total} requests, ${(r.requests.total / r.duration).toFixed(1)}/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`,
      )
    }
  }
  const api = Object.fromEntries(
    NAMES.map((name) => {
      const rs = runs[name]
      const m = (k: keyof Load) => median(rs.map((r) => r[k]))
      return [
        name,
        {
          path: ENDPOINTS[name],
          aloneFailures: aloneFailures[name],
          aloneMs: alone[name],
          coldMs: cold[name],
          rps: m('rps'),
          p50Ms: m('p50'),
          p99Ms: m('p99'),
          completed: m('completed'),
          errors: rs.reduce((a, r) => a + r.errors, 0),
          non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
        },
      ]
    }),
  ) as Record<
    Endpoint,
    {
      path: string
      aloneFailures: string[]
      aloneMs: number
      coldMs: number
      rps: number
      p50Ms: number
      p99Ms: number
      completed: number
      errors: number
      non2xx: number
    }
  >

  // 5. The overview page in headless Chromium.
  execFileSync('bash', ['scripts/ensure-chromium.sh'], { stdio: 'inherit' })
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  browserClose = () => browser.close()
  const fcp: number[] = []
  const usable: number[] = []
  const pageErrors: string[] = []
  for (let i = 0; i < loads; i++) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } })
    const page = await context.newPage()
    await page.goto(dashboardUrl, { waitUntil: 'commit' })
    const ready = await page.waitForFunction(
      () => {
        const heading = document.querySelector('h1')?.textContent ?? ''
        const cards = document.querySelectorAll('article.card.core').length
        const paths = document.querySelectorAll('#trend-chart svg path').length
        const failed = document.querySelector('.notice.error')?.textContent
        if (failed) return { failed }
        return heading !== '' && cards > 0 && paths > 3 ? performance.now() : false
      },
      undefined,
      { polling: 'raf', timeout: 180_000 },
    )
    const outcome = (await ready.jsonValue()) as number | { failed: string }
    // A page that shows an error instead of its figures never became usable.
    if (typeof outcome !== 'number') pageErrors.push(outcome.failed)
    const usableMs = typeof outcome === 'number' ? outcome : Number.POSITIVE_INFINITY
    const fcpMs = await page.evaluate(
      () =>
        performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint')
          ?.startTime ?? null,
    )
    if (fcpMs === null) throw new Error('no first-contentful-paint entry')
    fcp.push(fcpMs)
    usable.push(usableMs)
    log(
      `  load ${i + 1}: first contentful paint ${fcpMs.toFixed(0)} ms, usable ${usableMs.toFixed(0)} ms${typeof outcome === 'number' ? '' : ` (${outcome.failed})`}`,
    )
    await context.close()
  }
  await browser.close()
  browserClose = undefined
  const serverPeak = serverPeakRssMb()
  const loadAfter = loadavg()[0] ?? 0
  const pageResult = { fcpMs: median(fcp), usableMs: median(usable), loads, errors: pageErrors }

  const f = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–')
  const line = (name: Endpoint) => {
    const a = api[name]
    const how = bursts.has(name)
      ? `   (one burst of ${connections} at once; HTTP statuses ${JSON.stringify(burstStatuses[api[name].path])})`
      : ''
    return `  ${name.padEnd(9)} ${a.rps.toFixed(1).padStart(8)} req/s   p50 ${f(a.p50Ms).padStart(6)} ms   p99 ${f(a.p99Ms).padStart(6)} ms   alone ${a.aloneMs.toFixed(1).padStart(7)} ms   cold ${a.coldMs.toFixed(0).padStart(6)} ms   (${f(a.completed)} completed${a.errors + a.non2xx > 0 ? `, ${a.errors} errors, ${a.non2xx} non-2xx` : ''})${how}${a.aloneFailures.length > 0 ? `; ${a.aloneFailures.length} of the 4 requests alone not 2xx: ${a.aloneFailures[0] ?? ''}` : ''}`
  }
  process.stdout.write(
    [
      `API on loopback: ${given ?? cacheDb}: ${f(counts.members)} members (${f(counts.orders)} orders, ${f(counts.events)} events), ${connections} connections × ${seconds} s, median of ${repeat}; load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after`,
      ...NAMES.map(line),
      `  cold overview (first request after the server opened the database) ${f(api.overview.coldMs)} ms (target ≤ 2,000 ms) — ${api.overview.coldMs <= 2000 && api.overview.aloneFailures.length === 0 ? 'met' : 'not met'}`,
      `  overview: ${api.overview.rps > 0 ? `${(api.health.rps / api.overview.rps).toFixed(0)}×` : 'infinitely'} fewer requests/s than the baseline; p99 ${f(api.overview.p99Ms)} ms (target < 300 ms warm) — ${api.overview.p99Ms < 300 && api.overview.errors + api.overview.non2xx === 0 ? 'met' : 'not met'}`,
      `dashboard overview page, headless Chromium, median of ${loads} loads`,
      `  first contentful paint ${f(pageResult.fcpMs)} ms, usable (tree cards and trend chart drawn with data) ${f(pageResult.usableMs)} ms (target < 2,000 ms) — ${pageResult.usableMs < 2000 ? 'met' : 'not met'}`,
      `server peak RSS ${serverPeak === null ? 'unknown' : `${f(serverPeak)} MB`} (DuckDB's default memory_limit: 80% of RAM)`,
      ...(serverErrors.some((l) => l.trim() !== '')
        ? [
            `server stderr: ${serverErrors.filter((l) => /Error/.test(l) && !/^\s+at /.test(l)).length} error lines, e.g. ${serverErrors.find((l) => /Error/.test(l))?.trim() ?? ''}`,
          ]
        : []),
      ...(pageErrors.length > 0
        ? [`  ${pageErrors.length} of ${loads} loads showed an error: ${pageErrors[0] ?? ''}`]
        : []),
      '',
    ].join('\n'),
  )
  process.stdout.write(
    `${JSON.stringify({ benchmark: 'api', database: given ?? `${members} members × ${months} months`, rows: counts, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter, serverPeakRssMb: serverPeak, bursts: [...bursts], burstStatuses, connections, seconds, repeat, api, page: pageResult, targets: { overviewP99Ms: 300, usableMs: 2000 } })}\n`,
  )
} catch (e) {
  log(`server stderr (last lines):\n${serverErrors.slice(-40).join('\n')}`)
  throw e
} finally {
  await browserClose?.().catch(() => undefined)
  await stopServer()
  await rm(scratch, { recursive: true, force: true })
}
