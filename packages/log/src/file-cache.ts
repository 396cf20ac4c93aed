/**
 * A bounded LRU of read-only file descriptors, shared by every segment of every log that uses it,
 * so a log of 10,000 segments (or a broker of 1,000 partitions) never runs into EMFILE.
 *
 * A descriptor handed out by `acquire` is used synchronously and at once by the caller; eviction
 * only happens inside a later `acquire`, so a descriptor is never closed under a read.
 * Active segments hold their own read-write descriptor outside this cache.
 */
import * as path from 'node:path'
import type { FileIO } from './file-io.js'

export class FileCache {
  // A Map iterates in insertion order: re-inserting on use keeps the least recent first.
  private readonly open = new Map<string, number>()

  constructor(
    readonly capacity: number,
    private readonly io: FileIO,
  ) {
    if (!(capacity >= 1)) throw new RangeError('a FileCache needs room for at least one file')
  }

  get size(): number {
    return this.open.size
  }

  acquire(file: string): number {
    const fd = this.open.get(file)
    if (fd !== undefined) {
      this.open.delete(file)
      this.open.set(file, fd)
      return fd
    }
    while (this.open.size >= this.capacity) {
      const [oldest, oldFd] = this.open.entries().next().value as [string, number]
      this.open.delete(oldest)
      this.io.closeSync(oldFd)
    }
    const newFd = this.io.openSync(file, 'r')
    this.open.set(file, newFd)
    return newFd
  }

  /** Close the file's descriptor if it is open: before a delete, a rename or a truncate. */
  release(file: string): void {
    const fd = this.open.get(file)
    if (fd === undefined) return
    this.open.delete(file)
    this.io.closeSync(fd)
  }

  /** Close every descriptor under `dir`. */
  releaseDir(dir: string): void {
    // With the separator, or releasing `orders-1` would close the files of `orders-10` too.
    const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep
    for (const file of [...this.open.keys()]) if (file.startsWith(prefix)) this.release(file)
  }
}
