// Effectively-once processing: a ledger that applies each payment exactly once, even when the
// process is killed at any moment. The balances (the application's state) are written in the
// same LMDB transaction as the consumer group's offsets, so either both move or neither does:
// a batch is re-delivered after a crash only if its effects were never committed.
//
//   node examples/effectively-once.js [dataDir]     (stops when the topic is drained)
import { Broker } from '@samsa/broker'

const dataDir = process.argv[2] ?? process.env.SAMSA_DATA_DIR ?? './samsa-data'
const broker = await Broker.open(dataDir, { autoCreateTopics: true })
const consumer = broker.consumer({ groupId: 'ledger', autoOffsetReset: 'earliest', autoCommit: false })
await consumer.subscribe(['payments'])

for (;;) {
  const batch = await consumer.poll({ maxRecords: 100, timeoutMs: 500 })
  if (batch.length === 0) break
  // Compute and write the new balances inside the commit: the transaction reads the state as
  // committed, adds this batch, and commits it together with the offsets after the batch.
  await consumer.commit({
    state: (tx) => {
      for (const m of batch) {
        const account = `balance:${m.key}`
        tx.put(account, (tx.get(account) ?? 0) + Number(m.value))
      }
      tx.put('applied', (tx.get('applied') ?? 0) + batch.length)
    },
  })
}

console.log(`applied ${broker.groupState('ledger', 'applied') ?? 0} payments in total`)
await consumer.close()
await broker.close()
