/**
 * Who calls through the aggregated entrance: the host API server's front proxy proves itself with
 * a client certificate of the request-header CA (verified by the TLS listener, whose CA this
 * follows) and names the caller in request headers. The settings are followed from
 * `kube-system/extension-apiserver-authentication`, so a rotated front-proxy CA takes effect.
 */
import { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import type { KubeClient } from "../kube/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { HubRequest } from "./hub_handler.ts";
import {
  isAllowedFrontProxyName,
  parseRequestHeaderConfig,
  REQUEST_HEADER_CONFIGMAP,
  type RequestHeaderConfig,
  userFromRequestHeaders,
} from "./request_header.ts";
import type { UserInfo } from "./user_access.ts";

/** The outcome of authenticating the front proxy and reading its caller. */
export type FrontProxyCaller =
  | { kind: "user"; user: UserInfo }
  | { kind: "refuse"; code: 401; message: string };

/** The front proxy's settings as last read, and the check of one request against them. */
export class FrontProxyAuthenticator {
  #config: RequestHeaderConfig | undefined;
  #cas: X509Certificate[] = [];
  /** Per connection: the CA bundle its certificate was checked against, and the outcome. */
  #checked = new WeakMap<TLSSocket, { cas: X509Certificate[]; signed: boolean }>();

  /** The settings in use; undefined until read (the aggregated entrance refuses every request). */
  config(): RequestHeaderConfig | undefined {
    return this.#config;
  }

  /** Puts new settings in use. */
  update(config: RequestHeaderConfig): void {
    this.#cas = pemBlocks(config.caPem).map((pem) => new X509Certificate(pem));
    this.#config = config;
  }

  /**
   * The caller named by a front proxy whose certificate the listener verified against the
   * request-header CA and whose common name is allowed; a 401 otherwise.
   */
  authenticate(req: HubRequest): FrontProxyCaller {
    const config = this.#config;
    if (!config) {
      return refuse("the hub has not read the host's front-proxy settings yet (see its log)");
    }
    const socket = req.socket as TLSSocket;
    // The listener verified the chain when the connection opened; the issuer is checked again
    // against the CA in use now, so a connection made before a CA rotation (or before the
    // settings were read) proves nothing.
    if (socket.authorized !== true || !this.#signedByCurrentCa(socket)) {
      return refuse("this entrance takes requests only from the host API server's front proxy");
    }
    const subject = socket.getPeerCertificate()?.subject?.CN;
    // A name with several common names is not a front proxy's.
    const commonName = typeof subject === "string" ? subject : undefined;
    if (!isAllowedFrontProxyName(commonName, config.allowedNames)) {
      return refuse(`the client certificate "${commonName}" is not an allowed front proxy`);
    }
    const user = userFromRequestHeaders(req.rawHeaders, config);
    if (!user) return refuse("the front proxy named no user");
    return { kind: "user", user };
  }

  #signedByCurrentCa(socket: TLSSocket): boolean {
    const cached = this.#checked.get(socket);
    if (cached && cached.cas === this.#cas) return cached.signed;
    const raw = socket.getPeerCertificate()?.raw;
    let signed = false;
    if (raw) {
      const leaf = new X509Certificate(raw);
      signed = this.#cas.some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
    }
    this.#checked.set(socket, { cas: this.#cas, signed });
    return signed;
  }
}

/** The PEM certificates of a bundle. */
function pemBlocks(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function refuse(detail: string): FrontProxyCaller {
  return { kind: "refuse", code: 401, message: `Unauthorized: ${detail}` };
}

/**
 * Follows the ConfigMap until aborted: every valid version goes to `onConfig` (which also hands
 * the CA to the listener); an invalid one is logged and the previous settings stay.
 */
export async function followRequestHeaderConfig(
  client: KubeClient,
  options: {
    onConfig: (config: RequestHeaderConfig) => void;
    logger: Logger;
    signal: AbortSignal;
  },
): Promise<void> {
  const { namespace, name } = REQUEST_HEADER_CONFIGMAP;
  const path = `/api/v1/namespaces/${namespace}/configmaps`;
  const fieldSelector = `metadata.name=${name}`;
  let applied = "";
  const apply = (data: Record<string, string> | undefined) => {
    const config = parseRequestHeaderConfig(data);
    if (config instanceof Error) return options.logger.warn(config.message);
    const text = JSON.stringify(config);
    if (text === applied) return;
    applied = text;
    options.onConfig(config);
    options.logger.info("front-proxy settings read", {
      configMap: `${namespace}/${name}`,
      allowedNames: config.allowedNames,
    });
  };
  while (!options.signal.aborted) {
    try {
      const list = await client.list<{ data?: Record<string, string> }>(path, { fieldSelector });
      for (const item of list.items) apply(item.data);
      for await (
        const event of client.watch<{ data?: Record<string, string> }>(path, {
          fieldSelector,
          ...(list.metadata.resourceVersion
            ? { resourceVersion: list.metadata.resourceVersion }
            : {}),
          timeoutSeconds: 300,
          signal: options.signal,
        })
      ) {
        if (event.type === "ADDED" || event.type === "MODIFIED") apply(event.object.data);
      }
    } catch (error) {
      if (options.signal.aborted) return;
      options.logger.warn("cannot read the host's front-proxy settings; retrying", {
        configMap: `${namespace}/${name}`,
        error: (error as Error).message,
      });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5_000);
        options.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  }
}
