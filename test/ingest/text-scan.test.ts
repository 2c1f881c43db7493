import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scanText, type ScanOptions } from '../../src/duckdb/ingest/text-scan.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-scan-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const CHUNK = 1 << 20
let n = 0
async function scan(content: string | Buffer, options: Partial<ScanOptions> = {}) {
  const path = join(dir, `f${n++}.csv`)
  await writeFile(path, content)
  return scanText(path, {
    file: path,
    mode: 'csv',
    delimiter: ',',
    maxLineSize: 2_097_152,
    encoding: 'utf-8',
    maxIssues: 20,
    ...options,
  })
}

describe('line-by-line reading', () => {
  it('keeps a CR LF that straddles the read boundary as one line ending', async () => {
    // Line 2's CR lands just before, on, or just after the last byte of the first megabyte read.
    for (const d of [-2, -1, 0, 1, 2]) {
      const x = 'x'.repeat(CHUNK - 8 + d)
      const text = `a,b\r\n1,${x}\r\n2,y\r\n3,z\r\n`
      expect(text.indexOf('\r', 5)).toBe(CHUNK - 1 + d)
      const r = await scan(text)
      expect(r.issues, `offset ${d}`).toEqual([])
      expect(r.records, `offset ${d}`).toBe(3)
    }
  })

  it('names one CR LF line among LF lines and one LF line among CR LF lines', async () => {
    const lf = await scan('a,b\n1,2\n3,4\r\n5,6\n')
    expect(lf.issues.map((i) => [i.line, i.kind])).toEqual([[3, 'mixed-endings']])
    expect(lf.records).toBe(3)
    const crlf = await scan('a,b\r\n1,2\r\n3,4\n5,6\r\n')
    expect(crlf.issues.map((i) => [i.line, i.kind, i.reason])).toEqual([
      [
        3,
        'mixed-endings',
        'the line ends with LF but line 1 ends with CR LF: the file mixes line endings',
      ],
    ])
  })

  it('reads a file whose lines end with CR alone', async () => {
    const r = await scan('a,b\r1,2\r3,4,5\r')
    expect(r.issues.map((i) => [i.line, i.kind])).toEqual([[3, 'field-count']])
    expect(r.records).toBe(2)
  })

  it('keeps line endings inside quotes as data, and counts the record once', async () => {
    const r = await scan('a,b\n1,"x\r\ny\nz"\n2,3\n')
    expect(r.issues).toEqual([])
    expect(r.records).toBe(2)
    const bad = await scan('a,b\n1,"x\ny\nz",9\n2,3\n')
    expect(bad.issues).toEqual([
      expect.objectContaining({
        line: 2,
        kind: 'field-count',
        reason: expect.stringContaining('the record that starts on line 2 and ends on line 4'),
      }),
    ])
  })

  it('counts a line over the limit once, however many read chunks it spans', async () => {
    const r = await scan(`a,b\n1,${'x'.repeat(3 * CHUNK)}\n2,3\n`, { maxLineSize: CHUNK })
    expect(r.issues).toEqual([expect.objectContaining({ line: 2, field: 'b', kind: 'line-size' })])
    expect(r.total).toBe(1)
  })

  it('reads lines mode: sizes, encodings and stray CRs only', async () => {
    const r = await scan(Buffer.from('{"a":1}\n{"a":"\r"}\n\n{"a":"\xff"}\n', 'latin1'), {
      mode: 'lines',
    })
    expect(r.issues.map((i) => [i.line, i.kind])).toEqual([
      [2, 'stray-cr'],
      [4, 'encoding'],
    ])
    expect(r.records).toBe(3)
  })
})
