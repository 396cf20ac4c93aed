/**
 * What each API module provides: the versions it implements, a request decoder and a response
 * encoder. Request decoders read the body only (after the request header) and must leave nothing
 * unread; the dispatcher checks that with Reader.end().
 */
import type { Reader, Writer } from '../wire.js'

export interface ApiCodec<Req, Res> {
  readonly apiKey: number
  readonly name: string
  readonly minVersion: number
  readonly maxVersion: number
  decodeRequest(r: Reader, version: number): Req
  encodeResponse(w: Writer, version: number, response: Res): void
}
