/**
 * The tunnel between the hub and its agents: yamux sessions over a WebSocket, the request and
 * response heads on each stream, the connect request's contract, and the way to the other end
 * through an HTTP proxy (HTTPS_PROXY, NO_PROXY, CONNECT). It knows neither end.
 *
 * @module
 */
export * from "./connect_contract.ts";
export * from "./trust_contract.ts";
export * from "./token_contract.ts";
export { coalescedChunks } from "./coalesced_chunks.ts";
export {
  bodyChunks,
  type ChunkReader,
  encodeHead,
  type ReadHead,
  readHead,
  type TunnelHeaders,
  type TunnelRequestHead,
  type TunnelResponseHead,
} from "./exchange.ts";
export * from "./egress_proxy.ts";
export * from "./proxy_dial.ts";
export { nodeDuplexOf } from "./node_duplex.ts";
export { type CountBytes, websocketDuplex } from "./websocket_duplex.ts";
export * from "./yamux/mod.ts";
