/**
 * The only module of @samsa/log that touches the file system. Everything above it goes through a
 * `FileIO`, so tests can inject faults (ENOSPC, EIO, a torn write) and the hot path is easy to see.
 *
 * Writes and reads are synchronous: they hit the page cache and take microseconds, and doing them
 * in-line keeps the in-memory state of a log in step with its files without locks. The slow calls,
 * fdatasync and fsync, are asynchronous so that appends keep arriving (and group) while a sync is
 * in flight.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'

export interface FileIO {
  openSync(file: string, flags: string): number
  closeSync(fd: number): void
  readSync(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number
  /** Writes all of `buffers` at `position`; returns the bytes written. */
  writevSync(fd: number, buffers: ReadonlyArray<Uint8Array>, position: number): number
  ftruncateSync(fd: number, length: number): void
  fstatSizeSync(fd: number): number
  /** fdatasync: the data and the size, not the metadata a reader never needs. */
  fdatasync(fd: number): Promise<void>
  fdatasyncSync(fd: number): void
  /**
   * Start writing `file`'s dirty pages back without waiting for it (see WriteBehindThread).
   * Returns false when a previous request is still running, and nothing is done.
   */
  writeBehind(file: string): boolean
  /** Done with write-behind for `file`: the descriptor kept for it is closed. */
  endWriteBehind(file: string): void
  /** fsync of a directory, so that created, renamed and deleted names survive a power loss. */
  fsyncDirSync(dir: string): void
  readdirSync(dir: string): string[]
  mkdirSync(dir: string): void
  renameSync(from: string, to: string): void
  unlinkSync(file: string): void
  rmSync(target: string): void
  existsSync(file: string): boolean
  statSizeSync(file: string): number
  readFileSync(file: string): Buffer
}

function fdatasyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())))
}

export const defaultIO: FileIO = {
  openSync: (file, flags) => fs.openSync(file, flags, 0o644),
  closeSync: (fd) => fs.closeSync(fd),
  readSync: (fd, buf, offset, length, position) => fs.readSync(fd, buf, offset, length, position),
  writevSync(fd, buffers, position) {
    let written = fs.writevSync(fd, buffers as Uint8Array[], position)
    let total = 0
    for (const b of buffers) total += b.length
    // A short write (a signal, a nearly full disk) is finished chunk by chunk; if the disk is
    // full, the next call throws ENOSPC and the caller truncates back to its last good size.
    while (written < total) {
      let skip = written
      const rest: Uint8Array[] = []
      for (const b of buffers) {
        if (skip >= b.length) {
          skip -= b.length
          continue
        }
        rest.push(skip > 0 ? b.subarray(skip) : b)
        skip = 0
      }
      const n = fs.writevSync(fd, rest, position + written)
      if (n === 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' })
      written += n
    }
    return written
  },
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  fstatSizeSync: (fd) => fs.fstatSync(fd).size,
  fdatasync: fdatasyncAsync,
  fdatasyncSync: (fd) => fs.fdatasyncSync(fd),
  writeBehind: (file) => writeBehindThread().request(file),
  endWriteBehind: (file) => writeBehindWorker?.end(file),
  fsyncDirSync(dir) {
    const fd = fs.openSync(dir, 'r')
    try {
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  },
  readdirSync: (dir) => fs.readdirSync(dir),
  mkdirSync: (dir) => void fs.mkdirSync(dir, { recursive: true }),
  renameSync: (from, to) => fs.renameSync(from, to),
  unlinkSync: (file) => fs.unlinkSync(file),
  rmSync: (target) => fs.rmSync(target, { recursive: true, force: true }),
  existsSync: (file) => fs.existsSync(file),
  statSizeSync: (file) => fs.statSync(file).size,
  readFileSync: (file) => fs.readFileSync(file),
}

/** Reads exactly `length` bytes at `position`, fewer only at the end of the file. */
export function readFully(io: FileIO, fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
  let done = 0
  while (done < length) {
    const n = io.readSync(fd, buf, offset + done, length - done, position + done)
    if (n === 0) break
    done += n
  }
  return done
}

/**
 * Replace `file` with `data` so that a crash leaves either the old or the new content, never a
 * mix: write a temp file, fsync it, rename it over, fsync the directory.
 */
export function writeFileAtomicSync(io: FileIO, file: string, data: Uint8Array | string): void {
  const tmp = `${file}.tmp`
  const bytes = typeof data === 'string' ? Buffer.from(data) : data
  const fd = io.openSync(tmp, 'w')
  try {
    io.writevSync(fd, [bytes], 0)
    io.fdatasyncSync(fd)
  } finally {
    io.closeSync(fd)
  }
  io.renameSync(tmp, file)
  io.fsyncDirSync(path.dirname(file))
}

/** Whether an error from the file system is one a full or failing disk produces. */
export function isStorageFault(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOSPC' || code === 'EIO' || code === 'EFBIG' || code === 'EDQUOT' || code === 'EROFS'
}

/**
 * Write-behind, as RocksDB's bytes_per_sync does with sync_file_range: while a log appends without
 * syncing ('interval', 'never'), ask the kernel every few MiB to write what is dirty, so the disk
 * works alongside the encoding instead of all at once when a sync (or the kernel's own writeback
 * deadline) comes. Node has no sync_file_range, so a worker thread calls fdatasync, on file
 * descriptions that it opens and closes itself: Linux reports a writeback error once per
 * description, so these calls can never take an error that the log's own sync must see.
 * Nothing waits for them and they promise nothing. The worker reports completion through shared
 * memory, not a message, so that an appender looping on resolved promises (which starves the
 * event loop) still sees it finish.
 */
class WriteBehindThread {
  private readonly worker: Worker
  /** [requests made, requests finished] */
  private readonly state: Int32Array

  constructor() {
    this.state = new Int32Array(new SharedArrayBuffer(8))
    this.worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads')
       const fs = require('node:fs')
       const state = workerData
       const fds = new Map()
       parentPort.on('message', ({ file, end }) => {
         let fd = fds.get(file)
         if (end) {
           if (fd !== undefined) try { fs.closeSync(fd) } catch {}
           fds.delete(file)
           return
         }
         try {
           if (fd === undefined) fds.set(file, (fd = fs.openSync(file, 'r')))
           fs.fdatasyncSync(fd)
         } catch {}
         Atomics.add(state, 1, 1)
       })`,
      { eval: true, workerData: this.state },
    )
    this.worker.unref()
    // A worker that cannot start (resource limits) only costs the speed-up.
    this.worker.on('error', () => {
      broken = true
    })
  }

  request(file: string): boolean {
    if (broken || Atomics.load(this.state, 0) !== Atomics.load(this.state, 1)) return false
    Atomics.add(this.state, 0, 1)
    this.worker.postMessage({ file, end: false })
    return true
  }

  /** After the requests before it, in order: the worker closes its descriptor of `file`. */
  end(file: string): void {
    this.worker.postMessage({ file, end: true })
  }
}

let writeBehindWorker: WriteBehindThread | null = null
let broken = false

function writeBehindThread(): WriteBehindThread {
  writeBehindWorker ??= new WriteBehindThread()
  return writeBehindWorker
}
