/**
 * InitProducerId (key 22), versions 0-1: hands an idempotent producer its id and epoch.
 *
 * Request: transactional_id transaction_timeout_ms
 * Response: throttle_time_ms error_code producer_id producer_epoch
 */
import type { ApiCodec } from './codec.js'

export interface InitProducerIdRequest {
  transactionalId: string | null
  transactionTimeoutMs: number
}

export interface InitProducerIdResponse {
  throttleTimeMs: number
  errorCode: number
  producerId: number
  producerEpoch: number
}

export const InitProducerId: ApiCodec<InitProducerIdRequest, InitProducerIdResponse> = {
  apiKey: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 1,
  decodeRequest(r) {
    return { transactionalId: r.nullableString('transactional_id'), transactionTimeoutMs: r.int32('transaction_timeout_ms') }
  },
  encodeResponse(w, _version, res) {
    w.int32(res.throttleTimeMs).int16(res.errorCode).int64(res.producerId).int16(res.producerEpoch)
  },
}
