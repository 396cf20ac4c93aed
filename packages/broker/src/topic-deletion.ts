/**
 * Deleting a topic so that a crash at any point leaves either the whole topic or none of it
 * (Kafka's scheme of renaming to `-delete` first):
 * 1. its registry record is marked 'deleting', durably: from here on the topic is gone for every
 *    reader, and the next open finishes the job;
 * 2. (the broker closes its partitions' logs);
 * 3. each partition directory is renamed to `<topic>-<partition>.<id>-delete`, and the data
 *    directory is fsynced;
 * 4. the record is removed, durably;
 * 5. the renamed directories are removed.
 * Open runs steps 3-5 for every record still marked 'deleting', then removes any `-delete`
 * directory left behind by a crash during step 5.
 */
import { randomBytes } from 'node:crypto'
import * as path from 'node:path'
import type { FileIO } from '@samsa/log'
import type { MetadataStore, TopicRecord } from './metadata-store.js'
import { deletingDirName, partitionDirName } from './topic-name.js'
import { scanDataDir } from './data-dir.js'

export function newDeletionId(): string {
  return randomBytes(16).toString('hex')
}

/** Step 1. */
export async function markDeleting(store: MetadataStore, record: TopicRecord): Promise<TopicRecord> {
  const marked: TopicRecord = { ...record, state: 'deleting', deletionId: record.deletionId ?? newDeletionId() }
  await store.putTopic(marked)
  return marked
}

/** Steps 3-5 for a record marked 'deleting' whose partitions are closed. */
export async function finishDeletion(store: MetadataStore, io: FileIO, dataDir: string, record: TopicRecord): Promise<void> {
  const id = record.deletionId ?? newDeletionId()
  const renamed: string[] = []
  for (let p = 0; p < record.partitions; p++) {
    const dir = path.join(dataDir, partitionDirName(record.name, p))
    if (!io.existsSync(dir)) continue
    const target = path.join(dataDir, deletingDirName(record.name, p, id))
    io.renameSync(dir, target)
    renamed.push(target)
  }
  if (renamed.length > 0) io.fsyncDirSync(dataDir)
  await store.removeTopic(record.name)
  for (const dir of renamed) io.rmSync(dir)
  if (renamed.length > 0) io.fsyncDirSync(dataDir)
}

/** Remove every `-delete` directory (a crash in step 5). Returns how many. */
export function removeDeletingDirs(io: FileIO, dataDir: string): number {
  const { deleting } = scanDataDir(io, dataDir)
  for (const name of deleting) io.rmSync(path.join(dataDir, name))
  if (deleting.length > 0) io.fsyncDirSync(dataDir)
  return deleting.length
}
