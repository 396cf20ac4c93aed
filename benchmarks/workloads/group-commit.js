/**
 * Group commit (issue 3): flush 'always', 1, 8 and 64 concurrent appenders of 100-byte records,
 * one record per append and ten per append; 1x1, 64x1 and 64x10 again with `blockingSync` (each
 * group's fdatasync on the event loop, not libuv's thread pool). fdatasync calls, of either kind,
 * are counted through an injected FileIO that wraps the default one.
 */
import { makeRecords, makeValues, removeDir, scratchDir } from '../lib/data.js'
import { latencySummary, secondsSince } from '../lib/stats.js'

const VALUE_SIZE = 100

export function groupCommitWorkloads(ctx) {
  const { samsa, cfg, root } = ctx
  const { Log, defaultIO } = samsa
  const values = makeValues(VALUE_SIZE)
  const rows = []
  // Each shape with the default (fdatasync on libuv's thread pool); three with blockingSync too.
  const shapes = []
  for (const perAppend of [1, 10]) for (const appenders of [1, 8, 64]) shapes.push({ perAppend, appenders, blocking: false })
  for (const [appenders, perAppend] of [[1, 1], [64, 1], [64, 10]]) shapes.push({ perAppend, appenders, blocking: true })
  for (const { perAppend, appenders, blocking } of shapes) {
    {
      let dir = null
      let log = null
      let fsyncs = 0
      const io = {
        ...defaultIO,
        fdatasync(fd) {
          fsyncs++
          return defaultIO.fdatasync(fd)
        },
        fdatasyncSync(fd) {
          fsyncs++
          defaultIO.fdatasyncSync(fd)
        },
      }
      rows.push({
        id: `samsa.groupcommit.${blocking ? 'blocking.' : ''}${appenders}x${perAppend}`,
        system: 'Samsa',
        section: 'group commit',
        label: `flush 'always'${blocking ? ' + blockingSync' : ''}, ${appenders} appender${appenders > 1 ? 's' : ''} x ${perAppend} record${perAppend > 1 ? 's' : ''} per append`,
        valueSize: VALUE_SIZE,
        kind: 'write',
        durable: 'each append',
        async setup() {
          dir = scratchDir(root, `samsa-gc-${blocking ? 'blocking-' : ''}${appenders}x${perAppend}`)
          log = await Log.open(dir, { flush: 'always', io, blockingSync: blocking })
        },
        async round() {
          const latencies = []
          const before = fsyncs
          const startOffset = log.logEndOffset
          const start = process.hrtime.bigint()
          const deadline = start + BigInt(Math.round(cfg.groupCommitSeconds * 1e9))
          const appender = async (a) => {
            const records = makeRecords(values, perAppend, a)
            for (;;) {
              const t0 = process.hrtime.bigint()
              if (t0 >= deadline) return
              await log.append(records)
              latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
            }
          }
          await Promise.all(Array.from({ length: appenders }, (_, a) => appender(a)))
          const seconds = secondsSince(start)
          const records = log.logEndOffset - startOffset
          if (records !== latencies.length * perAppend) throw new Error(`${records} records appended, ${latencies.length * perAppend} acknowledged`)
          return { records, bytes: records * VALUE_SIZE, seconds, fsyncs: fsyncs - before, ...latencySummary(latencies) }
        },
        async teardown() {
          await log?.close()
          if (dir !== null) removeDir(dir)
        },
      })
    }
  }
  return { name: 'Samsa group commit', rows }
}
