/**
 * Progress bars on a TTY (stderr), silent otherwise. Rows per second and ETA are shown when the total is known.
 * @module
 */
import cliProgress from 'cli-progress'

export interface Progress {
  /** Starts (or restarts) a bar for a phase; `percent` bars count to 100 and show no rate. */
  phase(label: string, total: number, unit?: 'rows' | 'percent'): void
  update(done: number): void
  stop(): void
}

const silent: Progress = { phase() {}, update() {}, stop() {} }

export function createProgress(enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return silent
  let bar: cliProgress.SingleBar | undefined
  let started = 0
  let shown = 0
  return {
    phase(label, total, unit = 'rows') {
      bar?.stop()
      started = performance.now()
      shown = 0
      const tail = unit === 'percent' ? '' : ' | {value}/{total} | {rate}/s | ETA {eta_formatted}'
      bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `${label.padEnd(22)} [{bar}] {percentage}%${tail}`,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      )
      bar.start(Math.max(total, 1), 0, { rate: '0' })
    },
    update(done) {
      // Several statements can make up one phase: the bar never moves backwards.
      if (done < shown) return
      shown = done
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
