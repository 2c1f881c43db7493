/**
 * Start-up time of the command line against bare Node in the same run: `node -e 0` is the floor, then the
 * built `memberlens --version`, `--help`, `metrics list` and `overview` on a demo database, each run many
 * times, in alternation so that a burst of load on the shared machine hits every command alike.
 *
 *   npm run bench -- --only startup [--runs 21] [--db demo.duckdb]
 *
 * Without --db a small demo database (2,000 members, 12 months) is built in a temporary folder. Prints the
 * median wall time, the median CPU time (user + system, from /usr/bin/time where it exists) and the ratio of
 * each median to bare Node's, with the load average before and after.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { median } from './measure.js'

const ROOT = resolve(import.meta.dirname, '..')
const BIN = join(ROOT, 'bin/memberlens.js')
const TIME = '/usr/bin/time'

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name)
  return at >= 0 ? process.argv[at + 1] : undefined
}

const runs = Number(flag('--runs') ?? 21)
if (!existsSync(join(ROOT, 'dist/cli/index.js'))) {
  process.stderr.write('build first: npm run build\n')
  process.exit(2)
}

let db = flag('--db')
let scratch: string | undefined
if (db === undefined) {
  scratch = mkdtempSync(join(tmpdir(), 'memberlens-startup-'))
  db = join(scratch, 'demo.duckdb')
  const built = spawnSync(
    process.execPath,
    [BIN, 'demo', '--no-serve', '--quiet', '--members', '2000', '--months', '12', '--db', db],
    { stdio: 'inherit', cwd: scratch },
  )
  if (built.status !== 0) process.exit(1)
}

interface Case {
  readonly name: string
  readonly args: readonly string[]
}
const cases: readonly Case[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'memberlens --version', args: [BIN, '--version'] },
  { name: 'memberlens --help', args: [BIN, '--help'] },
  { name: 'memberlens metrics list', args: [BIN, 'metrics', 'list'] },
  { name: 'memberlens overview', args: [BIN, 'overview', '--db', db] },
]

const hasTime = existsSync(TIME)
const timeFile = join(mkdtempSync(join(tmpdir(), 'memberlens-time-')), 'time.txt')
/** One run: wall seconds and, where /usr/bin/time exists, CPU seconds (user + system). */
function once(args: readonly string[]): { wall: number; cpu: number | undefined } {
  const t0 = process.hrtime.bigint()
  const r = hasTime
    ? spawnSync(TIME, ['-f', '%U %S', '-o', timeFile, process.execPath, ...args], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      })
    : spawnSync(process.execPath, args, {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      })
  const wall = Number(process.hrtime.bigint() - t0) / 1e9
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`)
  if (!hasTime) return { wall, cpu: undefined }
  const [user, sys] = readFileSync(timeFile, 'utf8').trim().split(' ').map(Number)
  return { wall, cpu: (user ?? NaN) + (sys ?? NaN) }
}

const load0 = loadavg()
const walls = cases.map(() => [] as number[])
const cpus = cases.map(() => [] as number[])
for (let i = 0; i < runs; i++) {
  cases.forEach((c, k) => {
    const r = once(c.args)
    walls[k]?.push(r.wall)
    if (r.cpu !== undefined) cpus[k]?.push(r.cpu)
  })
}
const load1 = loadavg()

const version = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version
const floorWall = median(walls[0] ?? [])
const floorCpu = hasTime ? median(cpus[0] ?? []) : undefined
process.stdout.write(
  `memberlens ${version} start-up, ${runs} runs each, Node ${process.version}; load average ${load0
    .map((x) => x.toFixed(2))
    .join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}\n\n`,
)
const pad = (s: string, n: number) => s.padEnd(n)
process.stdout.write(
  `${pad('command', 28)}${pad('wall (median)', 16)}${pad('× node', 9)}${hasTime ? `${pad('CPU (median)', 15)}× node` : ''}\n`,
)
cases.forEach((c, k) => {
  const w = median(walls[k] ?? [])
  const line = [
    pad(c.name, 28),
    pad(`${(w * 1000).toFixed(0)} ms`, 16),
    pad((w / floorWall).toFixed(2), 9),
  ]
  if (floorCpu !== undefined) {
    const cpu = median(cpus[k] ?? [])
    line.push(pad(`${(cpu * 1000).toFixed(0)} ms`, 15), (cpu / Math.max(floorCpu, 0.01)).toFixed(2))
  }
  process.stdout.write(`${line.join('')}\n`)
})
process.stdout.write(
  '\nTargets: --version within 3× bare node; metrics list within 0.5 s on an idle machine.\n',
)
process.stdout.write(
  `${JSON.stringify({
    bench: 'startup',
    runs,
    loadavg: [load0[0], load1[0]],
    results: cases.map((c, k) => ({
      command: c.name,
      wallMs: median(walls[k] ?? []) * 1000,
      cpuMs: hasTime ? median(cpus[k] ?? []) * 1000 : null,
    })),
  })}\n`,
)
if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true })
rmSync(dirname(timeFile), { recursive: true, force: true })
