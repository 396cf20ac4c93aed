/**
 * The "consumer" protocol's member assignment (ConsumerProtocolAssignment): opaque to the group
 * coordinator, which only hands it from the leader to each member, but read here so that
 * `describeGroup` can show which partitions a wire member owns.
 *
 * version int16, [topic string, [partition int32]], user_data nullable bytes (v1+ adds nothing
 * this needs; later fields are ignored).
 */
import type { TopicPartition } from '../assignors.js'
import { Reader } from './wire.js'

/** The partitions in an assignment, or [] if the bytes are not a consumer-protocol assignment. */
export function assignedPartitions(assignment: Buffer): TopicPartition[] {
  if (assignment.length < 6) return []
  try {
    const r = new Reader(assignment, 'consumer protocol assignment')
    r.int16('version')
    const out: TopicPartition[] = []
    for (const t of r.array((r) => ({ topic: r.string('topic'), partitions: r.array((r) => r.int32('partition'), 'partitions') }), 'topics')) {
      for (const partition of t.partitions) out.push({ topic: t.topic, partition })
    }
    return out
  } catch {
    return []
  }
}
