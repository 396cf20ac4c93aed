/**
 * What is in a broker's data directory besides the LMDB `meta` directory: partition directories
 * `<topic>-<partition>` (recognised only with a valid topic name and a log checkpoint inside, so
 * nothing else is ever taken for one) and directories of an unfinished delete,
 * `<topic>-<partition>.<id>-delete`.
 */
import * as path from 'node:path'
import type { FileIO } from '@samsa/log'
import { isDeletingDirName, parsePartitionDirName } from './topic-name.js'

/** Written by every Log it opens for writing; marks a directory as a partition's. */
const LOG_MARKER = 'samsa.checkpoint'

export interface DataDirContents {
  /** Partition numbers found on disk, per topic. */
  partitions: Map<string, number[]>
  /** Names of directories left by an interrupted delete. */
  deleting: string[]
}

export function scanDataDir(io: FileIO, dataDir: string): DataDirContents {
  const partitions = new Map<string, number[]>()
  const deleting: string[] = []
  for (const name of io.readdirSync(dataDir)) {
    if (isDeletingDirName(name)) {
      deleting.push(name)
      continue
    }
    const parsed = parsePartitionDirName(name)
    if (parsed === null || !io.existsSync(path.join(dataDir, name, LOG_MARKER))) continue
    let list = partitions.get(parsed.topic)
    if (list === undefined) partitions.set(parsed.topic, (list = []))
    list.push(parsed.partition)
  }
  for (const list of partitions.values()) list.sort((a, b) => a - b)
  return { partitions, deleting }
}
