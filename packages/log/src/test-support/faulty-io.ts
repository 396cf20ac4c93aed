/**
 * A FileIO that does real I/O through defaultIO but can be told to fail, the way a full or failing
 * disk does: writes to `.log` files throw ENOSPC/EIO/EFBIG (optionally after writing part of the
 * data, as a short write followed by an error does), and fdatasync of `.log` files rejects.
 * It also records every data write and every sync of a .log (fdatasync and fdatasyncSync) in one
 * ordered event list, so tests can check what was synced before an append resolved.
 */
import { defaultIO, type FileIO } from '../file-io.js'

export interface WriteFault {
  code: string
  /** Bytes actually written to the file before the error is thrown. */
  partialBytes?: number
  /** Fail only this many writes, then work again. Default: until cleared. */
  times?: number
}

export interface SyncFault {
  code: string
  times?: number
}

export type IOEvent =
  | { kind: 'write'; seq: number; file: string; position: number; bytes: number; baseOffsets: number[] }
  | { kind: 'sync-start'; seq: number; file: string; id: number; blocking: boolean }
  | { kind: 'sync-end'; seq: number; file: string; id: number; ok: boolean }
  | { kind: 'mark'; seq: number; label: string; value: number }

export interface FaultyIO extends FileIO {
  writeFault: WriteFault | null
  syncFault: SyncFault | null
  /** fsync of a directory fails (a new segment's name cannot be made durable). */
  dirSyncFault: SyncFault | null
  readonly events: IOEvent[]
  /** fdatasync calls on .log files (the group-commit syncs). */
  logSyncs: number
  /** fdatasyncSync calls on .log files (blockingSync group commits, and closes). */
  logSyncsBlocking: number
  /** fdatasyncSync of a .log fails (after the real call, as a failing disk does). */
  blockingSyncFault: SyncFault | null
  /** fdatasyncSync of a .log takes at least this long, as on a slow disk. */
  blockingSyncDelayMs: number
  /** Record an event of the test's own (an append resolving) in the same sequence. */
  mark(label: string, value: number): void
  /** Called as each .log fdatasync starts, before it reaches the disk. */
  onSyncStart: (() => void) | null
}

function errno(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault, ${syscall}`), { code, errno: -1, syscall })
}

const isLog = (file: string | undefined): file is string => file !== undefined && file.endsWith('.log')

export function faultyIO(): FaultyIO {
  const files = new Map<number, string>()
  let seq = 0
  let syncIds = 0
  const io: FaultyIO = {
    ...defaultIO,
    writeFault: null,
    syncFault: null,
    dirSyncFault: null,
    events: [],
    logSyncs: 0,
    logSyncsBlocking: 0,
    blockingSyncFault: null,
    blockingSyncDelayMs: 0,
    onSyncStart: null,
    mark(label, value) {
      io.events.push({ kind: 'mark', seq: seq++, label, value })
    },
    openSync(file, flags) {
      const fd = defaultIO.openSync(file, flags)
      files.set(fd, file)
      return fd
    },
    closeSync(fd) {
      files.delete(fd)
      defaultIO.closeSync(fd)
    },
    writevSync(fd, buffers, position) {
      const file = files.get(fd)
      if (!isLog(file)) return defaultIO.writevSync(fd, buffers, position)
      const fault = io.writeFault
      if (fault !== null) {
        if (fault.times !== undefined && --fault.times <= 0) io.writeFault = null
        if (fault.partialBytes !== undefined && fault.partialBytes > 0) {
          const all = Buffer.concat(buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)))
          defaultIO.writevSync(fd, [all.subarray(0, Math.min(fault.partialBytes, all.length))], position)
        }
        throw errno(fault.code, 'write')
      }
      const n = defaultIO.writevSync(fd, buffers, position)
      // Each buffer the log writes is one batch; preallocation zeros (no magic byte) hold none.
      const baseOffsets = buffers
        .map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))
        .filter((b) => b.length > 16 && b[16] === 2)
        .map((b) => Number(b.readBigInt64BE(0)))
      io.events.push({ kind: 'write', seq: seq++, file, position, bytes: n, baseOffsets })
      return n
    },
    fsyncDirSync(dir) {
      const fault = io.dirSyncFault
      if (fault !== null) {
        if (fault.times !== undefined && --fault.times <= 0) io.dirSyncFault = null
        throw errno(fault.code, 'fsync')
      }
      defaultIO.fsyncDirSync(dir)
    },
    fdatasyncSync(fd) {
      const file = files.get(fd)
      if (!isLog(file)) return defaultIO.fdatasyncSync(fd)
      io.logSyncsBlocking++
      const id = syncStarted(file, true)
      const fault = io.blockingSyncFault
      let ok = false
      try {
        defaultIO.fdatasyncSync(fd)
        if (io.blockingSyncDelayMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, io.blockingSyncDelayMs)
        if (fault !== null) {
          if (fault.times !== undefined && --fault.times <= 0) io.blockingSyncFault = null
          throw errno(fault.code, 'fdatasync')
        }
        ok = true
      } finally {
        io.events.push({ kind: 'sync-end', seq: seq++, file, id, ok })
      }
    },
    async fdatasync(fd) {
      const file = files.get(fd)
      if (!isLog(file)) return defaultIO.fdatasync(fd)
      io.logSyncs++
      const id = syncStarted(file, false)
      const fault = io.syncFault
      let ok = false
      try {
        if (fault !== null) {
          if (fault.times !== undefined && --fault.times <= 0) io.syncFault = null
          // The real call still runs: a failing disk takes its time before it reports the error.
          await defaultIO.fdatasync(fd)
          throw errno(fault.code, 'fdatasync')
        }
        await defaultIO.fdatasync(fd)
        ok = true
      } finally {
        io.events.push({ kind: 'sync-end', seq: seq++, file, id, ok })
      }
    },
  }
  /** A .log sync begins: its event, then the test's hook (which may look at the log mid-sync). */
  function syncStarted(file: string, blocking: boolean): number {
    const id = syncIds++
    io.events.push({ kind: 'sync-start', seq: seq++, file, id, blocking })
    io.onSyncStart?.()
    return id
  }
  return io
}
