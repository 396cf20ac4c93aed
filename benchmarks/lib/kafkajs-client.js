/**
 * The KafkaJS side of the Kafka-wire rows, in a process of its own (started by
 * lib/kafkajs-process.js): a Kafka client runs beside the broker, not inside its event loop, so a
 * wire row measures the server and the client on their own cores as a deployment would, and the
 * client's CPU time is reported separately from the server's.
 *
 * Requests arrive over IPC as { id, op, ... } and are answered with { id, result } or { id, error }.
 * Every timing is taken here, around the client calls only.
 */
import { Kafka, logLevel } from 'kafkajs'
import { makeValues, touch } from './data.js'
import { secondsSince } from './stats.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

let kafka = null
const producers = new Map()

/** The CPU time this process spent (user + system), in milliseconds. */
function cpuMs() {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

function messagesOf(values, n, start) {
  return Array.from({ length: n }, (_, i) => ({ value: values[(start + i) % values.length] }))
}

async function producer(acks) {
  let p = producers.get(acks)
  if (p === undefined) {
    p = kafka.producer({ allowAutoTopicCreation: false })
    await p.connect()
    producers.set(acks, p)
  }
  return p
}

const ops = {
  init({ bootstrap }) {
    kafka = new Kafka({ clientId: 'samsa-bench', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } })
    return {}
  },

  /** `count` messages of `valueSize` random bytes, `perSend` per producer.send, one send at a time. */
  async produce({ topic, acks, count, perSend, valueSize }) {
    const p = await producer(acks)
    const values = makeValues(valueSize)
    // Reused across sends, as the embedded row reuses its batches.
    const batches = Array.from({ length: 8 }, (_, i) => messagesOf(values, perSend, i * perSend))
    const cpu0 = cpuMs()
    const start = process.hrtime.bigint()
    let acked = 0
    for (let i = 0; acked < count; i++) {
      const n = Math.min(perSend, count - acked)
      const messages = n === perSend ? batches[i % batches.length] : batches[0].slice(0, n)
      await p.send({ topic, acks, messages })
      acked += n
    }
    return { records: acked, bytes: acked * valueSize, seconds: secondsSince(start), clientCpuMs: cpuMs() - cpu0 }
  },

  /**
   * A new group reads the topic from the beginning with eachBatch until it has `count` records.
   * The time runs from consumer.run (group join included); `firstBatchMs` says how much of it the
   * join and the first fetch took.
   */
  async consume({ topic, groupId, count }) {
    const consumer = kafka.consumer({ groupId, retry: { retries: 0 } })
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    try {
      let records = 0
      let bytes = 0
      let batches = 0
      let firstBatchMs = null
      let done
      const finished = new Promise((resolve, reject) => {
        done = resolve
        consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error))
      })
      const cpu0 = cpuMs()
      const start = process.hrtime.bigint()
      await consumer.run({
        eachBatch: async ({ batch }) => {
          if (firstBatchMs === null) firstBatchMs = secondsSince(start) * 1000
          const messages = batch.messages
          for (let i = 0; i < messages.length; i++) bytes += touch(messages[i].value)
          records += messages.length
          batches++
          if (records >= count) done()
        },
      })
      await finished
      const seconds = secondsSince(start)
      return { records, bytes, seconds, firstBatchMs, batches, clientCpuMs: cpuMs() - cpu0 }
    } finally {
      await consumer.disconnect()
    }
  },

  async close() {
    for (const p of producers.values()) await p.disconnect()
    producers.clear()
    return {}
  },
}

process.on('message', async (msg) => {
  try {
    const result = await ops[msg.op](msg)
    process.send({ id: msg.id, result })
  } catch (err) {
    process.send({ id: msg.id, error: err?.stack ?? String(err) })
  }
})
process.on('disconnect', () => process.exit(0))
