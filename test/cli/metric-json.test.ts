/**
 * One JSON view of a metric: `memberlens metrics list --json` and `GET /api/v1/metrics` give the same
 * document, and a pop/yoy column is a `change` in both the CLI's and the API's metric results.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/api/app.js'
import { KeyStore } from '../../src/api/keys.js'
import { CATALOG } from '../../src/engine/metrics/catalog.js'
import { metricDefinitionView, metricResultView } from '../../src/engine/metrics/views.js'
import { runCli } from '../helpers/cli.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let app: ReturnType<typeof createApp>
let key: string

beforeAll(async () => {
  s = await scratch()
  const keys = new KeyStore(`${s.dir}/keys.json`, TEST_CLOCK)
  key = (await keys.create('reader', 'analyst')).secret
  app = createApp({ driver: s.db.driver, keys, clock: TEST_CLOCK, log: () => {} })
})
afterAll(async () => {
  await s.cleanup()
})

describe('the JSON view of a metric', () => {
  it('is the same document from the CLI and from the API', async () => {
    const cli = await runCli(['metrics', 'list', '--json'])
    expect(cli.code).toBe(0)
    const res = await app.request('/api/v1/metrics', {
      headers: { authorization: `Bearer ${key}` },
    })
    expect(res.status).toBe(200)
    const api: unknown = await res.json()
    expect(JSON.parse(cli.out)).toEqual(api)
    expect(api).toEqual(JSON.parse(JSON.stringify({ metrics: CATALOG.map(metricDefinitionView) })))
  })

  it('marks a period-over-period column as a change, and keeps a moving average in its unit', () => {
    const aov = CATALOG.find((m) => m.id === 'aov')
    if (aov === undefined) throw new Error('aov is not in the catalog')
    const view = metricResultView({
      grain: 'month',
      from: '2026-01',
      to: '2026-03',
      by: [],
      columns: [
        { key: 'aov', metric: aov },
        { key: 'aov:pop', metric: aov, trend: { kind: 'pop' } },
        { key: 'aov:avg3', metric: aov, trend: { kind: 'avg', n: 3 } },
      ],
      rows: [],
    })
    expect(view.columns.map((c) => [c.key, c.metric, c.unit, c.trend])).toEqual([
      ['aov', 'aov', aov.unit, null],
      ['aov:pop', 'aov', 'change', { kind: 'pop' }],
      ['aov:avg3', 'aov', aov.unit, { kind: 'avg', n: 3 }],
    ])
  })
})
