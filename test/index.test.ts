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

  it('exports exactly the names the library section of the README lists', () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../README.md'), 'utf8')
    const section = /## Library\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? ''
    // The export list: the bullet items of the section (`- area: `name`, …` with continuation lines).
    const list = /\n(- [\s\S]*?)\n\n/.exec(section)?.[1] ?? ''
    const listed = [...list.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)].map((m) => m[1] as string)
    const imported = [...section.matchAll(/import \{([^}]+)\} from 'memberlens'/g)].flatMap((m) =>
      (m[1] ?? '').split(',').map((n) => n.trim()),
    )
    expect(new Set(listed).size, 'a name listed twice in the README').toBe(listed.length)
    const exported = Object.keys(memberlens).sort()
    expect([...listed].sort(), 'README library list vs src/index.ts').toEqual(exported)
    for (const name of imported) expect(memberlens, name).toHaveProperty(name)
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
