import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
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

  it('exports every name the library section of the README lists', () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../README.md'), 'utf8')
    const section = /## Library\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? ''
    const listed = [...section.matchAll(/`([a-z][A-Za-z]+)`/g)].map((m) => m[1] as string)
    const imported = [...section.matchAll(/import \{([^}]+)\} from 'memberlens'/g)].flatMap((m) =>
      (m[1] ?? '').split(',').map((n) => n.trim()),
    )
    const names = [...new Set([...listed, ...imported])]
    expect(names).toEqual(expect.arrayContaining(['openDatabase', 'runMetrics', 'evaluateTree']))
    for (const name of names) expect(memberlens, name).toHaveProperty(name)
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
