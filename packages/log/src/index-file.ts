/**
 * The part the offset index and the time index share: fixed-size big-endian entries, kept in a
 * Buffer while the segment needs them and appended to their file on flush, roll and close.
 *
 * An index is a hint, never the truth: everything it says can be rebuilt from the .log file, so it
 * is not fsynced with the data. After an unclean stop the indexes of every segment above the
 * recovery point are rebuilt; below it, an index that fails `check` is rebuilt when first loaded.
 */
import type { FileIO } from './file-io.js'

export class IndexCorruptError extends Error {}

export abstract class IndexFile {
  protected buf: Buffer
  protected count = 0
  /** Entries already in the file. */
  private persisted = 0
  private loaded = false

  constructor(
    readonly file: string,
    readonly baseOffset: number,
    readonly maxEntries: number,
    readonly entrySize: number,
    protected readonly io: FileIO,
  ) {
    this.buf = Buffer.alloc(0)
  }

  get entries(): number {
    this.ensureLoaded()
    return this.count
  }

  get isLoaded(): boolean {
    return this.loaded
  }

  get isFull(): boolean {
    return this.entries >= this.maxEntries
  }

  /** Start empty, as for a new segment or a rebuild; the file is rewritten on the next flush. */
  reset(): void {
    this.buf = Buffer.alloc(Math.min(4096, this.maxEntries * this.entrySize))
    this.count = 0
    this.persisted = -1 // forces a rewrite from the start of the file
    this.loaded = true
  }

  /** Read the file into memory; throws IndexCorruptError if it fails the sanity checks. */
  ensureLoaded(): void {
    if (this.loaded) return
    let data: Buffer
    try {
      data = this.io.readFileSync(this.file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new IndexCorruptError(`${this.file} is missing`)
      throw err
    }
    if (data.length % this.entrySize !== 0) {
      throw new IndexCorruptError(`${this.file} is ${data.length} bytes, not a multiple of ${this.entrySize}`)
    }
    this.buf = data
    this.count = data.length / this.entrySize
    this.persisted = this.count
    this.loaded = true
    try {
      this.check()
    } catch (err) {
      this.unload()
      throw err
    }
  }

  /** Drop the entries from memory; the next lookup reads the file again. */
  unload(): void {
    if (this.persisted !== this.count) return // unsaved entries: keep them
    this.buf = Buffer.alloc(0)
    this.count = 0
    this.loaded = false
  }

  /** Throws IndexCorruptError unless entries are in order and plausible. */
  protected abstract check(): void

  protected grow(): void {
    const need = (this.count + 1) * this.entrySize
    if (need <= this.buf.length) return
    // Never past the limit, except by the forced last entry a time index gets on roll.
    const next = Buffer.alloc(Math.min(Math.max(need, this.buf.length * 2), Math.max(need, this.maxEntries * this.entrySize)))
    this.buf.copy(next, 0, 0, this.count * this.entrySize)
    this.buf = next
  }

  /** Keep the first `n` entries. */
  truncateEntries(n: number): void {
    this.ensureLoaded()
    if (n >= this.count) return
    this.count = n
    if (this.persisted > n) this.persisted = -1
  }

  /** Bring the file in line with memory: append new entries, or rewrite it after a truncation. */
  writeOut(): void {
    if (!this.loaded || this.persisted === this.count) return
    const rewrite = this.persisted < 0
    const from = rewrite ? 0 : this.persisted
    const fd = this.io.openSync(this.file, rewrite ? 'w' : 'a')
    try {
      const bytes = this.buf.subarray(from * this.entrySize, this.count * this.entrySize)
      if (bytes.length > 0) this.io.writevSync(fd, [bytes], from * this.entrySize)
    } finally {
      this.io.closeSync(fd)
    }
    this.persisted = this.count
  }

  /** Largest i with key(i) <= target (or < target when `strict`), or -1. Keys are non-decreasing. */
  protected search(target: number, key: (i: number) => number, strict: boolean): number {
    let lo = 0
    let hi = this.count - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const k = key(mid)
      if (strict ? k < target : k <= target) {
        found = mid
        lo = mid + 1
      } else {
        hi = mid - 1
      }
    }
    return found
  }
}
