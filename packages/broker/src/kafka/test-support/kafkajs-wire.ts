/**
 * KafkaJS's own protocol layer over a plain socket: requests encoded by KafkaJS's request encoders
 * (with its header and size prefix), responses decoded by KafkaJS's response decoders. For the
 * tests that need one exact request (a duplicate Produce, a Fetch held at the high watermark,
 * pipelined requests, a client vanishing mid-request); everything else uses the KafkaJS client.
 * Only the reading of size-prefixed response frames is done here.
 */
import { createRequire } from 'node:module'
import * as net from 'node:net'

const require = createRequire(import.meta.url)
const createRequest = require('kafkajs/src/protocol/request')

export interface WireResponse {
  correlationId: number
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any
  raw: Buffer
}

export class KafkaJSWire {
  private buffered = Buffer.alloc(0)
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (r: WireResponse) => void; decode: (b: Buffer) => Promise<unknown> }>()
  /** Correlation ids in the order their responses arrived. */
  readonly arrivals: number[] = []
  readonly closed: Promise<void>

  private constructor(
    readonly socket: net.Socket,
    private readonly clientId: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', () => undefined)
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()))
  }

  static connect(port: number, clientId = 'kafkajs-wire'): Promise<KafkaJSWire> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new KafkaJSWire(socket, clientId)))
      socket.once('error', reject)
    })
  }

  private onData(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk])
    while (this.buffered.length >= 4) {
      const size = this.buffered.readInt32BE(0)
      if (this.buffered.length < 4 + size) return
      const frame = this.buffered.subarray(4, 4 + size)
      this.buffered = this.buffered.subarray(4 + size)
      const correlationId = frame.readInt32BE(0)
      this.arrivals.push(correlationId)
      const w = this.waiting.get(correlationId)
      if (w === undefined) continue
      this.waiting.delete(correlationId)
      const payload = Buffer.from(frame.subarray(4))
      void w.decode(payload).then((body) => w.resolve({ correlationId, body, raw: payload }))
    }
  }

  /** The encoded request frame, as KafkaJS would put it on the wire. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async encode(api: string, version: number, args: Record<string, unknown>, correlationId = this.nextId++): Promise<{ wire: Buffer; correlationId: number; response: any }> {
    const { protocol } = require(`kafkajs/src/protocol/requests/${api}`)
    const { request, response } = protocol({ version })(args)
    const wire: Buffer = (await createRequest({ correlationId, clientId: this.clientId, request })).buffer
    return { wire, correlationId, response }
  }

  /** Send a request; resolves with KafkaJS's decoding of the response (never, for acks 0). */
  async send(api: string, version: number, args: Record<string, unknown> = {}): Promise<WireResponse> {
    const { wire, correlationId, response } = await this.encode(api, version, args)
    const answer = this.expect(correlationId, (b) => response.decode(b))
    this.socket.write(wire)
    return answer
  }

  /** Wait for the response to `correlationId`, decoded with `decode`. */
  expect(correlationId: number, decode: (b: Buffer) => Promise<unknown>): Promise<WireResponse> {
    return new Promise((resolve) => this.waiting.set(correlationId, { resolve, decode }))
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  destroy(): void {
    this.socket.destroy()
  }
}
