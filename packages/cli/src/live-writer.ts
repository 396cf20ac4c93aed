/**
 * Whether another process is writing the data directory now. Consumer-group members live in
 * the memory of the process that runs them, so a read-only `samsa group` command in another
 * process sees a group's committed offsets but not its members: it says so rather than
 * reporting a busy group as Empty.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

/** The writer's lock file, as @samsa/log's lock.ts names it: the pid of the process holding the directory. */
const LOCK_FILE = '.lock'

export function liveWriterPid(dataDir: string): number | null {
  let pid: number
  try {
    pid = Number.parseInt(fs.readFileSync(path.join(dataDir, LOCK_FILE), 'utf8').trim(), 10)
  } catch {
    return null
  }
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return null
  try {
    process.kill(pid, 0)
    return pid
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null
  }
}
