/**
 * @samsa/broker rows (issues 4 and 5), written against the API in DESIGN.md: producer.send with
 * acks 1 and acks 'all', from 1 and from 64 concurrent senders, and consumer.poll from the
 * beginning. Each topic has one partition, so the rows compare with the Log rows underneath.
 * When the package is not built yet, the group is skipped and the report says so.
 */
import { makeValues, removeDir, scratchDir, touch } from '../lib/data.js'
import { latencySummary, secondsSince } from '../lib/stats.js'

function messagesOf(values, n, start = 0) {
  return Array.from({ length: n }, (_, i) => ({ key: null, value: values[(start + i) % values.length] }))
}

async function createTopic(broker, name) {
  await broker.createTopic(name, { partitions: 1 })
  return name
}

/** Concurrent senders, each sending `perSend` messages at a time until the deadline. */
async function sendConcurrently(producer, topic, senders, perSend, values, seconds) {
  const latencies = []
  let acked = 0
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(Math.round(seconds * 1e9))
  await Promise.all(
    Array.from({ length: senders }, async (_, s) => {
      const messages = messagesOf(values, perSend, s)
      for (;;) {
        const t0 = process.hrtime.bigint()
        if (t0 >= deadline) return
        const results = await producer.send(topic, messages)
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
        acked += results.length
      }
    }),
  )
  return { acked, latencies, seconds: secondsSince(start) }
}

export function brokerWorkloads(ctx, loaded) {
  const { cfg, root } = ctx
  const rows = []
  let broker = null
  let dir = null
  const producers = {}
  let topicSeq = 0
  const topicName = (what) => `bench-${what}-${topicSeq++}`

  for (const valueSize of cfg.valueSizes) {
    const values = makeValues(valueSize)
    const records = cfg.appendRecords[valueSize]
    rows.push({
      id: `broker.send.acks1.1x${cfg.batch}.${valueSize}`,
      system: 'Samsa broker',
      section: 'write',
      label: `producer.send acks 1, 1 sender, ${cfg.batch} messages per call`,
      valueSize,
      kind: 'write',
      durable: 'no (acks 1: page cache)',
      async round() {
        const topic = await createTopic(broker, topicName('acks1'))
        const batches = Array.from({ length: 8 }, (_, i) => messagesOf(values, cfg.batch, i * cfg.batch))
        try {
          const start = process.hrtime.bigint()
          let acked = 0
          for (let i = 0, n = records / cfg.batch; i < n; i++) acked += (await producers.acks1.send(topic, batches[i % batches.length])).length
          const seconds = secondsSince(start)
          if (acked !== records) throw new Error(`${acked} of ${records} messages acknowledged`)
          return { records, bytes: records * valueSize, seconds }
        } finally {
          await broker.deleteTopic(topic)
        }
      },
    })

    let pollTopic = null
    rows.push({
      id: `broker.poll.${valueSize}`,
      system: 'Samsa broker',
      section: 'read',
      label: 'consumer.poll from the beginning (new group each round)',
      valueSize,
      kind: 'read',
      warm: () => [dir],
      async setup() {
        if (typeof broker.consumer !== 'function') return { skip: 'not built yet (@samsa/broker has no broker.consumer)' }
        pollTopic = await createTopic(broker, topicName('poll'))
        const batch = messagesOf(values, cfg.batch)
        for (let i = 0; i < records; i += cfg.batch) await producers.acks1.send(pollTopic, batch)
      },
      async round(r) {
        const consumer = broker.consumer({ groupId: `bench-poll-${valueSize}-${r}`, autoOffsetReset: 'earliest', maxPollRecords: 10_000 })
        try {
          await consumer.subscribe([pollTopic])
          const start = process.hrtime.bigint()
          let count = 0
          let valueBytes = 0
          while (count < records) {
            const got = await consumer.poll({ maxRecords: 10_000, timeoutMs: 5000 })
            if (got.length === 0) throw new Error(`poll returned nothing after ${count} of ${records} records`)
            for (let i = 0; i < got.length; i++) valueBytes += touch(got[i].value)
            count += got.length
          }
          const seconds = secondsSince(start)
          if (count !== records || valueBytes !== records * valueSize) throw new Error(`polled ${count} of ${records}`)
          return { records: count, bytes: valueBytes, seconds }
        } finally {
          await consumer.close()
        }
      },
    })
  }

  // Concurrent senders of 100-byte values: acks 1 (page cache) and acks 'all' (group-committed fsync).
  const values100 = makeValues(100)
  for (const [acks, senders, perSend] of [
    [1, 64, 10],
    ['all', 1, 10],
    ['all', 64, 10],
  ]) {
    const key = acks === 1 ? 'acks1' : 'acksAll'
    rows.push({
      id: `broker.send.${key}.${senders}x${perSend}`,
      system: 'Samsa broker',
      section: acks === 'all' ? 'group commit' : 'write',
      label: `producer.send acks ${acks === 'all' ? "'all'" : acks}, ${senders} sender${senders > 1 ? 's' : ''} x ${perSend} messages`,
      valueSize: 100,
      kind: 'write',
      durable: acks === 'all' ? 'each send (fsynced before the ack)' : 'no (acks 1: page cache)',
      async round() {
        const topic = await createTopic(broker, topicName(key))
        try {
          const { acked, latencies, seconds } = await sendConcurrently(producers[key], topic, senders, perSend, values100, cfg.groupCommitSeconds)
          return { records: acked, bytes: acked * 100, seconds, ...latencySummary(latencies) }
        } finally {
          await broker.deleteTopic(topic)
        }
      },
    })
  }

  return {
    name: '@samsa/broker',
    skip: loaded.broker ? undefined : loaded.missing,
    async setup() {
      dir = scratchDir(root, 'broker')
      broker = await loaded.broker.Broker.open(dir)
      producers.acks1 = broker.producer({ acks: 1 })
      producers.acksAll = broker.producer({ acks: 'all' })
    },
    async teardown() {
      for (const p of Object.values(producers)) await p.close?.()
      await broker?.close()
      if (dir !== null) removeDir(dir)
    },
    rows,
  }
}
