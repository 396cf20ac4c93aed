/**
 * From a request frame to a decoded request: the header, the API's codec, and the body decoded at
 * the requested version, with every byte accounted for.
 */
import { UnsupportedApiVersionError } from '../errors.js'
import { CODECS, type ApiCodec } from './apis/index.js'
import { parseRequestHeader, type RequestHeader } from './frame.js'

export interface DecodedRequest {
  header: RequestHeader
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  codec: ApiCodec<any, any>
  request: unknown
}

/** Throws KafkaProtocolError (garbled bytes) or UnsupportedApiVersionError (unknown key or version). */
export function decodeRequest(frame: Buffer): DecodedRequest {
  const { header, body } = parseRequestHeader(frame)
  const codec = CODECS.get(header.apiKey)
  if (codec === undefined) throw new UnsupportedApiVersionError(header.apiKey, header.apiVersion, 'unknown API key')
  if (header.apiVersion < codec.minVersion || header.apiVersion > codec.maxVersion) {
    throw new UnsupportedApiVersionError(header.apiKey, header.apiVersion, `${codec.name} versions ${codec.minVersion} to ${codec.maxVersion} are`)
  }
  const request = codec.decodeRequest(body, header.apiVersion)
  body.end()
  return { header, codec, request }
}
