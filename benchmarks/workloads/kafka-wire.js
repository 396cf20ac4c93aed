/**
 * The Kafka wire protocol (issue 8): a Broker serving `broker.listen({ host: '127.0.0.1', port: 0 })`
 * in the harness's process, driven over loopback by KafkaJS (in a child process of its own,
 * lib/kafkajs-client.js) and by kcat, against the same workload embedded on the same broker in the
 * same run. 100-byte values, one partition per topic, `cfg.wireRecords` records per round:
 *
 * - produce: KafkaJS producer.send of 1000 messages at a time (acks 1 and acks -1); kcat -P -K:
 *   fed a file of lines (acks 1, and librdkafka's default acks -1); embedded producer.send of 1000
 *   messages per call (acks 1 and 'all').
 * - consume, from the beginning of one topic: KafkaJS consumer.run with eachBatch in a new group
 *   each round; kcat -C -o beginning -e -q | wc -l (with fetch.wait.max.ms=10: -e waits for a fetch
 *   at the end of the partition, which the server holds that long, as Kafka does; librdkafka's
 *   default is 500 ms); embedded consumer.poll (new group each round) and Log.read of the partition.
 *
 * Each wire row names its embedded counterpart (`counterpart`), and the suite divides the two
 * (the issue's goal: at least 50% of the embedded rate). Rows also keep the CPU time of the
 * server (this process) and of the client, to say which side limits a row.
 *
 * kcat rows: every round also runs the same kcat command twice on an empty input (produce) or an
 * empty topic (consume), and the shorter time (process start-up, connecting, the final fetch of
 * -C -e) is taken out of the row's time; the whole command's rate is kept beside it.
 */
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { makeValues, removeDir, scratchDir, touch } from '../lib/data.js'
import { startKafkaJS } from '../lib/kafkajs-process.js'
import { kcatVersion, runKcat } from '../lib/kcat.js'
import { secondsSince } from '../lib/stats.js'

const VALUE_SIZE = 100

function kafkajsVersion() {
  try {
    return createRequire(import.meta.url)('kafkajs/package.json').version
  } catch {
    return '?'
  }
}

