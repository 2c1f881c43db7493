import { describe, expect, it } from 'vitest'
import * as memberlens from '../src/index.js'

describe('library surface', () => {
  it('exports the documented entry points', () => {
    for (const name of [
      'openDatabase',
      'ingestFile',
      'getOverview',
      'getMemberProfile',
      'simulate',
      'fitBgNbd',
      'fitGammaGamma',
      'fitSbg',
      'fitParetoNbd',
      'customerLifetimeValue',
    ]) {
      expect(typeof (memberlens as Record<string, unknown>)[name], name).toBe('function')
    }
    expect(memberlens.INGEST_TABLES).toContain('orders')
  })

  it('runs the JSDoc example end to end', async () => {
    const db = await memberlens.openDatabase(':memory:')
    try {
      expect(await memberlens.getOverview(db.driver)).toBeUndefined()
    } finally {
      await db.close()
    }
  })
})
