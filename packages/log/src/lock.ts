/**
 * One writer per directory. The lock is a file `.lock` holding the writer's pid, created with
 * O_EXCL. A lock whose pid is no longer alive was left by a crash and is taken over: it is renamed
 * aside (only one contender's rename can succeed), checked once more, and removed.
 * Read-only opens never touch it.
 */
import * as path from 'node:path'
import type { FileIO } from './file-io.js'
import { LockedError } from './errors.js'

export const LOCK_FILE = '.lock'

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readPid(io: FileIO, file: string): number {
  try {
    return Number.parseInt(io.readFileSync(file).toString('utf8').trim(), 10)
  } catch {
    return Number.NaN
  }
}

/** Take the write lock of `dir`; returns the function that releases it. */
export function acquireLock(io: FileIO, dir: string, heldInProcess: Set<string>): () => void {
  const file = path.join(dir, LOCK_FILE)
  const key = path.resolve(dir)
  // Two writers in one process would corrupt the log as surely as two processes.
  if (heldInProcess.has(key)) throw new LockedError(dir, process.pid)
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = io.openSync(file, 'wx')
      try {
        io.writevSync(fd, [Buffer.from(`${process.pid}\n`)], 0)
      } finally {
        io.closeSync(fd)
      }
      heldInProcess.add(key)
      let released = false
      return () => {
        if (released) return
        released = true
        heldInProcess.delete(key)
        if (readPid(io, file) === process.pid) io.unlinkSync(file)
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const pid = readPid(io, file)
    if (Number.isNaN(pid)) {
      // Created but not yet written by a contender that is starting right now, or a torn file
      // from a crash; give a live contender a moment before treating it as stale.
      const deadline = Date.now() + 50
      while (Date.now() < deadline) {
        /* brief wait */
      }
      if (Number.isNaN(readPid(io, file)) && io.existsSync(file)) takeOver(io, file, pid)
      continue
    }
    if (isAlive(pid) && pid !== process.pid) throw new LockedError(dir, pid)
    takeOver(io, file, pid)
  }
  throw new LockedError(dir, readPid(io, file))
}

function takeOver(io: FileIO, file: string, stalePid: number): void {
  const aside = `${file}.stale-${process.pid}`
  try {
    io.renameSync(file, aside)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return // someone else took it over first
    throw err
  }
  const pid = readPid(io, aside)
  if (pid !== stalePid && !Number.isNaN(pid) && isAlive(pid)) {
    // Between our check and our rename, another process took the stale lock over and wrote its
    // own: put it back and let the loop report it.
    io.renameSync(aside, file)
    return
  }
  io.unlinkSync(aside)
}
