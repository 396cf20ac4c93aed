/**
 * One client connection: frames in, responses out, in order.
 *
 * Requests of a connection are served one at a time, in the order they arrived, as Kafka's broker
 * serves them (it mutes a channel until its response is sent). That alone keeps the responses in
 * order, including behind a Fetch that long-polls, and keeps a producer's batches in order in the
 * log. The one exception is a run of requests the processor says may overlap (Produce: its batches
 * are handed to the log before its first await): the next of them starts while the one before
 * still waits (for the fsync of acks -1), so they share syncs, and their responses are written in
 * the order the requests came. A request that may not overlap starts only once everything before
 * it is answered, and nothing starts behind it until it is.
 *
 * Frames that arrive meanwhile wait in a queue; past QUEUE_HIGH frames queued or started the
 * socket stops being read (TCP pushes back on the client) until they drop below QUEUE_LOW.
 *
 * A frame that cannot be parsed ends the connection after the requests before it are answered:
 * its byte stream has lost its framing, or the client speaks something else. That is logged in one
 * line and touches no other connection.
 */
import type { Socket } from 'node:net'
import { errorLine } from './error-mapping.js'
import { FrameDecoder } from './frame.js'

const QUEUE_HIGH = 64
const QUEUE_LOW = 16
/** Overlapping requests started and not yet answered, at most. */
const MAX_STARTED = 16

type Outcome = Buffer[] | null | 'close'

/** What a connection asks of its server for each frame. */
export interface FrameProcessor {
  /**
   * The response frame to write, null for none (acks 0), or 'close' to end the connection. Must
   * not reject (a rejection is taken for a bug: the connection ends).
   */
  process(frame: Buffer, conn: Connection): Promise<Outcome>
  /**
   * Whether this frame's request may start while the requests before it are still being served
   * (they may too): only for requests that do everything whose order matters synchronously,
   * within process() before it returns.
   */
  mayOverlap(frame: Buffer): boolean
  log(line: string): void
  closed(conn: Connection): void
}

interface Started {
  outcome: Promise<Outcome>
  overlaps: boolean
}

export class Connection {
  readonly remote: string
  readonly clientHost: string
  /** Aborted when the connection closes or the server shuts down. */
  readonly signal: AbortSignal
  lastActivity = Date.now()
  private readonly abort = new AbortController()
  private readonly decoder: FrameDecoder
  private readonly queue: Buffer[] = []
  /** Requests started and not yet answered, oldest first: their responses go out in this order. */
  private readonly started: Started[] = []
  private answering = false
  private paused = false
  /** No more requests are taken: end the socket once the current ones are answered. */
  private ending = false
  private gone = false
  private idleWaiters: (() => void)[] = []

  constructor(
    private readonly socket: Socket,
    private readonly server: FrameProcessor,
    maxRequestBytes: number,
  ) {
    this.decoder = new FrameDecoder(maxRequestBytes)
    this.signal = this.abort.signal
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
    this.clientHost = `/${socket.remoteAddress ?? ''}`
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    // Resets and aborted writes of a client that went away: 'close' follows and cleans up.
    socket.on('error', () => undefined)
    socket.on('close', () => this.onClose())
  }

  /** Not serving a request and nothing queued. */
  get idle(): boolean {
    return this.started.length === 0 && !this.answering && this.queue.length === 0
  }

  private onData(chunk: Buffer): void {
    if (this.ending) return
    this.lastActivity = Date.now()
    let frames: Buffer[]
    try {
      frames = this.decoder.push(chunk)
    } catch (err) {
      this.server.log(`kafka: closing connection from ${this.remote}: ${errorLine(err)}`)
      this.endAfterQueue()
      return
    }
    for (const f of frames) this.queue.push(f)
    this.advance()
    if (this.queue.length + this.started.length >= QUEUE_HIGH && !this.paused) {
      this.paused = true
      this.socket.pause()
    }
  }

  /** Start the queued requests that may start now, then answer what has started. */
  private advance(): void {
    while (this.queue.length > 0 && !this.gone) {
      const n = this.started.length
      let overlaps = false
      if (n > 0) {
        // Behind requests still being served, only a request that may overlap them, behind ones
        // that may be overlapped, and not too many.
        if (n >= MAX_STARTED || !this.started[n - 1].overlaps) break
        overlaps = this.server.mayOverlap(this.queue[0])
        if (!overlaps) break
      } else {
        overlaps = this.server.mayOverlap(this.queue[0])
      }
      const frame = this.queue.shift()!
      const outcome = this.server.process(frame, this).catch((err): Outcome => {
        // process() answers errors itself; this is a bug, not a client's fault: still no crash.
        this.server.log(`kafka: connection ${this.remote} failed: ${errorLine(err)}`)
        return 'close'
      })
      this.started.push({ outcome, overlaps })
    }
    if (this.paused && this.queue.length + this.started.length < QUEUE_LOW && !this.ending) {
      this.paused = false
      this.socket.resume()
    }
    if (this.started.length > 0 && !this.answering) void this.answer()
  }

  /** Write the responses of the started requests in order, starting more as room is made. */
  private async answer(): Promise<void> {
    this.answering = true
    try {
      while (this.started.length > 0 && !this.gone) {
        const out = await this.started[0].outcome
        this.started.shift()
        if (out === 'close') {
          // Requests started behind it go unanswered: the client retries them, as after any drop.
          this.started.length = 0
          this.endAfterQueue(true)
          break
        }
        if (out !== null) await this.write(out)
        this.lastActivity = Date.now()
        this.advance()
      }
    } finally {
      this.answering = false
      // Gone: what is still being served has no one to answer (each outcome catches its own errors).
      if (this.gone) this.started.length = 0
      if (this.started.length === 0) {
        if (this.ending && !this.gone) this.socket.end()
        for (const w of this.idleWaiters.splice(0)) w()
      }
    }
  }

  private write(chunks: Buffer[]): Promise<void> {
    if (this.gone || this.socket.destroyed) return Promise.resolve()
    this.socket.cork()
    let flowing = true
    for (const c of chunks) flowing = this.socket.write(c)
    this.socket.uncork()
    if (flowing) return Promise.resolve()
    // A slow reader: hold the next response until this one has drained (bounded memory).
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done)
        this.socket.off('close', done)
        resolve()
      }
      this.socket.on('drain', done)
      this.socket.on('close', done)
    })
  }

  /** Take no more requests; end once what is queued before (unless `dropQueue`) is answered. */
  private endAfterQueue(dropQueue = false): void {
    this.ending = true
    if (dropQueue) this.queue.length = 0
    this.socket.pause()
    if (this.started.length === 0 && !this.answering && this.queue.length === 0 && !this.gone) this.socket.end()
    else this.advance()
  }

  /** For the idle timeout. */
  closeIdle(idleMs: number): void {
    this.server.log(`kafka: closing connection from ${this.remote}: idle for ${idleMs} ms`)
    this.endAfterQueue(true)
  }

  /**
   * Server shutdown: take no more requests, cut long polls short, answer the requests in flight,
   * then end. Requests queued behind it are dropped (the client retries them elsewhere or later).
   */
  async close(timeoutMs: number): Promise<void> {
    this.ending = true
    this.queue.length = 0
    this.socket.pause()
    this.abort.abort()
    if (this.started.length > 0 || this.answering) await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    if (this.gone) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.socket.destroy()
        resolve()
      }, timeoutMs)
      timer.unref()
      this.socket.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      this.socket.end()
    })
  }

  private onClose(): void {
    this.gone = true
    this.queue.length = 0
    this.abort.abort()
    this.server.closed(this)
  }
}
