/**
 * Progress bars on a TTY (stderr), silent otherwise. Rows per second and ETA are shown when the total is known.
 * @module
 */
import cliProgress from 'cli-progress'

export interface Progress {
  /** Starts (or restarts) a bar for a phase. */
  phase(label: string, total: number): void
  update(done: number): void
  stop(): void
}

const silent: Progress = { phase() {}, update() {}, stop() {} }

export function createProgress(enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return silent
  let bar: cliProgress.SingleBar | undefined
  let started = 0
  return {
    phase(label, total) {
      bar?.stop()
      started = performance.now()
      bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `${label.padEnd(22)} [{bar}] {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      )
      bar.start(Math.max(total, 1), 0, { rate: '0' })
    },
    update(done) {
      const seconds = (performance.now() - started) / 1000
      bar?.update(done, {
        rate: seconds > 0 ? Math.round(done / seconds).toLocaleString('en-US') : '0',
      })
    },
    stop() {
      bar?.stop()
      bar = undefined
    },
  }
}
