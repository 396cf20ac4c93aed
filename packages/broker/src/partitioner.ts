/**
 * Which partition a message goes to, as Kafka's Java client and KafkaJS's DefaultPartitioner
 * decide it, so the same key lands on the same partition number whichever client wrote it:
 * - an explicit partition first;
 * - otherwise, for a key, toPositive(murmur2(keyBytes)) % numPartitions (a string key hashes its
 *   UTF-8 bytes);
 * - otherwise (no key), sticky: every keyless message goes to one partition until the batch being
 *   filled there is sent, then the next partition in round-robin order takes over (KIP-480), so
 *   keyless traffic makes few, full batches yet spreads evenly.
 */

const SEED = 0x9747b28c
const M = 0x5bd1e995

/** Kafka's murmur2 (Utils.murmur2) over `data`, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  let h = SEED ^ length
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24)
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M)
    h ^= k
  }
  // The last 1-3 bytes, as Kafka's fall-through switch mixes them.
  const tail = length & ~3
  const rest = length & 3
  if (rest === 3) h ^= data[tail + 2] << 16
  if (rest >= 2) h ^= data[tail + 1] << 8
  if (rest >= 1) {
    h ^= data[tail]
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** Kafka's toPositive: clears the sign bit (not Math.abs). */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}

/** The partition of a non-null key. */
export function partitionForKey(key: Buffer | string, numPartitions: number): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key
  return toPositive(murmur2(bytes)) % numPartitions
}

/**
 * Sticky round-robin for keyless messages, per topic. `current` keeps answering the same
 * partition until `batchSent` reports that the batch filling there went out.
 */
export class StickyPartitioner {
  private readonly sticky = new Map<string, number>()
  private readonly counters = new Map<string, number>()

  current(topic: string, numPartitions: number): number {
    const p = this.sticky.get(topic)
    if (p !== undefined && p < numPartitions) return p
    return this.next(topic, numPartitions)
  }

  /** The batch of `topic` on `partition` was sent: the next keyless message moves on. */
  batchSent(topic: string, partition: number, numPartitions: number): void {
    if (this.sticky.get(topic) === partition) this.next(topic, numPartitions)
  }

  private next(topic: string, numPartitions: number): number {
    // Start each topic at a random partition, as Kafka's clients do, so that many short-lived
    // producers do not all pile onto partition 0.
    const counter = (this.counters.get(topic) ?? Math.floor(Math.random() * 0x7fffffff)) + 1
    this.counters.set(topic, counter)
    const p = toPositive(counter) % numPartitions
    this.sticky.set(topic, p)
    return p
  }
}
