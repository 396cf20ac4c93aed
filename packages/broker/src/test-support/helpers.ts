/**
 * Test helpers for @samsa/broker: temp data directories, a seeded PRNG, and a FileIO that does
 * real I/O (real files, real fdatasync) but counts the syncs of .log files and can hold them at a
 * gate, so a test can see what a send resolved before and after.
 */
import { defaultIO, type FileIO } from '@samsa/log'

// One copy of the storage test helpers, shared with @samsa/log's tests.
export { prng, tempDirs } from '../../../log/src/test-support/storage-fixtures.js'

export interface SyncGateIO extends FileIO {
  /** fdatasync calls on .log files started so far. */
  logSyncsStarted: number
  /** ... and completed (the real fdatasync returned). */
  logSyncsDone: number
  /** While true, completed .log syncs are held back until `release()`. */
  hold: boolean
  release(): void
  /** Resolves once `n` .log syncs have started in total. */
  syncsStarted(n: number): Promise<void>
}

export function syncGateIO(): SyncGateIO {
  const files = new Map<number, string>()
  let held: (() => void)[] = []
  let startWaiters: { n: number; resolve: () => void }[] = []
  const io: SyncGateIO = {
    ...defaultIO,
    logSyncsStarted: 0,
    logSyncsDone: 0,
    hold: false,
    openSync(file, flags) {
      const fd = defaultIO.openSync(file, flags)
      files.set(fd, file)
      return fd
    },
    closeSync(fd) {
      files.delete(fd)
      defaultIO.closeSync(fd)
    },
    async fdatasync(fd) {
      const file = files.get(fd)
      if (file === undefined || !file.endsWith('.log')) return defaultIO.fdatasync(fd)
      io.logSyncsStarted++
      const ready = startWaiters.filter((w) => io.logSyncsStarted >= w.n)
      startWaiters = startWaiters.filter((w) => io.logSyncsStarted < w.n)
      for (const w of ready) w.resolve()
      await defaultIO.fdatasync(fd)
      if (io.hold) await new Promise<void>((resolve) => held.push(resolve))
      io.logSyncsDone++
    },
    release() {
      io.hold = false
      const h = held
      held = []
      for (const r of h) r()
    },
    syncsStarted(n) {
      if (io.logSyncsStarted >= n) return Promise.resolve()
      return new Promise((resolve) => startWaiters.push({ n, resolve }))
    },
  }
  return io
}

/** Resolves after the event loop has gone round `turns` times (setImmediate), for "has it settled?" checks. */
export async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}

/** Whether a promise has settled, without waiting for it. */
export function tracked<T>(p: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false
  p.then(
    () => (done = true),
    () => (done = true),
  )
  return { promise: p, settled: () => done }
}
