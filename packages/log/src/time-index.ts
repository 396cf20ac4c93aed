/**
 * `.timeindex`: 12-byte entries (largest timestamp so far int64, offset - baseOffset int32), as in
 * Kafka. Both columns only grow. When a segment stops being active, a last entry records its
 * largest timestamp, so retention can read a closed segment's age from the final 12 bytes.
 */
import type { FileIO } from './file-io.js'
import { IndexCorruptError, IndexFile } from './index-file.js'
import { readInt64, writeInt64 } from './record-batch.js'

export const TIME_INDEX_ENTRY_SIZE = 12

export interface TimestampOffset {
  timestamp: number
  offset: number
}

export class TimeIndex extends IndexFile {
  constructor(file: string, baseOffset: number, maxEntries: number, io: FileIO) {
    super(file, baseOffset, maxEntries, TIME_INDEX_ENTRY_SIZE, io)
  }

  timestampAt(i: number): number {
    return readInt64(this.buf, i * 12)
  }

  offsetAt(i: number): number {
    return this.baseOffset + this.buf.readInt32BE(i * 12 + 8)
  }

  lastEntry(): TimestampOffset | null {
    const n = this.entries
    return n === 0 ? null : { timestamp: this.timestampAt(n - 1), offset: this.offsetAt(n - 1) }
  }

  /** Add an entry if the timestamp grew; `force` ignores the size limit (the final entry on roll). */
  maybeAppend(timestamp: number, offset: number, force = false): void {
    this.ensureLoaded()
    if (!force && this.count >= this.maxEntries) return
    if (this.count > 0 && timestamp <= this.timestampAt(this.count - 1)) return
    if (this.count > 0 && offset < this.offsetAt(this.count - 1)) return
    this.grow()
    writeInt64(this.buf, this.count * 12, timestamp)
    this.buf.writeInt32BE(offset - this.baseOffset, this.count * 12 + 8)
    this.count++
  }

  /**
   * The offset to start scanning from for the first record with timestamp >= target: the entry
   * with the largest timestamp strictly below target (every record before its offset is older
   * than target), or the segment start.
   */
  lookup(target: number): number {
    this.ensureLoaded()
    const i = this.search(target, (j) => this.timestampAt(j), true)
    return i < 0 ? this.baseOffset : this.offsetAt(i)
  }

  truncateToOffset(offset: number): void {
    this.ensureLoaded()
    const i = this.search(offset, (j) => this.offsetAt(j), true)
    this.truncateEntries(i + 1)
  }

  protected check(): void {
    let prevTs = -Infinity
    let prevRel = -1
    for (let i = 0; i < this.count; i++) {
      const ts = readInt64(this.buf, i * 12)
      const rel = this.buf.readInt32BE(i * 12 + 8)
      if (rel < 0 || rel < prevRel || ts < prevTs) {
        throw new IndexCorruptError(`${this.file}: entry ${i} (${ts}, ${rel}) is out of order`)
      }
      prevTs = ts
      prevRel = rel
    }
  }
}
