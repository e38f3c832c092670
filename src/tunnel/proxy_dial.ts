/**
 * An HTTP CONNECT tunnel through the egress proxy (RFC 9110 §9.3.6): a TCP socket to the proxy
 * that, once the proxy answers 2xx, carries bytes to the target. The caller runs its own TLS
 * over it, so the proxy sees only the target's host and port.
 */
import net from "node:net";
import { Buffer } from "node:buffer";
import type { EgressProxy } from "./egress_proxy.ts";

/** Where the tunnel leads. */
export interface TunnelTarget {
  hostname: string;
  port: number;
}

/** Options of openProxyTunnel. */
export interface ProxyTunnelOptions {
  /** Gives up (and closes the socket) after this long; default 10 s. */
  timeoutMs?: number;
}

/** The proxy's response head is small; a bigger one is no proxy we understand. */
const MAX_HEAD_BYTES = 16 * 1024;

/**
 * Connects to the proxy, asks for a tunnel to `target` and resolves with the socket once the
 * proxy agreed. Errors name the proxy by host and port only, never its credentials.
 */
export function openProxyTunnel(
  proxy: EgressProxy,
  target: TunnelTarget,
  options: ProxyTunnelOptions = {},
): Promise<net.Socket> {
  const authority = target.hostname.includes(":")
    ? `[${target.hostname}]:${target.port}`
    : `${target.hostname}:${target.port}`;
  const socket = net.connect({ host: proxy.hostname, port: proxy.port });
  return new Promise<net.Socket>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const fail = (reason: string) => {
      cleanup();
      socket.destroy();
      reject(new Error(`Proxy ${proxy.address}: ${reason}`));
    };
    const timer = setTimeout(
      () => fail(`no answer to CONNECT ${authority} in ${options.timeoutMs ?? 10_000} ms`),
      options.timeoutMs ?? 10_000,
    );
    const onError = (error: Error) => fail(error.message);
    const onClose = () => fail(`closed the connection before answering CONNECT ${authority}`);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) fail("its answer to CONNECT has no end");
        return;
      }
      const status = /^HTTP\/1\.[01] (\d{3})([^\r\n]*)/.exec(
        head.subarray(0, end).toString("latin1"),
      );
      if (!status) return fail(`its answer to CONNECT ${authority} is not HTTP`);
      if (!status[1]!.startsWith("2")) {
        return fail(`CONNECT ${authority} answered ${status[1]}${status[2]!.trimEnd()}`);
      }
      // The target speaks only after our TLS ClientHello: nothing may follow the head yet.
      if (head.length > end + 4) return fail("it sent data before the tunnel was used");
      cleanup();
      resolve(socket);
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("data", onData).off("error", onError).off("close", onClose);
      socket.pause();
    };
    socket.on("data", onData).on("error", onError).on("close", onClose);
    socket.once("connect", () => {
      socket.setNoDelay(true);
      socket.write(connectRequest(proxy, authority));
    });
  });
}

/** The CONNECT request head (RFC 9110 §9.3.6; credentials as RFC 7617 Basic). */
export function connectRequest(proxy: EgressProxy, authority: string): string {
  return [
    `CONNECT ${authority} HTTP/1.1`,
    `Host: ${authority}`,
    ...(proxy.authorization ? [`Proxy-Authorization: ${proxy.authorization}`] : []),
    "",
    "",
  ].join("\r\n");
}
