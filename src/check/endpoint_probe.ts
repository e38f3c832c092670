/**
 * Dials an HTTPS endpoint the way its real clients do (the API server for the webhook, agents for
 * the hub): the served chain is checked against a given bundle for a given name, and a GET is
 * sent whatever the verdict, so that one connection tells both "trusted?" and "ready?".
 */
import { request } from "node:https";
import type { TLSSocket } from "node:tls";
import { readCertificate } from "../pki/mod.ts";
import type { EndpointProbe } from "./check_facts.ts";

/** Where to dial and what to trust. */
export interface EndpointProbeSpec {
  host: string;
  port: number;
  /** The name the certificate must cover (SNI and verification). */
  serverName: string;
  /** PEM bundle the chain must verify with. */
  caPem: string;
  path: string;
  timeoutMs?: number;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Dials and reports; never throws. */
export function probeEndpoint(spec: EndpointProbeSpec): Promise<EndpointProbe> {
  const address = `${spec.host.includes(":") ? `[${spec.host}]` : spec.host}:${spec.port}`;
  const isIp = IPV4.test(spec.serverName) || spec.serverName.includes(":");
  return new Promise((resolve) => {
    const req = request({
      host: spec.host,
      port: spec.port,
      path: spec.path,
      method: "GET",
      ca: spec.caPem,
      // SNI carries names only; an IP is still checked against the certificate's IP SANs.
      ...(isIp ? {} : { servername: spec.serverName }),
      // The verdict is read from the socket below: refusing here would hide the readiness.
      rejectUnauthorized: false,
      agent: false,
      timeout: spec.timeoutMs ?? 5_000,
    }, (res) => {
      const socket = res.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      const trusted = socket.authorized === true;
      const error = socket.authorizationError;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => body = (body + chunk).slice(0, 4096));
      res.on("end", () => {
        try {
          const certificate = readCertificate(new Uint8Array(peer.raw));
          resolve({
            reached: true,
            address,
            serverName: spec.serverName,
            trusted,
            ...(trusted ? {} : { trustError: String(error ?? "untrusted") }),
            certificate: {
              subject: certificate.subject,
              notBefore: certificate.notBefore,
              notAfter: certificate.notAfter,
            },
            answer: { status: res.statusCode ?? 0, body },
          });
        } catch (failure) {
          resolve({ reached: false, address, reason: (failure as Error).message });
        }
      });
    });
    req.on(
      "timeout",
      () => req.destroy(new Error(`no answer within ${spec.timeoutMs ?? 5_000} ms`)),
    );
    req.on("error", (error) => resolve({ reached: false, address, reason: error.message }));
    req.end();
  });
}
