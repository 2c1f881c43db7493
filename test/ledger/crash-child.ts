/**
 * The crash test's victim: writes a batch of earns and redemptions to the ledger given on the command line and
 * prints `ack <key> <result JSON>` after each write is committed. The test kills it with SIGKILL mid-batch.
 * With `group`, it sends only the batch's earns, 32 at a time concurrently, through group commit.
 *
 *   node --import tsx test/ledger/crash-child.ts <dir or postgres URL> <count> [group]
 */
import { fixedClock } from '../../src/core/clock.js'
import { InsufficientPointsError } from '../../src/core/errors.js'
import { Ledger } from '../../src/ledger/ledger.service.js'
import { openLedgerStore } from '../../src/ledger/stores/open-store.js'
import { T0, crashBatch, testProgram } from './fixtures.js'

const [location, countText, mode] = process.argv.slice(2)
const store = await openLedgerStore(location as string)
const group = mode === 'group'
const ledger = new Ledger(store, testProgram(), { clock: fixedClock(T0), groupCommit: group })
for (const m of ['c0', 'c1', 'c2'])
  await ledger.enroll({ memberId: m, idempotencyKey: `enroll-${m}`, at: T0 })
process.stdout.write('ready\n')
if (group) {
  const earns = crashBatch(Number(countText)).filter((r) => r.kind === 'earn')
  for (let i = 0; i < earns.length; i += 32) {
    await Promise.all(
      earns.slice(i, i + 32).map(async (req) => {
        const r = await ledger.earnForOrder({
          memberId: req.memberId,
          orderId: req.key,
          amount: req.kind === 'earn' ? req.amount : '0',
          channel: 'web',
          idempotencyKey: req.key,
          at: T0,
        })
        process.stdout.write(`ack ${req.key} ${JSON.stringify(r)}\n`)
      }),
    )
  }
  await store.close()
  process.stdout.write('done\n')
  process.exit(0)
}
for (const req of crashBatch(Number(countText))) {
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
    process.stdout.write(`ack ${req.key} ${JSON.stringify(r)}\n`)
  } catch (e) {
    if (!(e instanceof InsufficientPointsError)) throw e
    process.stdout.write(`nack ${req.key}\n`)
  }
}
await store.close()
process.stdout.write('done\n')
