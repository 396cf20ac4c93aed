/**
 * `.index`: sparse 8-byte entries (offset - baseOffset int32, byte position int32), as in Kafka.
 * An entry maps the last offset of a batch to the position where that batch starts; one is added
 * each time more than `indexIntervalBytes` were appended since the last. Lookup finds the last
 * entry at or below an offset; the segment then scans forward from its position.
 */
import type { FileIO } from './file-io.js'
import { IndexCorruptError, IndexFile } from './index-file.js'

export const OFFSET_INDEX_ENTRY_SIZE = 8

export interface IndexPosition {
  offset: number
  position: number
}

export class OffsetIndex extends IndexFile {
  constructor(file: string, baseOffset: number, maxEntries: number, io: FileIO) {
    super(file, baseOffset, maxEntries, OFFSET_INDEX_ENTRY_SIZE, io)
  }

  offsetAt(i: number): number {
    return this.baseOffset + this.buf.readInt32BE(i * 8)
  }

  positionAt(i: number): number {
    return this.buf.readInt32BE(i * 8 + 4)
  }

  lastEntry(): IndexPosition | null {
    const n = this.entries
    return n === 0 ? null : { offset: this.offsetAt(n - 1), position: this.positionAt(n - 1) }
  }

  append(offset: number, position: number): void {
    this.ensureLoaded()
    if (this.count >= this.maxEntries) return
    if (this.count > 0 && offset <= this.offsetAt(this.count - 1)) return
    this.grow()
    this.buf.writeInt32BE(offset - this.baseOffset, this.count * 8)
    this.buf.writeInt32BE(position, this.count * 8 + 4)
    this.count++
  }

  /** The last entry with offset <= target, or the segment start. */
  lookup(target: number): IndexPosition {
    this.ensureLoaded()
    const i = this.search(target, (j) => this.offsetAt(j), false)
    return i < 0 ? { offset: this.baseOffset, position: 0 } : { offset: this.offsetAt(i), position: this.positionAt(i) }
  }

  /** Drop entries for offsets at or above `offset` (their batches are gone). */
  truncateToOffset(offset: number): void {
    this.ensureLoaded()
    const i = this.search(offset, (j) => this.offsetAt(j), true)
    this.truncateEntries(i + 1)
  }

  /** Drop entries that point at or past `size` bytes of the log. */
  truncateToSize(size: number): void {
    this.ensureLoaded()
    const i = this.search(size, (j) => this.positionAt(j), true)
    this.truncateEntries(i + 1)
  }

  protected check(): void {
    let prevOffset = -1
    let prevPosition = -1
    for (let i = 0; i < this.count; i++) {
      const rel = this.buf.readInt32BE(i * 8)
      const pos = this.buf.readInt32BE(i * 8 + 4)
      if (rel < 0 || rel <= prevOffset || pos <= prevPosition) {
        throw new IndexCorruptError(`${this.file}: entry ${i} (${rel}, ${pos}) is out of order`)
      }
      prevOffset = rel
      prevPosition = pos
    }
  }
}
