/**
 * A line-by-line reading of a text file that finds what makes it unreadable and says where: the physical line
 * (as an editor numbers it), the field (by its header name) and the reason in the user's terms. It runs when
 * the engine's reader has refused a file or rejected lines, whose own messages often name no line or the wrong
 * one, and it counts each bad line once.
 *
 * CSV is read as RFC 4180 with the given delimiter and `"` as quote (a quote inside a quoted field is doubled);
 * a quote inside an unquoted field is data, as the engine reads it. Lines mode (JSON Lines, logs) checks only
 * line size, encoding and line endings.
 * @module
 */
import { isUtf8 } from 'node:buffer'
import { createReadStream } from 'node:fs'
import type { InputIssue } from '../../core/errors.js'

export interface ScanOptions {
  /** The file as the user named it, for messages. */
  readonly file: string
  readonly mode: 'csv' | 'lines'
  /** CSV delimiter (one character). */
  readonly delimiter: string
  /** Longest line in bytes, line ending included. */
  readonly maxLineSize: number
  /** How bytes become text: UTF-8 (checked) or Latin-1 (every byte is a character). */
  readonly encoding: 'utf-8' | 'latin-1'
  /** Issues to keep (all are counted). */
  readonly maxIssues: number
}

/** What kind of problem a line has; only `mixed-endings` is one the reader can be told to accept. */
export type ScanIssueKind =
  | 'line-size'
  | 'encoding'
  | 'mixed-endings'
  | 'stray-cr'
  | 'after-quote'
  | 'unterminated-quote'
  | 'field-count'

export interface ScanIssue extends InputIssue {
  readonly kind: ScanIssueKind
}

export interface ScanResult {
  /** The first problems, one per line, in line order. */
  readonly issues: readonly ScanIssue[]
  /** Lines with a problem. */
  readonly total: number
  /** Every kind found (also beyond the issues kept). */
  readonly kinds: ReadonlySet<ScanIssueKind>
  /** Data records: for CSV, records after the header that are not blank; for lines, non-blank lines. */
  readonly records: number
  /**
   * When lines were not UTF-8 and every such line reads as GB18030: the first one's line, field and text so
   * read, for a message that suggests `--encoding gb18030`.
   */
  readonly gb18030?: { readonly line: number; readonly field?: string; readonly text: string }
}

type Ending = 'lf' | 'crlf' | 'cr' | ''

interface PhysicalLine {
  /** The line's bytes without its ending; only the first `maxLineSize + 1` bytes when the line is longer. */
  readonly bytes: Buffer
  /** The line's full size in bytes, ending included. */
  readonly size: number
  readonly ending: Ending
}

const LF = 0x0a
const CR = 0x0d
/** Lines not UTF-8 that are kept to test whether the file reads as GB18030. */
const GB_SAMPLE = 200

/**
 * Splits a file into physical lines at LF (a CR just before it belongs to the ending), or at CR in an old
 * Mac file, one whose first megabyte holds CRs and no LF.
 */
async function* physicalLines(path: string, maxLineSize: number): AsyncGenerator<PhysicalLine> {
  let parts: Buffer[] = []
  let kept = 0
  let size = 0
  let lastByte = -1
  let crOnly: boolean | undefined
  const take = (chunk: Buffer, from: number, to: number) => {
    if (to <= from) return
    size += to - from
    lastByte = chunk[to - 1] ?? -1
    const room = maxLineSize + 1 - kept
    if (room > 0) {
      const piece = chunk.subarray(from, Math.min(to, from + room))
      parts.push(piece)
      kept += piece.length
    }
  }
  const finish = (ending: 'lf' | 'cr' | ''): PhysicalLine => {
    let bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)
    let content = size
    let end: Ending = ending
    if (ending === 'lf' && lastByte === CR) {
      end = 'crlf'
      content--
      if (bytes.length > content) bytes = bytes.subarray(0, content)
    }
    const line = { bytes, size: content + (end === 'crlf' ? 2 : end === '' ? 0 : 1), ending: end }
    parts = []
    kept = 0
    size = 0
    lastByte = -1
    return line
  }
  for await (const raw of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const chunk = raw as Buffer
    if (crOnly === undefined) {
      if (chunk.includes(LF)) crOnly = false
      else if (chunk.includes(CR)) crOnly = true
    }
    const sep = crOnly === true ? CR : LF
    let pos = 0
    for (;;) {
      const at = chunk.indexOf(sep, pos)
      if (at < 0) {
        take(chunk, pos, chunk.length)
        break
      }
      take(chunk, pos, at)
      yield finish(sep === LF ? 'lf' : 'cr')
      pos = at + 1
    }
  }
  if (size > 0) yield finish('')
}

