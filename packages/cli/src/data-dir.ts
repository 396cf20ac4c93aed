import * as path from 'node:path'

export const DEFAULT_DATA_DIR = './samsa-data'

/** --data-dir, else SAMSA_DATA_DIR, else ./samsa-data. */
export function resolveDataDir(flag: string | undefined): string {
  return path.resolve(flag ?? process.env.SAMSA_DATA_DIR ?? DEFAULT_DATA_DIR)
}

/** Partition directories are `<topic>-<partition>`; topic names may themselves contain '-'. */
export function parsePartitionDir(name: string): { topic: string; partition: number } | null {
  const m = /^(.+)-(\d+)$/.exec(name)
  if (m === null) return null
  return { topic: m[1], partition: Number(m[2]) }
}
