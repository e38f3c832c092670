/**
 * The tunnel between the hub and its agents: yamux sessions over a WebSocket, the request and
 * response heads on each stream, and the connect request's contract. It knows neither end.
 *
 * @module
 */
export * from "./connect_contract.ts";
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
export { nodeDuplexOf } from "./node_duplex.ts";
export { websocketDuplex } from "./websocket_duplex.ts";
export * from "./yamux/mod.ts";
