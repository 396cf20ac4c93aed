/**
 * ApiVersions (key 18), versions 0-3. v3 is the one flexible message this server speaks, because
 * librdkafka asks it first: its request uses header v2 (a tagged-field section after client_id),
 * while its response keeps header v0, as Kafka's does for ApiVersions.
 *
 * Request: v0-2 empty; v3 client_software_name client_software_version (compact) + tagged fields
 * Response: error_code [api_key min_version max_version] (v1+ throttle_time_ms); v3 the same with a
 *   compact array, a tagged-field section per entry and one at the end.
 * An unsupported ApiVersions version is answered in the v0 shape with UNSUPPORTED_VERSION and the
 * full table, so the client can retry at a version both sides know (KIP-511).
 */
import type { Writer } from '../wire.js'
import type { ApiCodec } from './codec.js'

export interface ApiVersionsRequest {
  clientSoftwareName: string | null
  clientSoftwareVersion: string | null
}

export interface ApiVersionRange {
  apiKey: number
  minVersion: number
  maxVersion: number
}

export interface ApiVersionsResponse {
  errorCode: number
  apiKeys: ApiVersionRange[]
  throttleTimeMs: number
}

export const ApiVersions: ApiCodec<ApiVersionsRequest, ApiVersionsResponse> = {
  apiKey: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 3,
  decodeRequest(r, version) {
    if (version < 3) return { clientSoftwareName: null, clientSoftwareVersion: null }
    const clientSoftwareName = r.compactString('client_software_name')
    const clientSoftwareVersion = r.compactString('client_software_version')
    r.taggedFields()
    return { clientSoftwareName, clientSoftwareVersion }
  },
  encodeResponse(w, version, res) {
    if (version >= 3) {
      w.int16(res.errorCode)
      w.compactArray(res.apiKeys, (w, k) => w.int16(k.apiKey).int16(k.minVersion).int16(k.maxVersion).emptyTaggedFields())
      w.int32(res.throttleTimeMs)
      w.emptyTaggedFields()
      return
    }
    w.int16(res.errorCode)
    w.array(res.apiKeys, (w, k) => w.int16(k.apiKey).int16(k.minVersion).int16(k.maxVersion))
    if (version >= 1) w.int32(res.throttleTimeMs)
  },
}

/** The answer to an ApiVersions request at a version above 3: v0 shape, UNSUPPORTED_VERSION. */
export function encodeUnsupportedApiVersions(w: Writer, apiKeys: ApiVersionRange[]): void {
  ApiVersions.encodeResponse(w, 0, { errorCode: 35, apiKeys, throttleTimeMs: 0 })
}