function cpuMs() {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

function messagesOf(values, n, start = 0) {
  return Array.from({ length: n }, (_, i) => ({ key: null, value: values[(start + i) % values.length] }))
}

/** Values kcat can carry as lines: 100 printable bytes (base64 of random bytes), no ':' or newline. */
function lineValues(count = 64) {
  return makeValues((VALUE_SIZE * 3) / 4, count).map((v) => Buffer.from(v.toString('base64')))
}

export function kafkaWireWorkloads(ctx, loaded) {
  const { cfg, root } = ctx
  const records = cfg.wireRecords
  const batch = cfg.batch
  const kcat = kcatVersion()
  const rows = []
  const state = {
    dir: null,
    broker: null,
    server: null,
    bootstrap: null,
    kafkajs: null,
    producers: {},
    /** The topic every consume row reads: `records` printable 100-byte values. */
    readTopic: 'bench-wire-read',
    emptyTopic: 'bench-wire-empty',
    kcatInput: null,
    kcatEmptyInput: null,
  }
  const endOffset = (topic) => state.broker.getPartition(topic, 0).log.logEndOffset

  /**
   * Run one measured call and add the CPU shares to its extra figures: `serverCpu`, this process's
   * CPU time (the broker; for the embedded rows the application too) over the call's wall time, and
   * `clientCpu`, the client process's. A call that times itself more narrowly (kcat) says which
   * wall time and server CPU time go with its client's (`wallSeconds`, `serverCpuMs`).
   */
  async function measured(call) {
    const cpu0 = cpuMs()
    const start = process.hrtime.bigint()
    const r = await call()
    const wallMs = (r.wallSeconds ?? secondsSince(start)) * 1000
    const serverCpuMs = r.serverCpuMs ?? cpuMs() - cpu0
    const extra = { ...r.extra, serverCpu: serverCpuMs / wallMs }
    if (r.clientCpuMs != null) extra.clientCpu = r.clientCpuMs / wallMs
    return { ...r, extra }
  }

  /** A produce row: its own topic, warmed up in setup, that every round appends `records` to. */
  function produceRow({ id, system, label, durable, counterpart, note, setup, produce }) {
    const topic = `bench-${id.replace(/\./g, '-')}`
    rows.push({
      id,
      system,
      section: 'write',
      label,
      valueSize: VALUE_SIZE,
      kind: 'write',
      durable,
      counterpart,
      note,
      async setup() {
        const skip = await setup?.()
        if (skip) return skip
        await state.broker.createTopic(topic, { partitions: 1 })
        await produce(topic, true)
      },
      async round() {
        const before = endOffset(topic)
        const r = await measured(() => produce(topic, false))
        const stored = endOffset(topic) - before
        if (stored !== records) throw new Error(`${stored} of ${records} records stored`)
        return { records, bytes: records * VALUE_SIZE, seconds: r.seconds, extra: r.extra }
      },
    })
  }

  /** A consume row: reads all of the read topic from the beginning each round (and in setup, to warm up). */
  function consumeRow({ id, system, label, counterpart, note, setup, consume, warmUp }) {
    rows.push({
      id,
      system,
      section: 'read',
      label,
      valueSize: VALUE_SIZE,
      kind: 'read',
      counterpart,
      note,
      warm: () => [state.dir],
      async setup() {
        const skip = await setup?.()
        if (skip) return skip
        if (warmUp) await warmUp()
        else for (let i = 0; i < 3; i++) await consume(`warm-up-${i}`)
      },
      async round(r) {
        const got = await measured(() => consume(r))
        if (got.records !== records || (got.bytes !== undefined && got.bytes !== records * VALUE_SIZE)) {
          throw new Error(`read ${got.records} records (${got.bytes} value bytes), expected ${records}`)
        }
        return { records, bytes: records * VALUE_SIZE, seconds: got.seconds, extra: got.extra }
      },
    })
  }

  // ---------------------------------------------------------------------------------------------
  // Embedded counterparts, on the broker that serves the wire rows.

  const values = makeValues(VALUE_SIZE)
  const batches = Array.from({ length: 8 }, (_, i) => messagesOf(values, batch, i * batch))
  for (const acks of [1, 'all']) {
    const key = acks === 1 ? 'acks1' : 'acksAll'
    produceRow({
      id: `wire.embedded.send.${key}.${VALUE_SIZE}`,
      system: 'Samsa broker',
      label: `producer.send acks ${acks === 1 ? 1 : "'all'"}, ${batch} per call (wire counterpart)`,
      durable: acks === 1 ? 'no (acks 1: page cache)' : 'each send (fsynced before the ack)',
      // The warm-up is a whole round too: cheap embedded, and a run of only these rows starts cold.
      async produce(topic) {
        const producer = state.producers[key]
        const start = process.hrtime.bigint()
        let acked = 0
        for (let i = 0; acked < records; i++) acked += (await producer.send(topic, batches[i % batches.length])).length
        return { seconds: secondsSince(start) }
      },
    })
  }

  consumeRow({
    id: `wire.embedded.poll.${VALUE_SIZE}`,
    system: 'Samsa broker',
    label: 'consumer.poll from the beginning, new group each round (wire counterpart)',
    async consume(r) {
      const consumer = state.broker.consumer({ groupId: `bench-wire-poll-${r}`, autoOffsetReset: 'earliest', maxPollRecords: 10_000 })
      try {
        await consumer.subscribe([state.readTopic])
        const start = process.hrtime.bigint()
        let count = 0
        let bytes = 0
        while (count < records) {
          const got = await consumer.poll({ maxRecords: 10_000, timeoutMs: 5000 })
          if (got.length === 0) throw new Error(`poll returned nothing after ${count} of ${records} records`)
          for (let i = 0; i < got.length; i++) bytes += touch(got[i].value)
          count += got.length
        }
        return { records: count, bytes, seconds: secondsSince(start) }
      } finally {
        await consumer.close()
      }
    },
  })

  consumeRow({
    id: `wire.embedded.read.${VALUE_SIZE}`,
    system: 'Samsa',
    label: `Log.read of the partition, ${cfg.readMaxBytes >> 20} MiB per call (wire counterpart)`,
    async consume() {
      const log = state.broker.getPartition(state.readTopic, 0).log
      const start = process.hrtime.bigint()
      let offset = 0
      let count = 0
      let bytes = 0
      for (;;) {
        const got = await log.read(offset, { maxBytes: cfg.readMaxBytes })
        if (got.length === 0) break
        for (let i = 0; i < got.length; i++) bytes += touch(got[i].value)
        count += got.length
        offset = got[got.length - 1].offset + 1
      }
      return { records: count, bytes, seconds: secondsSince(start) }
    },
  })

  // ---------------------------------------------------------------------------------------------
  // KafkaJS, in its own process.

  const kafkajsNote = `KafkaJS ${kafkajsVersion()}`
  for (const acks of [1, -1]) {
    produceRow({
      id: `wire.kafkajs.send.acks${acks}.${VALUE_SIZE}`,
      system: 'Samsa via KafkaJS',
      label: `producer.send acks ${acks}, ${batch} per send, one at a time`,
      durable: acks === 1 ? 'no (acks 1: page cache)' : 'each send (fsynced before the ack)',
      counterpart: `wire.embedded.send.${acks === 1 ? 'acks1' : 'acksAll'}.${VALUE_SIZE}`,
      note: kafkajsNote,
      async produce(topic, warmUp) {
        const r = await state.kafkajs.call('produce', { topic, acks, count: warmUp ? Math.min(records, 10 * batch) : records, perSend: batch, valueSize: VALUE_SIZE })
        return { seconds: r.seconds, clientCpuMs: r.clientCpuMs }
      },
    })
  }

  consumeRow({
    id: `wire.kafkajs.consume.${VALUE_SIZE}`,
    system: 'Samsa via KafkaJS',
    label: 'consumer.run eachBatch from the beginning, new group each round',
    counterpart: `wire.embedded.poll.${VALUE_SIZE}`,
    note: kafkajsNote,
    warmUp: () => state.kafkajs.call('consume', { topic: state.readTopic, groupId: 'bench-wire-kafkajs-warm-up', count: records }),
    async consume(r) {
      const got = await state.kafkajs.call('consume', { topic: state.readTopic, groupId: `bench-wire-kafkajs-${r}`, count: records })
      return { records: got.records, bytes: got.bytes, seconds: got.seconds, clientCpuMs: got.clientCpuMs, extra: { firstBatchMs: got.firstBatchMs, batches: got.batches } }
    },
  })

  // ---------------------------------------------------------------------------------------------
  // kcat, a new process each round.

  const kcatSkip = async () => (kcat === null ? { skip: 'kcat is not installed (apt-get install kcat to include this row)' } : undefined)
  const kcatNote = kcat ?? 'kcat'
  /** The kcat command's time minus the same command's on an empty input: the data's share. */
  async function timedKcat(args, input, emptyInput) {
    const cpu0 = cpuMs()
    const whole = await runKcat(args, { input })
    const serverCpuMs = cpuMs() - cpu0
    // The least of two runs: librdkafka now and then idles for a while (e.g. 500 ms before its
    // ListOffsets), which must not count as start-up.
    const emptyArgs = args.map((a) => (a === state.readTopic ? state.emptyTopic : a))
    const empty = { seconds: Infinity }
    for (let i = 0; i < 2; i++) {
      const e = await runKcat(emptyArgs, { input: emptyInput })
      if (e.seconds < empty.seconds) empty.seconds = e.seconds
    }
    const seconds = whole.seconds - empty.seconds
    if (!(seconds > 0)) throw new Error(`kcat took ${whole.seconds} s, ${empty.seconds} s on an empty input: too few records to time (raise wireRecords)`)
    return {
      lines: whole.lines,
      seconds,
      wallSeconds: whole.seconds,
      serverCpuMs,
      clientCpuMs: whole.cpuMs,
      extra: { wholeSeconds: whole.seconds, startupSeconds: empty.seconds, wholeRecordsPerSec: records / whole.seconds },
    }
  }

  for (const acks of [1, -1]) {
    produceRow({
      id: `wire.kcat.produce.acks${acks}.${VALUE_SIZE}`,
      system: 'Samsa via kcat',
      label: `kcat -P -K: ${acks === 1 ? '-X acks=1' : "(librdkafka's default acks -1)"}, from a file of lines`,
      durable: acks === 1 ? 'no (acks 1: page cache)' : 'each produce request (fsynced before the ack)',
      counterpart: `wire.embedded.send.${acks === 1 ? 'acks1' : 'acksAll'}.${VALUE_SIZE}`,
      note: `${kcatNote}; librdkafka makes its own batches (up to 10,000 messages or 1 MB, linger.ms 5) and keeps several requests in flight`,
      setup: kcatSkip,
      async produce(topic, warmUp) {
        const args = ['-P', '-b', state.bootstrap, '-t', topic, '-K:', ...(acks === 1 ? ['-X', 'acks=1'] : [])]
        if (warmUp) {
          // Only the binary and the libraries into the page cache; nothing is produced.
          await runKcat(args, { input: state.kcatEmptyInput })
          return { seconds: 0 }
        }
        return timedKcat(args, state.kcatInput, state.kcatEmptyInput)
      },
    })
  }

  // queued.min.messages: librdkafka 2.0 stops fetching for about 500 ms once its prefetch queue
  // passes this (100,000 by default), which stalled about half the rounds; a stall of the client's
  // own making says nothing about the server.
  const consumeArgs = (topic) => [
    '-C', '-b', state.bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q',
    '-X', 'fetch.wait.max.ms=10', '-X', 'queued.min.messages=1000000',
  ]
  consumeRow({
    id: `wire.kcat.consume.${VALUE_SIZE}`,
    system: 'Samsa via kcat',
    label: 'kcat -C -o beginning -e -q -X fetch.wait.max.ms=10 -X queued.min.messages=1000000, lines counted by wc -l',
    counterpart: `wire.embedded.read.${VALUE_SIZE}`,
    note: kcatNote,
    setup: kcatSkip,
    // Only the binary and its libraries into the page cache.
    warmUp: () => runKcat(consumeArgs(state.emptyTopic)),
    async consume() {
      const args = consumeArgs(state.readTopic)
      const r = await timedKcat(args, null, null)
      return { ...r, records: r.lines }
    },
  })

  return {
    name: `Kafka wire (KafkaJS${kcat ? `, ${kcat}` : '; kcat not installed'})`,
    skip: loaded.broker ? undefined : loaded.missing,
    async setup() {
      state.dir = scratchDir(root, 'wire')
      state.broker = await loaded.broker.Broker.open(path.join(state.dir, 'broker'), { retentionCheckIntervalMs: 0 })
      state.server = await state.broker.listen({
        host: '127.0.0.1',
        port: 0,
        // Group joins and leaves are expected; anything else is worth seeing.
        log: (line) => {
          if (!/: group \S+: (member .* (joins|leaves)|generation \d+)/.test(line)) console.log(`  kafka server: ${line}`)
        },
      })
      state.bootstrap = `127.0.0.1:${state.server.address().port}`
      state.producers.acks1 = state.broker.producer({ acks: 1 })
      state.producers.acksAll = state.broker.producer({ acks: 'all' })

      await state.broker.createTopic(state.readTopic, { partitions: 1 })
      await state.broker.createTopic(state.emptyTopic, { partitions: 1 })
      const lines = lineValues()
      const readBatches = Array.from({ length: 8 }, (_, i) => messagesOf(lines, batch, i * batch))
      for (let i = 0, acked = 0; acked < records; i++) acked += (await state.producers.acks1.send(state.readTopic, readBatches[i % readBatches.length])).length

      if (kcat !== null) {
        state.kcatInput = path.join(state.dir, 'lines.txt')
        state.kcatEmptyInput = path.join(state.dir, 'empty.txt')
        const text = lines.map((v) => `:${v.toString('latin1')}\n`)
        const fd = fs.openSync(state.kcatInput, 'w')
        try {
          for (let i = 0; i < records; i += text.length) fs.writeSync(fd, text.slice(0, Math.min(text.length, records - i)).join(''))
        } finally {
          fs.closeSync(fd)
        }
        fs.writeFileSync(state.kcatEmptyInput, '')
      }
      state.kafkajs = await startKafkaJS(state.bootstrap)
    },
    async teardown() {
      await state.kafkajs?.stop()
      for (const p of Object.values(state.producers)) await p.close?.()
      await state.broker?.close()
      if (state.dir !== null) removeDir(state.dir)
    },
    rows,
  }
}
