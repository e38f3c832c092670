/**
 * A local HTTPS server that records what it receives: the stand-in API server for the
 * foundation tests (real TLS, optional client-certificate checks). Real API servers come
 * from tests/_utils/testenv.
 */
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { concatBytes } from "../../src/bytes.ts";
import type { TestPki } from "./test_pki.ts";

/** One request as the server saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Subject CN of a verified client certificate. */
  clientCommonName?: string;
  /** The TLS server name (SNI) the client asked for. */
  serverName?: string;
}

/** Decides the answer to a recorded request; default 200 `{}`. */
export type RecorderHandler = (
  request: RecordedRequest,
) => { status?: number; body?: string | string[]; headers?: Record<string, string> };

/** A running recorder. */
export interface HttpsRecorder {
  url: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts the recorder on 127.0.0.1 with the PKI's server certificate; client certificates are checked against its CA. */
export async function startHttpsRecorder(
  pki: TestPki,
  handler: RecorderHandler = () => ({}),
): Promise<HttpsRecorder> {
  const requests: RecordedRequest[] = [];
  const server = https.createServer({
    cert: pki.server.certificatePem,
    key: pki.server.privateKeyPem,
    ca: [pki.ca.certificatePem],
    requestCert: true,
    // Verified below: unauthenticated clients still get an answer, as from an API server.
    rejectUnauthorized: false,
  }, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    req.on("end", () => {
      const socket = req.socket as unknown as {
        authorized?: boolean;
        getPeerCertificate(): { subject?: { CN?: string } };
        servername?: string;
      };
      const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: new TextDecoder().decode(concatBytes(chunks)),
        ...(peer?.subject?.CN ? { clientCommonName: peer.subject.CN } : {}),
        ...(socket.servername ? { serverName: socket.servername } : {}),
      };
      requests.push(recorded);
      const answer = handler(recorded);
      res.writeHead(answer.status ?? 200, {
        "Content-Type": "application/json",
        ...answer.headers,
      });
      const parts = Array.isArray(answer.body) ? answer.body : [answer.body ?? "{}"];
      for (const part of parts) res.write(part);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
