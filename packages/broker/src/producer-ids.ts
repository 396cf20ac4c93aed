/**
 * Producer ids for idempotent producers, embedded ones and (later) Kafka clients' InitProducerId.
 * Ids are reserved in blocks, durably in LMDB before any of the block is handed out (Kafka's
 * ProducerIdManager does the same), so an id is never given twice, across crashes included, and a
 * new producer costs an LMDB sync only once per block.
 */
import type { MetadataStore } from './metadata-store.js'

export const PRODUCER_ID_BLOCK = 1000
/** Kafka's producer epoch is an int16. */
export const MAX_PRODUCER_EPOCH = 0x7fff

export class ProducerIdAllocator {
  private next = 0
  private end = 0

  constructor(private readonly store: MetadataStore) {}

  allocate(): number {
    if (this.next >= this.end) {
      this.next = this.store.reserveProducerIds(PRODUCER_ID_BLOCK)
      this.end = this.next + PRODUCER_ID_BLOCK
    }
    return this.next++
  }
}
