/** The handler of every API, by key. */
import type { ApiVersionsRequest, ApiVersionsResponse } from '../apis/api-versions.js'
import { SUPPORTED_VERSIONS } from '../apis/index.js'
import { ErrorCode } from '../error-codes.js'
import { createTopicsHandler, deleteTopicsHandler, initProducerIdHandler } from './admin.js'
import type { Handler, ServerContext } from './context.js'
import { fetchHandler } from './fetch.js'
import {
  describeGroupsHandler,
  findCoordinatorHandler,
  heartbeatHandler,
  joinGroupHandler,
  leaveGroupHandler,
  listGroupsHandler,
  offsetCommitHandler,
  offsetFetchHandler,
  syncGroupHandler,
} from './groups.js'
import { listOffsetsHandler } from './list-offsets.js'
import { metadataHandler } from './metadata.js'
import { produceHandler } from './produce.js'

export type { Handler, RequestContext, ServerContext } from './context.js'

const apiVersionsHandler: Handler<ApiVersionsRequest, ApiVersionsResponse> = async () => ({
  errorCode: ErrorCode.NONE,
  apiKeys: SUPPORTED_VERSIONS,
  throttleTimeMs: 0,
})

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function createHandlers(ctx: ServerContext): Map<number, Handler<any, any>> {
  return new Map<number, Handler<any, any>>([ // eslint-disable-line @typescript-eslint/no-explicit-any
    [0, produceHandler(ctx)],
    [1, fetchHandler(ctx)],
    [2, listOffsetsHandler(ctx)],
    [3, metadataHandler(ctx)],
    [8, offsetCommitHandler(ctx)],
    [9, offsetFetchHandler(ctx)],
    [10, findCoordinatorHandler(ctx)],
    [11, joinGroupHandler(ctx)],
    [12, heartbeatHandler(ctx)],
    [13, leaveGroupHandler(ctx)],
    [14, syncGroupHandler(ctx)],
    [15, describeGroupsHandler(ctx)],
    [16, listGroupsHandler(ctx)],
    [18, apiVersionsHandler],
    [19, createTopicsHandler(ctx)],
    [20, deleteTopicsHandler(ctx)],
    [22, initProducerIdHandler(ctx)],
  ])
}
