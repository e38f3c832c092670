/**
 * The data path the sidecar, the hub and the agent share: upstreams, the headers that cross a
 * hop, relays of bodies and upgraded connections, Status answers. It knows no mode.
 *
 * @module
 */
export {
  auditIdField,
  CLUSTER_HEADER,
  forwardedHeaders,
  headersFromRaw,
  isDroppedRequestHeader,
  isDroppedResponseHeader,
  responseHeaders,
} from "./headers.ts";
export { hasBody, readBody, readBounded } from "./request_body.ts";
export { type RelayStopOptions, relayStream, spliceSockets } from "./relay.ts";
export { isStreamingTarget, queryFlag, splitTarget } from "./streaming_target.ts";
export { type StreamBoundary, streamBoundary } from "./stream_boundary.ts";
export { proxyStatus, statusRefusalBody, writeSocketStatus, writeStatus } from "./status.ts";
export {
  answerUpgrade,
  type UpgradeAnswer,
  upgradeAnswerHeaders,
  upgradeAnswerOf,
} from "./upgrade.ts";
export {
  createTargetUpstream,
  type TargetUpstreamOptions,
  type UpgradeResult,
  type Upstream,
  type UpstreamRequest,
  type UpstreamResponse,
} from "./upstream.ts";
export { upstreamErrorCode, UpstreamUnavailableError } from "./upstream_error.ts";
export { type UpstreamTarget, type WholeReader } from "./upstream_target.ts";
export { createUpstream, kubeUpstreamTarget, type UpstreamOptions } from "./kube_target.ts";
