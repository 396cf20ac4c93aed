/**
 * Fetch: the stored batches of each partition, as they are on disk, from the one holding the fetch
 * offset up to the partition's and the response's byte limits (the first batch of the response
 * goes out whatever its size, as in Kafka, so a large batch never wedges a consumer).
 *
 * Long poll: while fewer than min_bytes are available, the request waits, up to max_wait_ms, for
 * any of its partitions to get new data (Log.waitForData), then reads again. It answers at once
 * when a partition has an error, and when the connection closes or the server shuts down.
 *
 * OFFSET_OUT_OF_RANGE only below the log start or above the high watermark; a fetch exactly at the
 * high watermark is an empty answer. last_stable_offset is the high watermark (no transactions).
 */
import type { Log } from '@samsa/log'
import type { FetchPartitionResponse, FetchRequest, FetchResponse } from '../apis/fetch.js'
import { ErrorCode } from '../error-codes.js'
import { errorLine, kafkaErrorCode } from '../error-mapping.js'
import type { Handler, RequestContext, ServerContext } from './context.js'

interface Pass {
  topics: FetchResponse['topics']
  bytes: number
  anyError: boolean
  /** Logs with nothing to send and the high watermark to wait past. */
  waitable: { log: Log; hw: number }[]
}

export function fetchHandler(ctx: ServerContext): Handler<FetchRequest, FetchResponse> {
  return async (req, rc) => {
    const deadline = Date.now() + Math.max(0, req.maxWaitMs)
    for (;;) {
      const pass = readPass(ctx, req)
      const left = deadline - Date.now()
      if (pass.bytes >= req.minBytes || pass.anyError || left <= 0 || rc.signal.aborted || pass.waitable.length === 0) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, topics: pass.topics }
      }
      await waitForAny(pass.waitable, left, rc)
      // Answer with what there is once the wait ends, whatever min_bytes says, if time is up.
      if (Date.now() >= deadline || rc.signal.aborted) {
        const last = readPass(ctx, req)
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, topics: last.topics }
      }
    }
  }
}

function readPass(ctx: ServerContext, req: FetchRequest): Pass {
  const pass: Pass = { topics: [], bytes: 0, anyError: false, waitable: [] }
  const limit = req.maxBytes > 0 ? req.maxBytes : Number.POSITIVE_INFINITY
  for (const t of req.topics) {
    const partitions: FetchPartitionResponse[] = []
    const topic = ctx.broker.getTopic(t.name)
    for (const p of t.partitions) {
      const partition = topic !== undefined && Number.isInteger(p.partition) ? topic.partitions[p.partition] : undefined
      if (partition === undefined) {
        partitions.push(answer(p.partition, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1, -1, []))
        pass.anyError = true
        continue
      }
      const log = partition.log
      const hw = log.highWatermark
      const start = log.logStartOffset
      if (p.fetchOffset < start || p.fetchOffset > hw) {
        partitions.push(answer(p.partition, ErrorCode.OFFSET_OUT_OF_RANGE, hw, start, []))
        pass.anyError = true
        continue
      }
      if (p.fetchOffset === hw) {
        partitions.push(answer(p.partition, ErrorCode.NONE, hw, start, []))
        pass.waitable.push({ log, hw })
        continue
      }
      const budget = Math.min(p.maxBytes > 0 ? p.maxBytes : 1, limit - pass.bytes)
      if (pass.bytes > 0 && budget <= 0) {
        partitions.push(answer(p.partition, ErrorCode.NONE, hw, start, []))
        continue
      }
      let records: Buffer[]
      try {
        records = log.readBatchBytes(p.fetchOffset, Math.max(1, budget))
      } catch (err) {
        const code = kafkaErrorCode(err)
        if (code === ErrorCode.UNKNOWN_SERVER_ERROR) ctx.log(`fetch from ${t.name}-${p.partition} at ${p.fetchOffset} failed: ${errorLine(err)}`)
        partitions.push(answer(p.partition, code, log.highWatermark, log.logStartOffset, []))
        pass.anyError = true
        continue
      }
      let size = 0
      for (const r of records) size += r.length
      // Only the response's first data may exceed the limits (so a batch bigger than them is
      // still delivered, alone); later partitions wait for a fetch where they come first.
      if (pass.bytes > 0 && size > budget) records = []
      else pass.bytes += size
      partitions.push(answer(p.partition, ErrorCode.NONE, hw, start, records))
    }
    pass.topics.push({ name: t.name, partitions })
  }
  return pass
}

function answer(partition: number, errorCode: number, hw: number, logStartOffset: number, records: Buffer[]): FetchPartitionResponse {
  return {
    partition,
    errorCode,
    highWatermark: hw,
    lastStableOffset: hw,
    logStartOffset,
    abortedTransactions: [],
    preferredReadReplica: -1,
    records,
  }
}

/** Resolves when any of the logs' high watermarks passes the one noted, after `timeoutMs`, or on abort. */
async function waitForAny(waitable: { log: Log; hw: number }[], timeoutMs: number, rc: RequestContext): Promise<void> {
  const stop = new AbortController()
  const onAbort = () => stop.abort()
  rc.signal.addEventListener('abort', onAbort, { once: true })
  try {
    await Promise.race(waitable.map((w) => w.log.waitForData(w.hw, timeoutMs, stop.signal)))
  } finally {
    rc.signal.removeEventListener('abort', onAbort)
    stop.abort()
  }
}
