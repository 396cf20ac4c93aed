/**
 * Per-log metadata that must survive a crash, each file replaced atomically (temp file, fsync,
 * rename, fsync of the directory):
 * - `samsa.checkpoint`: the log start offset and the recovery point (everything below it was
 *   fsynced), as JSON. It only ever records a recovery point after the sync that made it true.
 * - `.clean-shutdown`: present only between a clean close and the next writer's open. While it is
 *   there, the indexes and the tail of the active segment are trusted without a scan.
 */
import * as path from 'node:path'
import { type FileIO, writeFileAtomicSync } from './file-io.js'

export const CHECKPOINT_FILE = 'samsa.checkpoint'
export const CLEAN_SHUTDOWN_FILE = '.clean-shutdown'

export interface Checkpoint {
  logStartOffset: number
  recoveryPoint: number
}

export function readCheckpoint(io: FileIO, dir: string): Checkpoint | null {
  const file = path.join(dir, CHECKPOINT_FILE)
  if (!io.existsSync(file)) return null
  try {
    const data = JSON.parse(io.readFileSync(file).toString('utf8')) as Partial<Checkpoint>
    const { logStartOffset, recoveryPoint } = data
    if (!Number.isSafeInteger(logStartOffset) || !Number.isSafeInteger(recoveryPoint)) return null
    return { logStartOffset: logStartOffset as number, recoveryPoint: recoveryPoint as number }
  } catch {
    // Unreadable: the caller falls back to a full recovery, which needs no checkpoint.
    return null
  }
}

export function writeCheckpoint(io: FileIO, dir: string, cp: Checkpoint): void {
  writeFileAtomicSync(io, path.join(dir, CHECKPOINT_FILE), JSON.stringify({ version: 1, ...cp }) + '\n')
}

export function hasCleanShutdown(io: FileIO, dir: string): boolean {
  return io.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE))
}

export function markCleanShutdown(io: FileIO, dir: string): void {
  writeFileAtomicSync(io, path.join(dir, CLEAN_SHUTDOWN_FILE), `${process.pid}\n`)
}

export function clearCleanShutdown(io: FileIO, dir: string): void {
  const file = path.join(dir, CLEAN_SHUTDOWN_FILE)
  if (!io.existsSync(file)) return
  io.unlinkSync(file)
  io.fsyncDirSync(dir)
}
