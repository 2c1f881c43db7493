/** Small measuring helpers shared by the benchmarks. */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** Median of a sample (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

/** This process's peak resident memory in MB (VmHWM on Linux, the current RSS elsewhere). */
export function peakRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    if (m) return Number(m[1]) / 1024
  } catch {
    // Not Linux: fall through to the current RSS.
  }
  return process.memoryUsage().rss / 1024 / 1024
}

/** CPU seconds (user + system) used so far by process `pid` and its live children, from /proc (Linux). */
export function processTreeCpuSeconds(pid: number): number {
  const ticksPerSecond = 100 // USER_HZ on Linux
  let ticks = 0
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8')
    } catch {
      continue // exited meanwhile
    }
    // Fields after the command (which may contain spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ppid = Number(f[1])
    if (Number(name) !== pid && ppid !== pid) continue
    ticks += Number(f[11]) + Number(f[12])
  }
  return ticks / ticksPerSecond
}

/** The PostgreSQL server's process id, from the data directory's postmaster.pid. */
export function postmasterPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
}
