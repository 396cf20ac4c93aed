/**
 * Retention across the broker: each partition's log deletes its oldest whole segments past the
 * topic's retentionMs (measured against a segment's largest timestamp) or beyond its
 * retentionBytes (per partition), rolling the active segment first when it alone is past
 * retention (Log.enforceRetention). A periodic task runs it every retentionCheckIntervalMs.
 */
import { SamsaError } from '@samsa/log'
import type { RetentionDeletion, Topic } from './topic.js'

export const DEFAULT_RETENTION_CHECK_INTERVAL_MS = 5 * 60 * 1000

export interface RetentionRunOptions {
  /** Report what would be deleted, delete nothing. */
  dryRun?: boolean
}

/** Run retention over `topics` now; returns one entry per partition that lost segments. */
export async function enforceRetention(topics: Iterable<Topic>, now: number, options: RetentionRunOptions = {}): Promise<RetentionDeletion[]> {
  const out: RetentionDeletion[] = []
  for (const topic of [...topics]) {
    const { retentionMs, retentionBytes } = topic.config
    if (retentionMs < 0 && retentionBytes < 0) continue
    for (const partition of [...topic.partitions]) {
      if (partition.isClosed) continue
      let result
      try {
        result = await partition.enforceRetention({ retentionMs, retentionBytes, now, dryRun: options.dryRun === true })
      } catch (err) {
        // The topic was deleted while the run went through it.
        if (err instanceof SamsaError && err.code === 'SAMSA_LOG_CLOSED') continue
        throw err
      }
      if (result.deleted.length === 0) continue
      out.push({
        topic: topic.name,
        partition: partition.partition,
        segments: result.deleted,
        bytes: result.deleted.reduce((n, s) => n + s.size, 0),
        logStartOffset: result.logStartOffset,
      })
    }
  }
  return out
}

/** Runs `task` every `intervalMs` on an unref'd timer, never two runs at once. */
export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null

  constructor(
    private readonly intervalMs: number,
    private readonly task: () => Promise<unknown>,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.timer !== null || !(this.intervalMs > 0) || !Number.isFinite(this.intervalMs)) return
    this.timer = setInterval(() => {
      if (this.running !== null) return
      this.running = this.task()
        .then(() => undefined, this.onError)
        .finally(() => {
          this.running = null
        })
    }, this.intervalMs)
    this.timer.unref()
  }

  /** Stop the timer and wait for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    if (this.running !== null) await this.running
  }
}
