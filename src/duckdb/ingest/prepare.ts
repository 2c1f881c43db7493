/**
 * Makes a source file readable by the engine, or refuses it. A compressed file is decompressed here, in full,
 * into a temporary file that the engine then reads: the decompressor checks the whole stream (a gzip member's
 * CRC and length trailer), so a file cut at any point, even exactly at a line end, is refused instead of
 * loading its first part. A file in GB18030 (GBK) is turned into UTF-8 on the way, line by line, so a
 * byte sequence that is not GB18030 is reported with its line.
 *
 * The engine's own gzip reader stops silently at a missing trailer, and its zstd reader at a cut frame; this
 * step exists so that nothing compressed reaches the engine unchecked.
 * @module
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import * as zlib from 'node:zlib'
import { InputError, type InputIssue } from '../../core/errors.js'

/** Encodings the engine reads itself. */
export type EngineEncoding = 'utf-8' | 'utf-16' | 'latin-1'
/** Encodings turned into UTF-8 here first (GBK is read as GB18030, its superset). */
export const TRANSCODED_ENCODINGS = ['gb18030', 'gbk'] as const
export type TranscodedEncoding = (typeof TRANSCODED_ENCODINGS)[number]

export type Compression = 'none' | 'gzip' | 'zstd'

export interface PreparedInput {
  /** What the engine reads: the file itself, or an uncompressed UTF-8 copy. */
  readonly path: string
  /** Encoding of `path`. */
  readonly encoding: EngineEncoding
  readonly compression: Compression
  /** Removes the temporary copy, if any. */
  cleanup(): Promise<void>
}

export interface PrepareOptions {
  readonly encoding: EngineEncoding | TranscodedEncoding
  /** Text formats (CSV, JSON Lines) may be transcoded; Parquet is binary. */
  readonly text: boolean
  readonly maxIssues: number
}

/** Compression by the file's first bytes, whatever its name. */
export async function detectCompression(path: string): Promise<Compression> {
  const handle = await open(path, 'r')
  try {
    const head = Buffer.alloc(4)
    const { bytesRead } = await handle.read(head, 0, 4, 0)
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip'
    if (bytesRead === 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd'
    return 'none'
  } finally {
    await handle.close()
  }
}

type ZstdFactory = () => Transform
/** Node's zstd decompressor (Node 22.15 and later); undefined on older versions. */
function zstdDecompressor(): ZstdFactory | undefined {
  const factory = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress
  return typeof factory === 'function' ? factory.bind(zlib) : undefined
}

/** Counts the lines that passed through, to say where decompressed data stopped. */
class LineCounter extends Transform {
  lines = 0
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let at = chunk.indexOf(0x0a)
    while (at >= 0) {
      this.lines++
      at = chunk.indexOf(0x0a, at + 1)
    }
    done(null, chunk)
  }
}

/**
 * GB18030 to UTF-8, a run of whole lines at a time (0x0A never occurs inside a GB18030 character, so a line
 * end is always a character boundary). Lines that are not GB18030 are collected as issues and reported at
 * the end; nothing is written after the first one.
 */
class Gb18030ToUtf8 extends Transform {
  private tail: Buffer = Buffer.alloc(0)
  private line = 1
  private readonly decoder = new TextDecoder('gb18030', { fatal: true })
  private readonly issues: InputIssue[] = []
  private total = 0

