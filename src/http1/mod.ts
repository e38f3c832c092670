/**
 * HTTP/1.1 on node:tls sockets, both ends, for the proxy, the hub and the agent: node:http's
 * server and client each cost as much CPU per request as the rest of a pass-through proxy
 * (bench/stacks). Pure readers for requests and responses, a server, and a client pool.
 *
 * @module
 */
export * from "./exchange.ts";
export { headersFromRaw } from "./_message_head.ts";
export { type Http1Server, listenHttp1 } from "./http1_server.ts";
export {
  encodeRequestHead,
  Http1Pool,
  type Http1Request,
  ResponseTimeoutError,
  type SendOptions,
} from "./http1_pool.ts";
export { type Http1Response } from "./http1_connection.ts";
export { pauseSocket, resumeSocket } from "./pause_socket.ts";
export { encodeResponseHead } from "./response_head.ts";
export { reasonOf } from "./server_response.ts";
