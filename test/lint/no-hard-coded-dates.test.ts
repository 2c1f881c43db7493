/**
 * No calendar date is written into the code of the product (`src/`, `web/src/`): every page and command
 * defaults to the data's own latest complete period, so a date in the code is a default that breaks on data
 * from another year (the Drivers page once asked for 2025-11..2026-10 and failed on anything else). Comments
 * and the usage examples of `--help` texts may show dates; the few real constants are listed with their reason.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')

/** `YYYY-MM` or `YYYY-MM-DD` of this century or the last, as a whole word. */
const DATE = /(?<![\d-])(?:19|20)\d{2}-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?(?![\d-])/g

/** Dates that are constants, not defaults of a report: file → dates, with the reason. */
const ALLOWED: Readonly<Record<string, { dates: readonly string[]; reason: string }>> = {
  'src/simulate/simulate.ts': {
    dates: ['2026-10-31'],
    reason:
      'the simulated world’s last day: a parameter of synthetic data, not a period of real data',
  },
  'src/cli/commands/basics.ts': {
    dates: ['2026-10-31'],
    reason: '`demo --end` and `simulate --end`: the same last simulated day, as a flag default',
  },
  'src/api/routes/ingest.ts': {
    dates: ['2026-11-01'],
    reason: 'an example record in the OpenAPI document, never used as a value',
  },
}

/**
 * A line that may show a date: a comment, an `example`, a message's `e.g.` of a format, or the usage examples of
 * a help text.
 */
const EXEMPT = /^\s*(\/\/|\/?\*)|\bexample\b|\be\.g\. |^\s*(npx )?memberlens |Examples:/

/** The dates written in the code of `source`, as `line: date`, leaving out {@link EXEMPT} lines. */
function datesIn(source: string): string[] {
  const out: string[] = []
  source.split('\n').forEach((line, i) => {
    if (EXEMPT.test(line)) return
    for (const m of line.matchAll(DATE)) out.push(`${i + 1}: ${m[0]}`)
  })
  return out
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .filter((f) => !f.startsWith('web/src/generated/'))
}

describe('no hard-coded dates', () => {
  it('finds a date in code, and not in a comment or a help example', () => {
    expect(
      datesIn(
        [
          "const from = '2025-11'",
          'const to = `${y}-12`, end = "2026-10-31"',
          '// data up to 2026-10-31',
          '  memberlens rfm --as-of 2026-07-01',
          "'Examples:\\n  memberlens points earn 42 --key checkin-42-2026-11-01'",
          "message: 'expected an ISO date, e.g. 2026-11-01'",
          "const version = '1.2026-13'",
        ].join('\n'),
      ),
    ).toEqual(['1: 2025-11', '2: 2026-10-31'])
  })

  it('src/ and web/src/ hold no date but the listed constants', () => {
    const found: string[] = []
    for (const file of [...sources('src'), ...sources('web/src')]) {
      const allowed = ALLOWED[file]?.dates ?? []
      for (const hit of datesIn(readFileSync(join(ROOT, file), 'utf8')))
        if (!allowed.includes(hit.split(': ')[1] ?? '')) found.push(`${file}:${hit}`)
    }
    expect(found).toEqual([])
  })

  it('every listed constant is still there (the list stays short and true)', () => {
    for (const [file, { dates, reason }] of Object.entries(ALLOWED)) {
      expect(reason).not.toBe('')
      const hits = datesIn(readFileSync(join(ROOT, file), 'utf8')).map((h) => h.split(': ')[1])
      for (const d of dates) expect(hits, `${file} ${d}`).toContain(d)
    }
  })
})
