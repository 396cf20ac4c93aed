/**
 * Read-ahead for scans: while a reader turns one chunk of a segment into records, a worker thread
 * (read-ahead-worker.ts) reads the next chunk, checks its batches' CRCs and indexes their records,
 * so the reader's thread is left with building the records it hands out. That work was about
 * 40% of a read of 100-byte records (the read into fresh memory, CRC-32C and parsing); a scan
 * gets the second core to do it.
 *
 * When: a read that took at least READ_AHEAD_MIN_BYTES from a segment and stopped inside it opens
 * a stream from where the next read will start: the worker reads chunks (two reads long) one after
 * the other, DEPTH chunks ahead of the reader, who tops the stream up by one each time it takes
 * one. A read that starts where the stream's next chunk begins, or on a batch of the chunk it holds,
 * takes it (waiting for the worker if it is still at it); a read anywhere else closes the stream.
 * Tailing readers (small reads, or reads that reach the end of what is written) never open one.
 * A log has at most one stream, and the process at most PROCESS_BUDGET bytes of them.
 *
 * Invariants: a chunk holds only bytes below the segment's size when it was asked for, and a
 * segment's bytes below its size change only when it is truncated, which bumps its epoch: a chunk
 * of an older epoch is dropped. Records are built from a chunk only for batches the worker found
 * whole and valid; a chunk that stops early (damage, a batch cut off by the chunk's end) leaves
 * the rest to the ordinary read path, which reports damage with its file position as always.
 * Nothing here can make a read return what a read without it would not: the worker failing,
 * dying or being slow only sends reads back to that path.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads'
import { BATCH_STRIDE, type ReadAheadMessage, type StreamReply } from './read-ahead-worker.js'

/** Reads smaller than this are not scans: they ask for nothing. */
export const READ_AHEAD_MIN_BYTES = 64 * 1024
/** The largest chunk asked for (bigger ones measured no faster, and each pins its memory). */
const MAX_CHUNK = 4 * 1024 * 1024
/** How long a read waits for a chunk the worker is at before reading the bytes itself. */
const WAIT_MS = 2000
/**
 * Bytes of chunks asked for or held, across every log of the process, beyond which no more are
 * asked for: a broker scanning many partitions at once must not pin a chunk for each.
 */
const PROCESS_BUDGET = 64 * 1024 * 1024
let budgetUsed = 0

/** Bytes of the process's read-ahead budget in use (for tests). */
export function readAheadBytes(): number {
  return budgetUsed
}

/** What a read-ahead chunk is for; the segment is only compared, never touched. */
export interface ChunkOwner {
  readonly logFile: string
  readonly epoch: number
}

/** A checked chunk of a segment, as the reader uses it. */
export interface Chunk {
  readonly owner: ChunkOwner
  readonly epoch: number
  /** File position of buf[0]. */
  readonly position: number
  /** Whole, checked batches (BATCH_STRIDE numbers each in `batches`) from position. */
  readonly buf: Buffer
  readonly checked: number
  readonly batches: Float64Array
  readonly records: Int32Array
  /** The batch a read takes next. */
  next: number
}

function workerFile(): URL | null {
  const here = new URL('./read-ahead-worker.js', import.meta.url)
  if (existsSync(fileURLToPath(here))) return here
  // Run from the TypeScript sources (the test runner): the worker is the compiled one in dist/.
  const built = new URL('../dist/read-ahead-worker.js', import.meta.url)
  return existsSync(fileURLToPath(built)) ? built : null
}

/** The process's one read-ahead worker, shared by every log. */
class ReadAheadThread {
  /** [answers sent, started] */
  private readonly signal = new Int32Array(new SharedArrayBuffer(8))
  private readonly port: MessagePort
  /** The open streams' answers not yet taken, in order. */
  private readonly replies = new Map<number, StreamReply[]>()
  private nextStream = 1
  broken = false

  constructor(file: URL) {
    const { port1, port2 } = new MessageChannel()
    this.port = port1
    const worker = new Worker(file, { workerData: { port: port2, signal: this.signal }, transferList: [port2] })
    worker.unref()
    // Answers are taken synchronously (take); this listener, on turns of the event loop, only
    // drops the ones of streams closed meanwhile, which would otherwise pin their chunks in the
    // port's queue until the next scan. It does not keep the process alive.
    port1.on('message', (r: StreamReply) => this.accept(r))
    port1.unref()
    // A worker that cannot start, or fails, only costs the speed-up.
    worker.on('error', () => {
      this.broken = true
    })
    worker.on('exit', () => {
      this.broken = true
    })
  }

  get started(): boolean {
    return Atomics.load(this.signal, 1) === 1
  }

  /** Start a stream of `credit` chunks from `position`; one more comes for each credit(). */
  open(file: string, position: number, length: number, limit: number, maxBatchBytes: number, credit: number): number {
    const stream = this.nextStream++
    this.replies.set(stream, [])
    this.send({ type: 'open', stream, file, position, length, limit, maxBatchBytes, credit })
    return stream
  }

  credit(stream: number): void {
    this.send({ type: 'credit', stream })
  }

  close(stream: number): void {
    if (this.replies.delete(stream)) this.send({ type: 'close', stream })
  }

  /** Queue an answer for its stream; a closed stream's are dropped. */
  private accept(r: StreamReply): void {
    this.replies.get(r.id)?.push(r)
  }

  private send(m: ReadAheadMessage): void {
    this.port.postMessage(m)
  }

