/** Small measuring helpers shared by the benchmarks. */
import { readFileSync } from 'node:fs'

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