const ENDING_NAME: Record<Ending, string> = {
  lf: 'LF',
  crlf: 'CR LF',
  cr: 'CR',
  '': 'nothing',
}

/** Splits one line into fields, unquoting quoted ones (for a preview, not for structure). */
function splitFields(text: string, delimiter: string): string[] {
  const out: string[] = []
  let i = 0
  for (;;) {
    if (text[i] === '"') {
      let value = ''
      let j = i + 1
      for (;;) {
        const q = text.indexOf('"', j)
        if (q < 0) {
          value += text.slice(j)
          j = text.length
          break
        }
        value += text.slice(j, q)
        if (text[q + 1] === '"') {
          value += '"'
          j = q + 2
        } else {
          j = q + 1
          break
        }
      }
      const d = text.indexOf(delimiter, j)
      out.push(value)
      if (d < 0) return out
      i = d + delimiter.length
    } else {
      const d = text.indexOf(delimiter, i)
      out.push(text.slice(i, d < 0 ? text.length : d))
      if (d < 0) return out
      i = d + delimiter.length
    }
  }
}

/** Index of the field that holds character `at` of a line that starts a record. */
function fieldAt(text: string, at: number, delimiter: string): number {
  let field = 0
  let quoted = false
  for (let i = 0; i < at && i < text.length; i++) {
    const c = text[i]
    if (c === '"') quoted = !quoted
    else if (!quoted && text.startsWith(delimiter, i)) field++
  }
  return field
}

function bytesText(n: number): string {
  return `${n.toLocaleString('en-US')} bytes`
}

