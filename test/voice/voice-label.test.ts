/**
 * Feedback texts labelled with their sentiment in the engine: only new or changed texts are analysed, and
 * the catalog's negative-text share counts the labels per period.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { labelFeedback } from '../../src/analytics/voice/label.js'
import { runMetrics } from '../../src/engine/metrics/run.js'
import { scratch, TEST_CLOCK } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
const header = 'feedback_id,phone,ts,kind,score,text'
const texts = [
  'F1,13800000001,2024-01-05,review,1,质量很差，非常失望',
  'F2,13800000002,2024-01-06,review,5,Great quality and fast delivery',
  'F3,13800000001,2024-01-07,complaint,,Refund not received',
  'F4,13800000002,2024-01-08,review,4,',
  'F5,13800000003,2024-02-01,social_comment,,very happy with the service',
]
beforeAll(async () => {
  s = await scratch()
  await s.ingest('feedback', await s.file('f.csv', [header, ...texts].join('\n')))
})
afterAll(async () => {
  await s.cleanup()
})

const share = async () =>
  (
    await runMetrics(s.db.driver, {
      metrics: ['negative_text_share'],
      from: '2024-01',
      to: '2024-02',
    })
  ).rows.map((r) => r.values['negative_text_share'])

describe('voice label', () => {
  it('refuses the sentiment metric before any labelling, naming the command', async () => {
    await expect(share()).rejects.toThrow('memberlens voice label')
  })

  it('labels every text once, skips empty texts, and feeds the catalog', async () => {
    const first = await labelFeedback(s.db.driver, { clock: TEST_CLOCK })
    expect(first.labelled).toBe(4)
    expect(first.bySentiment).toEqual({ negative: 2, positive: 2 })
    // January: F1 and F3 negative, F2 positive · February: F5 positive.
    expect(await share()).toEqual([2 / 3, 0])
    const again = await labelFeedback(s.db.driver, { clock: TEST_CLOCK })
    expect(again.labelled).toBe(0)
  })

  it('labels a text again when a reload changed it', async () => {
    const changed = texts.map((t) =>
      t.startsWith('F5,') ? 'F5,13800000003,2024-02-01,social_comment,,"terrible, never again"' : t,
    )
    await s.ingest('feedback', await s.file('f2.csv', [header, ...changed].join('\n')))
    const r = await labelFeedback(s.db.driver, { clock: TEST_CLOCK })
    expect(r.labelled).toBe(1)
    expect(await share()).toEqual([2 / 3, 1])
    const all = await labelFeedback(s.db.driver, { clock: TEST_CLOCK, all: true })
    expect(all.labelled).toBe(4)
  })
})
