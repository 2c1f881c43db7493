/**
 * The demo with its default settings (project time zone Asia/Shanghai, data ending 2026-10-31) warns members
 * whose points are about to expire. The example program expires points at Beijing month end: the points earned
 * in November 2025 expire at 2026-12-01 00:00 +08:00 = 2026-11-30 16:00 UTC. Scores as of the last purchase day
 * hold at its end in Asia/Shanghai; within 30 days of it, those month-end buckets are inside the window.
 * Runs the built CLI (`npm run build` first), small: 2,000 members over 12 months.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { sql } from '../../src/engine/sql/fragment.js'
import { openDatabase } from '../../src/store/database.js'

const BIN = join(resolve(import.meta.dirname, '../..'), 'bin/memberlens.js')
const run = promisify(execFile)
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-demo-expiring-'))
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  for (const k of Object.keys(env)) if (k.startsWith('MEMBERLENS_')) delete env[k]
  await run(
    process.execPath,
    [
      BIN,
      'demo',
      '--no-serve',
      '--quiet',
      '--members',
      '2000',
      '--months',
      '12',
      '--db',
      'demo.duckdb',
    ],
    { cwd: dir, env },
  )
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

it('raises points_expiring for members whose points expire at the next Beijing month end', async () => {
  const db = await openDatabase(join(dir, 'demo.duckdb'), { readOnly: true })
  try {
    const run = await db.driver.first<{ options: string }>(
      sql`SELECT CAST(options AS VARCHAR) AS options FROM model_runs WHERE kind = 'risk-score' ORDER BY created_at DESC LIMIT 1`,
    )
    expect(JSON.parse(run?.options ?? '{}')).toMatchObject({ timeZone: 'Asia/Shanghai' })
    const rows = await db.driver.all<{ details: string }>(
      sql`SELECT signal_details AS details FROM risk_scores WHERE list_contains(string_split(signals, ','), 'points_expiring')`,
    )
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) {
      const d = (
        JSON.parse(r.details) as { points_expiring: { points: number; firstExpiresAt: string } }
      ).points_expiring
      expect(d.points).toBeGreaterThanOrEqual(100)
      // Beijing midnight, inside (2026-10-31 16:00, 2026-11-30 16:00] UTC.
      expect(d.firstExpiresAt).toMatch(/T16:00:00Z$/)
      expect(d.firstExpiresAt > '2026-10-31T16:00:00Z').toBe(true)
      expect(d.firstExpiresAt <= '2026-11-30T16:00:00Z').toBe(true)
    }
  } finally {
    await db.close()
  }
})
