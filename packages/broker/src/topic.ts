/** A topic as the broker serves it: its registry record, effective config and open partitions. */
import type { SegmentInfo } from '@samsa/log'
import { UnknownTopicOrPartitionError } from './errors.js'
import type { TopicRecord } from './metadata-store.js'
import type { Partition, PartitionDescription } from './partition.js'
import type { TopicConfig } from './topic-config.js'

export interface TopicDescription {
  name: string
  /** Random id of this incarnation of the topic. */
  id: string
  /** The effective config: the topic's own values over the broker's defaults. */
  config: TopicConfig
  /** Only the values this topic set itself. */
  overrides: Partial<TopicConfig>
  partitions: PartitionDescription[]
}

export interface RetentionDeletion {
  topic: string
  partition: number
  /** The segments deleted (or, in a dry run, that would be). */
  segments: SegmentInfo[]
  bytes: number
  logStartOffset: number
}

export class Topic {
  constructor(
    public record: TopicRecord,
    public config: TopicConfig,
    public partitions: Partition[],
  ) {}

  get name(): string {
    return this.record.name
  }

  get partitionCount(): number {
    return this.partitions.length
  }

  partition(p: number): Partition {
    const partition = Number.isInteger(p) ? this.partitions[p] : undefined
    if (partition === undefined) throw new UnknownTopicOrPartitionError(this.name, p, this.partitions.length)
    return partition
  }

  describe(): TopicDescription {
    return {
      name: this.name,
      id: this.record.id,
      config: { ...this.config },
      overrides: { ...this.record.config },
      partitions: this.partitions.map((p) => p.describe()),
    }
  }
}
