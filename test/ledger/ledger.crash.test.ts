/**
 * Crash: a child process writing a batch is killed with SIGKILL mid-batch. After a restart (reopening the same
 * PGlite directory, or reconnecting to the server) the ledger is consistent, every write the child acknowledged
 * is present with the result it was acknowledged with, and re-sending the whole batch with the same keys
 * finishes it without applying anything twice.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/core/clock.js'
import { InsufficientPointsError } from '../../src/core/errors.js'
import { findRequest } from '../../src/ledger/ledger.repository.js'
import { Ledger } from '../../src/ledger/ledger.service.js'
import { openLedgerStore } from '../../src/ledger/stores/open-store.js'
import {
  STORE_KINDS,
  T0,
  checkInvariants,
  crashBatch,
  freshPostgresDatabase,
  testProgram,
} from './helpers.js'

const CHILD = resolve(import.meta.dirname, 'crash-child.ts')
const BATCH = 400
const KILL_AFTER = 60

/** Runs the child until it has acknowledged `killAfter` writes, then SIGKILLs it. */
function runAndKill(
  location: string,
  killAfter: number,
): Promise<{ acks: Map<string, string>; signal: string | null; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, location, String(BATCH)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: resolve(import.meta.dirname, '../..'),
    })
    const acks = new Map<string, string>()
    let stderr = ''
    let killed = false
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^ack (\S+) (.*)$/.exec(line)
      if (m) acks.set(m[1] as string, m[2] as string)
      if (!killed && acks.size >= killAfter) {
        killed = true
        child.kill('SIGKILL')
      }
    })
    child.on('error', reject)
    child.on('exit', (_code, signal) => resolvePromise({ acks, signal, stderr }))
  })
}

describe.each(STORE_KINDS)('crash on %s', (kind) => {
  it('keeps every acknowledged write after SIGKILL mid-batch, and the batch can be finished', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'memberlens-crash-'))
    const location = kind === 'pglite' ? join(dir, 'ledger') : await freshPostgresDatabase()
    try {
      const { acks, signal, stderr } = await runAndKill(location, KILL_AFTER)
      expect(signal, `the child should have been killed mid-batch; stderr: ${stderr}`).toBe(
        'SIGKILL',
      )
      expect(acks.size).toBeGreaterThanOrEqual(KILL_AFTER)
      expect(acks.size).toBeLessThan(BATCH)

      const store = await openLedgerStore(location)
      try {
        expect(await checkInvariants(store)).toEqual([])
        for (const [key, result] of acks) {
          const stored = await findRequest(store, key)
          expect(stored, `acknowledged write ${key} is missing`).toBeDefined()
          expect({ ...JSON.parse(stored?.result ?? '{}'), replayed: false }).toEqual(
            JSON.parse(result),
          )
        }
        // Re-send the whole batch: acknowledged writes replay, the rest apply once.
        const ledger = new Ledger(store, testProgram(), { clock: fixedClock(T0) })
        for (const req of crashBatch(BATCH)) {
          try {
            const r =
              req.kind === 'earn'
                ? await ledger.earnForOrder({
                    memberId: req.memberId,
                    orderId: req.key,
                    amount: req.amount,
                    channel: 'web',
                    idempotencyKey: req.key,
                    at: T0,
                  })
                : await ledger.redeem({
                    memberId: req.memberId,
                    points: req.points,
                    idempotencyKey: req.key,
                    at: T0,
                  })
            if (acks.has(req.key)) expect(r.replayed).toBe(true)
          } catch (e) {
            expect(e).toBeInstanceOf(InsufficientPointsError)
            expect(acks.has(req.key)).toBe(false)
          }
        }
        expect(await checkInvariants(store)).toEqual([])
        const earns = await store.query<{ n: unknown }>(`SELECT count(*) AS n FROM ledger_orders`)
        expect(Number(earns[0]?.n)).toBe(crashBatch(BATCH).filter((r) => r.kind === 'earn').length)
      } finally {
        await store.close()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