  /**
   * The stream's next chunk, waiting for it up to WAIT_MS; null when there is none to have (the
   * worker has not started yet, is broken, or took too long).
   */
  take(stream: number): StreamReply | null {
    const queue = this.replies.get(stream)
    if (queue === undefined) return null
    for (;;) {
      const reply = queue.shift()
      if (reply !== undefined) return reply
      if (this.broken || !this.started) return null
      // Read the counter before looking for messages: the worker posts, then counts, so a
      // message that arrives after the look changes the counter the wait below compares.
      const seen = Atomics.load(this.signal, 0)
      for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
        this.accept(m.message as StreamReply)
      }
      if (queue.length > 0) continue
      if (Atomics.wait(this.signal, 0, seen, WAIT_MS) === 'timed-out') return null
    }
  }
}

let thread: ReadAheadThread | null = null
let unavailable = false

function readAheadThread(): ReadAheadThread | null {
  if (thread !== null) {
    // A worker that failed once is not started again: reads go on without it.
    if (thread.broken) unavailable = true
    else return thread
  }
  if (unavailable) return null
  const file = workerFile()
  if (file === null) {
    unavailable = true
    return null
  }
  try {
    thread = new ReadAheadThread(file)
  } catch {
    unavailable = true
    return null
  }
  return thread
}

/**
 * Start the worker now rather than at the first scan, and resolve once it runs (false where it
 * cannot): for tests, and for a service that wants its first scan at full speed.
 */
export async function startReadAhead(timeoutMs = 10_000): Promise<boolean> {
  const t = readAheadThread()
  for (const until = Date.now() + timeoutMs; t !== null && !t.broken && Date.now() < until; ) {
    if (t.started) return true
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return t !== null && t.started
}

/** Chunks a stream has asked for ahead of the reader. */
const DEPTH = 2

/** One log's read-ahead: its stream of chunks, and the chunk it holds. */
export class ReadAhead {
  private stream: { id: number; owner: ChunkOwner; epoch: number; next: number; limit: number; bytes: number } | null = null
  private chunk: Chunk | null = null
  /** Chunks handed to reads, and chunks that were waited for in vain (for tests and tuning). */
  served = 0
  missed = 0

  constructor(private readonly maxBatchBytes: number) {}

  /**
   * A chunk of `owner` with a checked batch starting at `position`, its `next` set to that batch;
   * null if there is none (the caller reads the bytes itself).
   */
  take(owner: ChunkOwner, position: number): Chunk | null {
    const held = this.chunk
    if (held !== null) {
      if (covers(held, owner, position)) {
        const b = batchAt(held, position - held.position)
        if (b >= 0) {
          held.next = b
          return held
        }
      }
      this.chunk = null
    }
    const s = this.stream
    if (s === null || s.next >= s.limit) {
      this.close()
      return null
    }
    const t = thread
    if (s.owner !== owner || s.epoch !== owner.epoch || s.next !== position || t === null) {
      this.close()
      return null
    }
    const reply = t.take(s.id)
    if (reply === null || reply.memory === null || reply.checked === 0 || reply.position !== position) {
      this.missed++
      this.close()
      return null
    }
    s.next = position + reply.checked
    if (s.next < s.limit) t.credit(s.id)
    this.served++
    this.chunk = {
      owner,
      epoch: s.epoch,
      position,
      buf: Buffer.from(reply.memory, 0, reply.checked),
      checked: reply.checked,
      batches: reply.batches,
      records: reply.records,
      next: 0,
    }
    return this.chunk
  }

  /**
   * Have chunks of about `length` bytes of `owner` read from `position` (a batch boundary) up to
   * `limit` (the segment's size now), unless they already are.
   */
  prefetch(owner: ChunkOwner, position: number, length: number, limit: number): void {
    if (this.chunk !== null && covers(this.chunk, owner, position)) return
    const s = this.stream
    if (s !== null && s.owner === owner && s.epoch === owner.epoch && s.next === position && s.next < s.limit) return
    this.close()
    length = Math.min(length, MAX_CHUNK)
    // What the stream may pin: the chunks in flight and the one a reader holds.
    const bytes = (DEPTH + 1) * length
    if (budgetUsed + bytes > PROCESS_BUDGET) return
    const t = readAheadThread()
    // Until the worker runs (~60 ms from its start, more beside a busy reader), a reader takes
    // nothing from it: asking would only queue chunks that nobody waits for.
    if (t === null || !t.started) return
    const id = t.open(owner.logFile, position, length, limit, this.maxBatchBytes, DEPTH)
    this.stream = { id, owner, epoch: owner.epoch, next: position, limit, bytes }
    budgetUsed += bytes
  }

  /** Stop the stream (the log closes, or the reader went elsewhere). */
  close(): void {
    const s = this.stream
    if (s === null) return
    this.stream = null
    thread?.close(s.id)
    budgetUsed -= s.bytes
  }
}

/** Whether `chunk` holds `position` of `owner` as it is now (no truncation since). */
function covers(chunk: Chunk, owner: ChunkOwner, position: number): boolean {
  return chunk.owner === owner && chunk.epoch === owner.epoch && position >= chunk.position && position < chunk.position + chunk.checked
}

/** The index of the batch at `rel` bytes into the chunk, or -1 if no batch starts there. */
function batchAt(chunk: Chunk, rel: number): number {
  const b = chunk.batches
  // Reads go forward: the batch after the last one taken is the usual answer.
  const n = b.length / BATCH_STRIDE
  if (chunk.next < n && b[chunk.next * BATCH_STRIDE] === rel) return chunk.next
  let lo = 0
  let hi = n - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const at = b[mid * BATCH_STRIDE]
    if (at === rel) return mid
    if (at < rel) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}
