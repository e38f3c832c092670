/**
 * A fetch over node:https, used only where Deno's fetch cannot do what kubeconfig asks:
 * `tls-server-name` (Deno.HttpClient has no server-name option) and an explicit
 * `insecure-skip-tls-verify` (Deno.HttpClient cannot switch verification off per client).
 */
import { once } from "node:events";
import https from "node:https";
import { Readable } from "node:stream";

/** TLS options for the node client. */
export interface NodeTlsOptions {
  caPem?: string;
  certPem?: string;
  keyPem?: string;
  serverName?: string;
  insecureSkipVerify: boolean;
}

/** Sends one request with node:https and returns a streaming web Response. */
export function nodeFetch(url: URL, init: RequestInit, tls: NodeTlsOptions): Promise<Response> {
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, key) => headers[key] = value);
  return new Promise((resolve, reject) => {
    const request = https.request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port || 443,
      path: url.pathname + url.search,
      method: init.method ?? "GET",
      headers,
      ...(tls.caPem ? { ca: tls.caPem } : {}),
      ...(tls.certPem && tls.keyPem ? { cert: tls.certPem, key: tls.keyPem } : {}),
      ...(tls.serverName ? { servername: tls.serverName } : {}),
      // Only reached from an explicit insecure-skip-tls-verify in the user's kubeconfig.
      rejectUnauthorized: !tls.insecureSkipVerify,
      agent: false,
    }, (response) => {
      const responseHeaders = new Headers();
      const raw = response.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i]!, raw[i + 1]!);
      const status = response.statusCode ?? 502;
      const noBody = status === 204 || status === 304 || init.method === "HEAD";
      const body = noBody
        ? null
        : (Readable.toWeb(response) as unknown as ReadableStream<Uint8Array>);
      resolve(
        new Response(body, {
          status,
          statusText: response.statusMessage ?? "",
          headers: responseHeaders,
        }),
      );
    });
    request.on("error", reject);
    init.signal?.addEventListener(
      "abort",
      () => request.destroy(new DOMException("Aborted", "AbortError")),
    );
    sendBody(request, init.body).catch((error) => request.destroy(error));
  });
}

async function sendBody(
  request: ReturnType<typeof https.request>,
  body: RequestInit["body"],
): Promise<void> {
  if (body === undefined || body === null) {
    request.end();
    return;
  }
  if (typeof body === "string" || body instanceof Uint8Array) {
    request.end(body);
    return;
  }
  if (body instanceof ReadableStream) {
    for await (const chunk of body as ReadableStream<Uint8Array>) {
      if (!request.write(chunk)) await once(request, "drain");
    }
    request.end();
    return;
  }
  request.end(new Uint8Array(await new Response(body).arrayBuffer()));
}
