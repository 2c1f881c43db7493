/** docs/guarantees.md names a test for each promise: every file it names exists and holds the quoted test names. */
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')
const page = readFileSync(resolve(ROOT, 'docs/guarantees.md'), 'utf8')

describe('docs/guarantees.md', () => {
  const rows = page.split('\n').filter((l) => l.startsWith('|') && l.includes('`test/'))

  it('lists promises with their tests', () => {
    expect(rows.length).toBeGreaterThan(15)
  })

  it('names test files that exist and test names those files hold', () => {
    for (const row of rows) {
      const cell = row.split('|').at(-2) ?? ''
      // Each `file` is followed by its quoted names (› "name", "name") until the next `file`.
      for (const part of cell.split(';')) {
        const file = /`(test\/[^`]+)`/.exec(part)?.[1]
        if (file === undefined) continue
        expect(existsSync(resolve(ROOT, file)), file).toBe(true)
        const text = readFileSync(resolve(ROOT, file), 'utf8')
        for (const m of part.matchAll(/"([^"]+)"/g)) {
          // A name may be shortened with an ellipsis at either end: the rest must appear as written.
          const name = (m[1] as string).replace(/^…|…$/g, '')
          expect(text.includes(name), `${file}: ${name}`).toBe(true)
        }
      }
    }
  })
})
