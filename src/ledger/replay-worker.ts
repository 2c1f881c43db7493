/**
 * Worker-thread entry of the bulk replay (`bulk-replay.ts`): one rules engine (`replay-engine.ts`) for the
 * members hashed to this worker. Each message brings a share of a batch of members with their events; the
 * worker replays them and answers with the rows in `COPY` text (encoded, its memory handed over rather than
 * copied) and the refusal reasons with the ordinal of the member they belong to. The last message asks for the
 * counts and the last ids it handed out.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { Program } from './program.js'
import {
  createReplayEngine,
  LEDGER_ROW_TABLES,
  type LedgerRowTable,
  type ReplayEvent,
  type ReplayJob,
  type ReplayMember,
} from './replay-engine.js'
import { copyText } from './stores/store.js'

/** What the launcher gives the worker at its start. */
export interface ReplayWorkerInit {
  readonly program: Program
  /** The recording time of every row (epoch ms). */
  readonly now: number
  readonly jobs: readonly ReplayJob[]
  readonly reasons: number
  readonly rowsPerInsert: number
  /** This worker's surrogate ids: `idOffset + 1`, then every `idStride`. */
  readonly idOffset: number
  readonly idStride: number
}

/** A share of a batch: members in enrolment order with their ordinal in the whole history. */
export interface ReplayWorkerBatch {
  readonly kind: 'members'
  readonly members: ReadonlyArray<{
    readonly member: ReplayMember
    readonly events: readonly ReplayEvent[]
  }>
  readonly ordinals: readonly number[]
}

export type ReplayWorkerMessage = ReplayWorkerBatch | { readonly kind: 'finish' }

export type ReplayWorkerReply =
  | {
      readonly kind: 'rows'
      /** COPY text of each table, at most `rowsPerInsert` rows a piece, in foreign-key order. */
      readonly copies: ReadonlyArray<readonly [LedgerRowTable, Uint8Array<ArrayBuffer>]>
      /** Refusal reasons and the ordinal of the member whose event was refused. */
      readonly reasons: ReadonlyArray<readonly [number, string]>
    }
  | {
      readonly kind: 'finished'
      readonly counts: Record<string, number>
      readonly expiryRunTimes: readonly number[]
      readonly lastIds: { readonly entry: number; readonly bucket: number; readonly change: number }
    }
  | { readonly kind: 'failed'; readonly message: string; readonly stack: string | undefined }

const init = workerData as ReplayWorkerInit
const port = parentPort
if (port === null) throw new Error('replay-worker.ts runs only as a worker thread')
const engine = createReplayEngine(init.program, new Date(init.now), init.jobs, {
  reasons: init.reasons,
  idOffset: init.idOffset,
  idStride: init.idStride,
})
const encoder = new TextEncoder()

function replay(batch: ReplayWorkerBatch): ReplayWorkerReply {
  const reasons: Array<readonly [number, string]> = []
  batch.members.forEach((h, i) => {
    const seen = engine.skippedReasons.length
    engine.replayMember(h.member, h.events)
    for (const r of engine.skippedReasons.slice(seen)) reasons.push([batch.ordinals[i] ?? -1, r])
  })
  engine.drainAllocations()
  const copies: Array<readonly [LedgerRowTable, Uint8Array<ArrayBuffer>]> = []
  for (const name of Object.keys(LEDGER_ROW_TABLES) as LedgerRowTable[]) {
    const r = engine.rows[name]
    for (let from = 0; from < r.length; from += init.rowsPerInsert) {
      const to = Math.min(r.length, from + init.rowsPerInsert)
      copies.push([name, encoder.encode(copyText(r.cols, from, to))])
    }
    r.clear()
  }
  return { kind: 'rows', copies, reasons }
}

port.on('message', (message: ReplayWorkerMessage) => {
  try {
    if (message.kind === 'members') {
      const reply = replay(message)
      port.postMessage(
        reply,
        reply.kind === 'rows' ? reply.copies.map(([, bytes]) => bytes.buffer) : [],
      )
    } else {
      const reply: ReplayWorkerReply = {
        kind: 'finished',
        counts: { ...engine.counts },
        expiryRunTimes: [...engine.expiryRunTimes],
        lastIds: engine.lastIds(),
      }
      port.postMessage(reply)
    }
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error))
    const reply: ReplayWorkerReply = { kind: 'failed', message: e.message, stack: e.stack }
    port.postMessage(reply)
  }
})