/** Reads the whole file and reports what the engine could not read, line by line. */
export async function scanText(path: string, options: ScanOptions): Promise<ScanResult> {
  const { delimiter, maxLineSize, maxIssues, file } = options
  const csv = options.mode === 'csv'
  const issues: ScanIssue[] = []
  const kinds = new Set<ScanIssueKind>()
  let total = 0
  let lastCounted = 0
  const report = (line: number, kind: ScanIssueKind, reason: string, field?: string) => {
    kinds.add(kind)
    if (line === lastCounted) return
    lastCounted = line
    total++
    if (issues.length < maxIssues) {
      issues.push({ file, line, ...(field === undefined ? {} : { field }), reason, kind })
    }
  }

  const utf8 = new TextDecoder('utf-8')
  let lineNo = 0
  /** How the first record of the file ends, and on which line: every record ends so. */
  let fileEnding: Ending | undefined
  let fileEndingLine = 0
  let records = 0
  const notUtf8: Array<{ line: number; bytes: Buffer; field?: string; fieldIndex: number }> = []
  let notUtf8Count = 0

  // CSV state, carried across lines while a quoted field spans them.
  /** The header's field names, once its record is read; empty when its line was unreadable. */
  let header: string[] | undefined
  let countFields = true
  const headerCells: string[] = []
  let cell = ''
  let inQuotes = false
  let quoteLine = 0
  let quoteField = 0
  let fieldIndex = 0
  let recordStart = 0
  const collecting = () => header === undefined
  const fieldName = (i: number) =>
    header === undefined || header.length === 0
      ? undefined
      : (header[i] ?? `field ${i + 1} (beyond the header)`)
  const endField = () => {
    if (collecting()) {
      headerCells.push(fieldIndex === 0 ? cell.replace(/^\uFEFF/, '') : cell)
      cell = ''
    }
    fieldIndex++
  }
  /** A record that could not be read to its end: the next line starts afresh. */
  const abandonRecord = () => {
    inQuotes = false
    fieldIndex = 0
    cell = ''
    if (header === undefined) {
      header = []
      countFields = false
    } else records++
  }

  /** Walks one line's characters; returns false when the line had a problem (already reported). */
  const walk = (text: string, line: number): boolean => {
    let i = 0
    const n = text.length
    for (;;) {
      if (inQuotes) {
        const q = text.indexOf('"', i)
        if (q < 0) {
          if (collecting()) cell += `${text.slice(i)}\n`
          return true
        }
        if (text[q + 1] === '"') {
          if (collecting()) cell += text.slice(i, q + 1)
          i = q + 2
          continue
        }
        if (collecting()) cell += text.slice(i, q)
        inQuotes = false
        i = q + 1
        if (i === n) {
          endField()
          return true
        }
        if (!text.startsWith(delimiter, i)) {
          const name = fieldName(fieldIndex)
          report(
            line,
            'after-quote',
            `text after the closing quote of ${name === undefined ? 'a field' : `field ${name}`} (a quote inside a quoted field must be doubled: "")`,
            name,
          )
          return false
        }
        endField()
        i += delimiter.length
        continue
      }
      if (text[i] === '"') {
        inQuotes = true
        quoteLine = line
        quoteField = fieldIndex
        i++
        continue
      }
      const d = text.indexOf(delimiter, i)
      const end = d < 0 ? n : d
      const cr = text.indexOf('\r', i)
      if (cr >= 0 && cr < end) {
        const name = fieldName(fieldIndex)
        report(
          line,
          'stray-cr',
          `a carriage return (CR) inside the line${name === undefined ? '' : `, in field ${name}`}, outside quotes: its line endings are broken`,
          name,
        )
        return false
      }
      if (collecting()) cell += text.slice(i, end)
      endField()
      if (d < 0) return true
      i = d + delimiter.length
    }
  }

  const endRecord = (line: number, lastLine: boolean, ending: Ending) => {
    const fields = fieldIndex
    fieldIndex = 0
    if (header === undefined) {
      header = headerCells.slice()
      return
    }
    records++
    if (!countFields || fields === header.length) return
    const multi = line !== recordStart
    const where = multi
      ? `the record that starts on line ${recordStart} and ends on line ${line} (a quoted field spans lines)`
      : 'the line'
    let reason = `${where} has ${fields} field(s); the header has ${header.length}`
    if (multi) reason += `: check for a missing closing quote on line ${recordStart}`
    else if (fields < header.length && lastLine && ending === '')
      reason += ': the last line is incomplete (was the file cut short?)'
    else if (fields > header.length)
      reason += ` (is there an unquoted ${JSON.stringify(delimiter)} in a value?)`
    report(recordStart, 'field-count', reason)
  }

  const handle = (pl: PhysicalLine, lastLine: boolean) => {
    lineNo++
    const line = lineNo
    const { bytes, size, ending } = pl
    // The size limit applies to every physical line, quoted or not, as in the engine's reader.
    if (size > maxLineSize) {
      const prefix = bytes.subarray(0, maxLineSize).toString('latin1')
      const name = csv && !inQuotes ? fieldName(fieldAt(prefix, maxLineSize, delimiter)) : undefined
      report(
        line,
        'line-size',
        `the line is ${bytesText(size)} long, over the limit of ${bytesText(maxLineSize)} per line${name === undefined ? '' : ` (field ${name} crosses it)`}; if the data is right, raise the limit with --max-line-size`,
        name,
      )
      if (csv && !inQuotes) abandonRecord()
      else if (!csv) records++
      return
    }
    const badBytes = options.encoding === 'utf-8' && !isUtf8(bytes)
    const text = options.encoding === 'utf-8' ? utf8.decode(bytes) : bytes.toString('latin1')
    const startsRecord = !inQuotes
    if (badBytes) {
      const index = csv && startsRecord ? fieldAt(text, text.indexOf('\uFFFD'), delimiter) : -1
      const name = index >= 0 ? fieldName(index) : undefined
      notUtf8Count++
      if (notUtf8.length < GB_SAMPLE)
        notUtf8.push({
          line,
          bytes,
          fieldIndex: index,
          ...(name === undefined ? {} : { field: name }),
        })
      report(
        line,
        'encoding',
        `bytes that are not UTF-8${name === undefined ? '' : ` in field ${name}`} (the file is not utf-8 encoded; see --encoding)`,
        name,
      )
    }
    // Line endings: outside quotes every line ends as the first one does.
    const checkEnding = () => {
      if (fileEnding !== undefined && ending !== '' && ending !== fileEnding) {
        report(
          line,
          'mixed-endings',
          `the line ends with ${ENDING_NAME[ending]} but line ${fileEndingLine} ends with ${ENDING_NAME[fileEnding]}: the file mixes line endings`,
        )
      }
      if (fileEnding === undefined && ending !== '') {
        fileEnding = ending
        fileEndingLine = line
      }
    }
    if (!csv) {
      checkEnding()
      if (text.includes('\r')) {
        report(
          line,
          'stray-cr',
          'a carriage return (CR) alone inside the line: its line endings are broken',
        )
      }
      if (text.trim() !== '') records++
      return
    }
    if (startsRecord) {
      if (text === '' && header !== undefined) {
        checkEnding()
        return // blank lines are skipped
      }
      recordStart = line
    }
    if (!walk(text, line)) {
      abandonRecord()
      return
    }
    if (!inQuotes) {
      checkEnding()
      endRecord(line, lastLine, ending)
    }
  }

  let held: PhysicalLine | undefined
  for await (const pl of physicalLines(path, maxLineSize)) {
    if (held !== undefined) handle(held, false)
    held = pl
  }
  if (held !== undefined) handle(held, true)
  if (csv && inQuotes) {
    const name = fieldName(quoteField)
    report(
      quoteLine,
      'unterminated-quote',
      `the quote that opens ${name === undefined ? 'a field' : `field ${name}`} on line ${quoteLine} is never closed (unterminated quote)`,
      name,
    )
  }
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0))

  let gb18030: ScanResult['gb18030']
  if (notUtf8Count > 0 && notUtf8Count === notUtf8.length) {
    const gb = new TextDecoder('gb18030', { fatal: true })
    const decoded: string[] = []
    try {
      for (const bad of notUtf8) decoded.push(gb.decode(bad.bytes))
    } catch {
      decoded.length = 0
    }
    const first = notUtf8[0]
    const firstText = decoded[0]
    if (
      first !== undefined &&
      firstText !== undefined &&
      /[\u3400-\u9fff]/.test(decoded.join(''))
    ) {
      // The field that holds the bytes, or (lines mode) the text around the first non-ASCII character.
      const around = Math.max(0, firstText.search(/[^\p{ASCII}]/u) - 12)
      const value =
        csv && first.fieldIndex >= 0
          ? (splitFields(firstText, delimiter)[first.fieldIndex] ?? firstText)
          : `${around > 0 ? '…' : ''}${firstText.slice(around)}`
      gb18030 = {
        line: first.line,
        ...(first.field === undefined ? {} : { field: first.field }),
        text: value.length > 40 ? `${value.slice(0, 40)}…` : value,
      }
    }
  }
  return { issues, total, kinds, records, ...(gb18030 === undefined ? {} : { gb18030 }) }
}
