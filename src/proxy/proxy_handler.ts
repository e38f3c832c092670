/**
 * The proxy's request path, as named steps: authorize the pod's token (authorize.ts), read a
 * routable body, settle the target (settle_target.ts), then refuse, serve a merged read or
 * forward (proxy_request.ts, forward_request.ts); upgrades take the same steps
 * (proxy_upgrade.ts). Written against the request and response of src/http1 rather than a Hono
 * app: the data path streams both ways and takes over upgraded sockets.
 */
import type { Duplex } from "node:stream";
import type { ProxyRequest, ProxyResponse } from "../http1/mod.ts";
import { createProxyContext, type ProxyHandlerDeps } from "./proxy_context.ts";
import { proxyRequest } from "./proxy_request.ts";
import { proxyUpgrade } from "./proxy_upgrade.ts";

export type { ProxyHandlerDeps } from "./proxy_context.ts";

/** The two entry points the HTTP/1.1 server calls. */
export interface ProxyHandler {
  handleRequest(req: ProxyRequest, res: ProxyResponse): void;
  handleUpgrade(req: ProxyRequest, socket: Duplex, head: Uint8Array): void;
}

/** Creates the handler. */
export function createProxyHandler(deps: ProxyHandlerDeps): ProxyHandler {
  const context = createProxyContext(deps);
  return {
    handleRequest: (req, res) => proxyRequest(context, req, res),
    handleUpgrade: (req, socket, head) => proxyUpgrade(context, req, socket, head),
  };
}
