/**
 * An upgrade request (exec, attach, port-forward) on a node:https connection of its own: it
 * settles with the 101 and its socket, or with any other answer, or fails at the timeout.
 */
import http from "node:http";
import https from "node:https";
import { clientPair, type Credentials } from "../kube/mod.ts";
import { pathUnderPrefix } from "../request_target.ts";
import type { UpgradeResult, UpstreamRequest, UpstreamState } from "./upstream.ts";
import { UpstreamUnavailableError } from "./upstream_error.ts";
import type { UpstreamTarget } from "./upstream_target.ts";

/** Sends the upgrade with the headers already settled; resolves on 101 or any other answer. */
export async function sendUpgrade(
  state: UpstreamState,
  request: UpstreamRequest,
  { outgoing, used }: { outgoing: Record<string, string | string[]>; used: Credentials },
): Promise<UpgradeResult> {
  const req = (state.secure ? https : http).request({
    protocol: state.base.protocol,
    hostname: state.hostname,
    port: state.port,
    method: request.method,
    path: pathUnderPrefix(state.prefix, request.path),
    headers: outgoing,
    // Upgraded sockets leave any pool: a dedicated connection.
    agent: false,
    ...(state.secure ? upgradeTls(state.target, used) : {}),
  });
  const result = withTimeout(
    state,
    req,
    request.signal,
    new Promise<UpgradeResult>((resolve, reject) => {
      req.once(
        "upgrade",
        (response, socket, head) => resolve({ upgraded: true, response, socket, head }),
      );
      req.once("response", (response) => resolve({ upgraded: false, response }));
      req.once(
        "error",
        (error) => reject(new UpstreamUnavailableError(state.name, error.message)),
      );
    }),
  );
  req.end();
  return await result;
}

/**
 * Settles when the response headers arrive, or rejects at the timeout or when the caller
 * goes away. The rejection does not wait for the request's own "error" event: a request
 * destroyed before its TLS handshake finished was seen to never emit one (Deno 2.9).
 */
function withTimeout<T>(
  state: UpstreamState,
  req: http.ClientRequest,
  signal: AbortSignal | undefined,
  work: Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new UpstreamUnavailableError(
        state.name,
        `no response within ${state.timeoutMs / 1000} s`,
      );
      req.destroy(error);
      reject(error);
    }, state.timeoutMs);
    signal?.addEventListener("abort", () => {
      const error = new DOMException("The client went away", "AbortError");
      req.destroy(error);
      reject(error);
    }, { once: true });
  });
  // After the headers, an abort still destroys the request (and with it a streaming response);
  // its rejection then has nobody waiting.
  stopped.catch(() => {});
  return Promise.race([work, stopped]).finally(() => clearTimeout(timer));
}

function upgradeTls(target: UpstreamTarget, used: Credentials): https.RequestOptions {
  const pair = clientPair(target, used);
  return {
    ...(target.tls.caPem ? { ca: target.tls.caPem } : {}),
    ...(pair.certPem && pair.keyPem ? { cert: pair.certPem, key: pair.keyPem } : {}),
    ...(target.tls.serverName ? { servername: target.tls.serverName } : {}),
    rejectUnauthorized: !target.tls.insecureSkipVerify,
  };
}