  constructor(
    private readonly file: string,
    private readonly maxIssues: number,
  ) {
    super()
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const buf = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk])
    const cut = buf.lastIndexOf(0x0a)
    if (cut < 0 && buf.length < 1 << 20) {
      this.tail = buf
      done()
      return
    }
    // Without a line end in a whole megabyte, decode what there is: the decoder keeps a split character.
    const end = cut < 0 ? buf.length : cut + 1
    this.tail = buf.subarray(end)
    this.decode(buf.subarray(0, end), true)
    done()
  }

  override _flush(done: TransformCallback): void {
    this.decode(this.tail, false)
    if (this.total > 0) {
      done(
        new InputError(
          `${this.file}: ${this.total} line(s) are not GB18030 text; nothing was loaded`,
          this.issues,
          this.total,
        ),
      )
      return
    }
    done()
  }

  private decode(part: Buffer, more: boolean): void {
    if (this.total === 0) {
      try {
        const text = this.decoder.decode(part, { stream: more })
        if (text.length > 0) this.push(Buffer.from(text, 'utf8'))
        this.line += countLines(part)
        return
      } catch {
        // Find the lines at fault below.
      }
    }
    const lines = part.toString('latin1').split('\n')
    let start = 0
    lines.forEach((text, i) => {
      const bytes = part.subarray(start, start + text.length)
      start += text.length + 1
      if (bytes.length > 0 && !isGb18030(bytes)) {
        this.total++
        if (this.issues.length < this.maxIssues) {
          this.issues.push({
            file: this.file,
            line: this.line,
            reason:
              'bytes that are not GB18030 text (the file is not in the encoding given by --encoding)',
          })
        }
      }
      if (i < lines.length - 1) this.line++
    })
  }
}

function isGb18030(bytes: Buffer): boolean {
  try {
    new TextDecoder('gb18030', { fatal: true }).decode(bytes)
    return true
  } catch {
    return false
  }
}

function countLines(part: Buffer): number {
  let n = 0
  let at = part.indexOf(0x0a)
  while (at >= 0) {
    n++
    at = part.indexOf(0x0a, at + 1)
  }
  return n
}

/** The reason a decompressor gave, in the user's terms. */
function compressionReason(kind: 'gzip' | 'zstd', error: unknown, lines: number): string {
  const code = (error as { code?: string }).code
  const message = error instanceof Error ? error.message : String(error)
  if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(message)) {
    return `the ${kind} data ends early: the file is cut short (its text stops after ${lines.toLocaleString('en-US')} complete line(s)); nothing was loaded`
  }
  return `the ${kind} data is damaged (${message}); nothing was loaded`
}

/** Decompresses and transcodes as needed; the caller must call `cleanup` when the engine has read the file. */
export async function prepareInput(file: string, options: PrepareOptions): Promise<PreparedInput> {
  const compression = await detectCompression(file)
  const transcode =
    options.text && (TRANSCODED_ENCODINGS as readonly string[]).includes(options.encoding)
  const encoding: EngineEncoding = transcode ? 'utf-8' : (options.encoding as EngineEncoding)
  if (compression === 'none' && !transcode) {
    return { path: file, encoding, compression, cleanup: async () => {} }
  }
  let decompress: Transform | undefined
  if (compression === 'gzip') decompress = zlib.createGunzip()
  else if (compression === 'zstd') {
    const factory = zstdDecompressor()
    if (factory === undefined) {
      throw InputError.single({
        file,
        reason:
          'zstd-compressed files need Node.js 22.15 or later to be checked for completeness; decompress it first (zstd -d) or use gzip',
      })
    }
    decompress = factory()
  }
  const dir = await mkdtemp(join(tmpdir(), 'memberlens-ingest-'))
  const cleanup = () => rm(dir, { recursive: true, force: true })
  const name = basename(file).replace(/\.(gz|gzip|zst)$/i, '') || 'source'
  const out = join(dir, name)
  const counter = new LineCounter()
  const stages: Transform[] = []
  if (decompress !== undefined) stages.push(decompress, counter)
  if (transcode) stages.push(new Gb18030ToUtf8(file, options.maxIssues))
  // Which stage failed decides whose fault it is: the compressed data's, or the machine's (disk full…).
  let damaged: unknown
  decompress?.once('error', (error) => {
    damaged = error
  })
  try {
    await pipeline([createReadStream(file), ...stages, createWriteStream(out)])
  } catch (error) {
    await cleanup()
    if (error instanceof InputError) throw error
    if (damaged !== undefined) {
      throw InputError.single({
        file,
        reason: compressionReason(compression === 'zstd' ? 'zstd' : 'gzip', damaged, counter.lines),
      })
    }
    throw error
  }
  return { path: out, encoding, compression, cleanup }
}
