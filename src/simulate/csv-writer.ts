/**
 * A buffered CSV file writer: lines are encoded straight into a ~1 MB byte block, and full blocks are
 * handed to the file stream, waiting for `drain` when the stream asks for it (backpressure).
 *
 * Encoding each line at once, instead of concatenating lines into one big string, lets the line strings
 * die young: a megabyte-long string rope would survive several scavenges, get promoted and then be
 * flattened, which made garbage collection the largest cost of a run.
 * @module
 */
import { createWriteStream, type WriteStream } from 'node:fs'
import { once } from 'node:events'
import { finished } from 'node:stream/promises'

/** Bytes per block handed to the stream. */
const BLOCK_BYTES = 1 << 20

export class CsvWriter {
  readonly path: string
  /** Data rows written so far (the header is not counted). */
  rows = 0
  private block: Buffer = Buffer.allocUnsafe(BLOCK_BYTES)
  private used = 0
  private readonly ready: Buffer[] = []
  private readonly stream: WriteStream
  private failure: unknown = undefined

  constructor(path: string, header: readonly string[]) {
    this.path = path
    this.stream = createWriteStream(path)
    // Without a listener a write error would be thrown asynchronously and crash the process.
    this.stream.on('error', (err) => {
      this.failure = err
    })
    this.put(header.join(','))
  }

  /** Appends one already formatted line (without its line break). */
  add(line: string): void {
    this.put(line)
    this.rows++
  }

  /** Encodes `text` and a line break into the current block, starting a new block when needed. */
  private put(text: string): void {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8; one more byte for the line break.
    const room = 3 * text.length + 1
    if (this.used + room > this.block.length) {
      this.ready.push(this.block.subarray(0, this.used))
      this.block = Buffer.allocUnsafe(Math.max(BLOCK_BYTES, room))
      this.used = 0
    }
    this.used += this.block.write(text, this.used, 'utf8')
    this.block[this.used++] = 10
  }

  /** True once a full block is waiting to be written. */
  get full(): boolean {
    return this.ready.length > 0
  }

  /** Writes the full blocks, waiting for the stream to drain if its own buffer is full. */
  async flush(): Promise<void> {
    if (this.failure !== undefined) throw this.failure
    while (this.ready.length > 0) {
      const chunk = this.ready.shift()
      if (chunk !== undefined && !this.stream.write(chunk)) await once(this.stream, 'drain')
    }
  }

  /** Writes everything, closes the file and waits until it is on disk. */
  async close(): Promise<void> {
    if (this.stream.writableEnded) return
    if (this.used > 0) {
      this.ready.push(this.block.subarray(0, this.used))
      this.used = 0
    }
    await this.flush()
    this.stream.end()
    await finished(this.stream)
    if (this.failure !== undefined) throw this.failure
  }
}
