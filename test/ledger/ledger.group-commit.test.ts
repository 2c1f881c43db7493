/**
 * Group commit of order earns, on both stores: concurrent earns are written several to a transaction, each
 * caller answered after its batch commits; the earns of one member apply in the order they were sent; a repeated
 * key is answered once and a refusal fails only its own caller; a batch that fails in the database is written
 * again earn by earn; and a process killed between batches keeps exactly the earns it acknowledged.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/core/clock.js'
import { LedgerConflictError, NotFoundError } from '../../src/core/errors.js'
import { GroupCommitQueue } from '../../src/ledger/group-commit.js'
import { findRequest } from '../../src/ledger/ledger.repository.js'
import { Ledger, type WriteResult } from '../../src/ledger/ledger.service.js'
import { openLedgerStore } from '../../src/ledger/stores/open-store.js'
import type { LedgerStore } from '../../src/ledger/stores/store.js'
import {
  STORE_KINDS,
  T0,
  checkInvariants,
  crashBatch,
  freshPostgresDatabase,
  openTestStore,
  resetStore,
  testProgram,
} from './helpers.js'

const program = testProgram()
const MEMBERS = ['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7']

const earn = (
  ledger: Ledger,
  memberId: string,
  orderId: string,
  amount = '25',
  key = `earn-${orderId}`,
) =>
  ledger.earnForOrder({
    memberId,
    orderId,
    amount,
    channel: 'web',
    idempotencyKey: key,
    at: T0,
  })

describe('the group commit queue', () => {
  it('cuts batches by size and by time, one request per key, keys in order', async () => {
    const batches: string[][] = []
    const queue = new GroupCommitQueue<string, string>(
      async (batch) => {
        batches.push(batch.map((q) => q.request))
        await new Promise((r) => setTimeout(r, 5))
        for (const q of batch) q.resolve(q.request)
      },
      { maxBatch: 3, maxDelayMs: 2, maxInFlight: 1 },
    )
    const sent = ['a1', 'b1', 'a2', 'c1', 'd1', 'e1', 'a3', 'b2']
    const answers = await Promise.all(sent.map((r) => queue.submit(r.slice(0, 1), r)))
    expect(answers).toEqual(sent)
    // Size: a batch never holds more than 3; key order: a1 before a2 before a3, each in a later batch.
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(3)
      expect(new Set(b.map((r) => r.slice(0, 1))).size).toBe(b.length)
    }
    const batchOf = (r: string) => batches.findIndex((b) => b.includes(r))
    expect(batchOf('a1')).toBeLessThan(batchOf('a2'))
    expect(batchOf('a2')).toBeLessThan(batchOf('a3'))
    expect(batchOf('b1')).toBeLessThan(batchOf('b2'))
    expect(batches.flat().sort()).toEqual([...sent].sort())
    // Time: a lone request is written after the delay, without waiting for a full batch.
    await expect(queue.submit('z', 'z1')).resolves.toBe('z1')
    await queue.drained()
    expect(queue.pending).toBe(0)
  })
})

describe.each(STORE_KINDS)('group commit on %s', (kind) => {
  let store: LedgerStore
  let ledger: Ledger

  beforeAll(async () => {
    store = await openTestStore(kind)
  })
  afterAll(async () => {
    await store?.close()
  })
  beforeEach(async () => {
    await resetStore(store)
    ledger = new Ledger(store, program, {
      clock: fixedClock(T0),
      groupCommit: { maxBatch: 16, maxDelayMs: 2 },
    })
    for (const m of MEMBERS)
      await ledger.enroll({ memberId: m, idempotencyKey: `enroll-${m}`, at: T0 })
  })

  it('writes concurrent earns several to a transaction, in each member’s order', async () => {
    const sent: Array<{ memberId: string; orderId: string }> = []
    for (let i = 0; i < 240; i++)
      sent.push({ memberId: MEMBERS[i % 8] as string, orderId: `go${i}` })
    const results = await Promise.all(sent.map((s) => earn(ledger, s.memberId, s.orderId)))
    expect(results.every((r) => !r.replayed && r.points > 0)).toBe(true)
    expect(await checkInvariants(store)).toEqual([])
    // Several earns per transaction: fewer writing transactions than earns.
    const tx = await store.query<{ earns: unknown; txs: unknown }>(
      `SELECT count(*) AS earns, count(DISTINCT tx_id) AS txs FROM ledger_entries WHERE kind = 'earn'`,
    )
    expect(Number(tx[0]?.earns)).toBe(240)
    expect(Number(tx[0]?.txs)).toBeLessThan(240 / 2)
    // Per member, the entries follow the order the earns were sent in; balances are the running sums.
    for (const m of MEMBERS) {
      const rows = await store.query<{ source_id: string }>(
        `SELECT source_id FROM ledger_entries WHERE member_id = $1 AND kind = 'earn' ORDER BY entry_id`,
        [m],
      )
      const mine = sent.filter((s) => s.memberId === m).map((s) => s.orderId)
      expect(rows.map((r) => r.source_id)).toEqual(mine)
      const balances = mine.map((o) => results[sent.findIndex((s) => s.orderId === o)]?.balance)
      expect(balances).toEqual([...balances].sort((a, b) => (a as number) - (b as number)))
    }
  })

  it('answers a repeated key once, and a refusal fails only its own caller', async () => {
    const calls: Array<Promise<WriteResult>> = [
      earn(ledger, 'g0', 'k1'),
      earn(ledger, 'g0', 'k1'), // the same request again: answered from the first
      earn(ledger, 'g1', 'k2'),
      earn(ledger, 'g1', 'k2', '99'), // the same key, another request: a conflict
      earn(ledger, 'nobody', 'k3'), // not enrolled
      earn(ledger, 'g2', 'k1', '25', 'earn-k1-other'), // the order already earned under another key
      earn(ledger, 'g3', 'k4'),
    ]
    const out = await Promise.allSettled(calls)
    const value = (i: number) => (out[i] as PromiseFulfilledResult<WriteResult>).value
    const reason = (i: number) => (out[i] as PromiseRejectedResult).reason as unknown
    expect(value(0).replayed).toBe(false)
    expect(value(1)).toEqual({ ...value(0), replayed: true })
    expect(value(2).replayed).toBe(false)
    expect(reason(3)).toBeInstanceOf(LedgerConflictError)
    expect(reason(4)).toBeInstanceOf(NotFoundError)
    expect(reason(5)).toBeInstanceOf(LedgerConflictError)
    expect(value(6).replayed).toBe(false)
    // Sent again after the fact (a client retrying), every acknowledged earn is answered, nothing is added.
    const again = await Promise.all([
      earn(ledger, 'g0', 'k1'),
      earn(ledger, 'g1', 'k2'),
      earn(ledger, 'g3', 'k4'),
    ])
    expect(again.map((r) => r.replayed)).toEqual([true, true, true])
    const n = await store.query<{ n: unknown }>('SELECT count(*) AS n FROM ledger_orders')
    expect(Number(n[0]?.n)).toBe(3)
    expect(await checkInvariants(store)).toEqual([])
  })

  it('writes a batch that failed in the database again, earn by earn', async () => {
    // A store whose first batch fails at commit (as a serialisation failure would): the batch rolls back.
    let failures = 0
    const flaky: LedgerStore = Object.create(store, {
      transaction: {
        value: async <T>(
          fn: (tx: Parameters<Parameters<LedgerStore['transaction']>[0]>[0]) => Promise<T>,
        ) => {
          if (failures > 0) return store.transaction(fn)
          failures++
          return store.transaction(async (tx) => {
            await fn(tx)
            throw Object.assign(new Error('could not serialize access'), { code: '40001' })
          })
        },
      },
    }) as LedgerStore
    const l = new Ledger(flaky, program, {
      clock: fixedClock(T0),
      groupCommit: { maxBatch: 8, maxDelayMs: 2 },
    })
    const results = await Promise.all(MEMBERS.map((m, i) => earn(l, m, `f${i}`)))
    expect(failures).toBe(1)
    expect(results.every((r) => !r.replayed && r.entryId !== null)).toBe(true)
    const n = await store.query<{ n: unknown }>('SELECT count(*) AS n FROM ledger_orders')
    expect(Number(n[0]?.n)).toBe(MEMBERS.length)
    expect(await checkInvariants(store)).toEqual([])
  })
})

const CHILD = resolve(import.meta.dirname, 'crash-child.ts')
const BATCH = 600

describe.each(STORE_KINDS)('group commit, killed between batches, on %s', (kind) => {
  it('keeps exactly the earns it acknowledged, and the rest can be sent again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'memberlens-group-crash-'))
    const location = kind === 'pglite' ? join(dir, 'ledger') : await freshPostgresDatabase()
    try {
      const acks = new Map<string, string>()
      const signal = await new Promise<string | null>((done, fail) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', CHILD, location, String(BATCH), 'group'],
          { stdio: ['ignore', 'pipe', 'inherit'], cwd: resolve(import.meta.dirname, '../..') },
        )
        createInterface({ input: child.stdout }).on('line', (line) => {
          const m = /^ack (\S+) (.*)$/.exec(line)
          if (m) acks.set(m[1] as string, m[2] as string)
          if (acks.size >= 60 && !child.killed) child.kill('SIGKILL')
        })
        child.on('error', fail)
        child.on('exit', (_code, s) => done(s))
      })
      expect(signal).toBe('SIGKILL')
      const earns = crashBatch(BATCH).filter((r) => r.kind === 'earn')
      expect(acks.size).toBeLessThan(earns.length)

      const store = await openLedgerStore(location)
      try {
        expect(await checkInvariants(store)).toEqual([])
        for (const [key, result] of acks) {
          const stored = await findRequest(store, key)
          expect(stored, `acknowledged earn ${key} is missing`).toBeDefined()
          expect({ ...JSON.parse(stored?.result ?? '{}'), replayed: false }).toEqual(
            JSON.parse(result),
          )
        }
        const ledger = new Ledger(store, testProgram(), {
          clock: fixedClock(T0),
          groupCommit: true,
        })
        const again = await Promise.all(
          earns.map((r) =>
            earn(ledger, r.memberId, r.key, r.kind === 'earn' ? r.amount : '0', r.key),
          ),
        )
        again.forEach((r, i) => {
          if (acks.has((earns[i] as { key: string }).key)) expect(r.replayed).toBe(true)
        })
        const n = await store.query<{ n: unknown }>('SELECT count(*) AS n FROM ledger_orders')
        expect(Number(n[0]?.n)).toBe(earns.length)
        expect(await checkInvariants(store)).toEqual([])
      } finally {
        await store.close()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
