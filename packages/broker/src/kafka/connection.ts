/**
 * One client connection: frames in, responses out, in order.
 *
 * Requests of a connection are served one at a time, in the order they arrived, as Kafka's broker
 * serves them (it mutes a channel until its response is sent). That alone keeps the responses in
 * order, including behind a Fetch that long-polls, and keeps a producer's batches in order in the
 * log. Frames that arrive meanwhile wait in a queue; past QUEUE_HIGH the socket stops being read
 * (TCP pushes back on the client) until the queue drains below QUEUE_LOW.
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

/** What a connection asks of its server for each frame. */
export interface FrameProcessor {
  /** The response frame to write, null for none (acks 0), or 'close' to end the connection. */
  process(frame: Buffer, conn: Connection): Promise<Buffer[] | null | 'close'>
  log(line: string): void
  closed(conn: Connection): void
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
  private busy = false
  private paused = false
  /** No more requests are taken: end the socket once the current one is answered. */
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
    return !this.busy && this.queue.length === 0
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
    if (this.queue.length >= QUEUE_HIGH && !this.paused) {
      this.paused = true
      this.socket.pause()
    }
    void this.pump()
  }

  private async pump(): Promise<void> {
    if (this.busy) return
    this.busy = true
    try {
      while (this.queue.length > 0 && !this.gone) {
        const frame = this.queue.shift()!
        if (this.paused && this.queue.length < QUEUE_LOW && !this.ending) {
          this.paused = false
          this.socket.resume()
        }
        const out = await this.server.process(frame, this)
        if (out === 'close') {
          this.endAfterQueue(true)
          break
        }
        if (out !== null) await this.write(out)
        this.lastActivity = Date.now()
      }
    } catch (err) {
      // process() answers errors itself; this is a bug, not a client's fault: still no crash.
      this.server.log(`kafka: connection ${this.remote} failed: ${errorLine(err)}`)
      this.endAfterQueue(true)
    } finally {
      this.busy = false
      if (this.ending && !this.gone) this.socket.end()
      for (const w of this.idleWaiters.splice(0)) w()
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
    if (!this.busy && this.queue.length === 0 && !this.gone) this.socket.end()
    else void this.pump()
  }

  /** For the idle timeout. */
  closeIdle(idleMs: number): void {
    this.server.log(`kafka: closing connection from ${this.remote}: idle for ${idleMs} ms`)
    this.endAfterQueue(true)
  }

  /**
   * Server shutdown: take no more requests, cut long polls short, answer the request in flight,
   * then end. Requests queued behind it are dropped (the client retries them elsewhere or later).
   */
  async close(timeoutMs: number): Promise<void> {
    this.ending = true
    this.queue.length = 0
    this.socket.pause()
    this.abort.abort()
    if (this.busy) await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
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
