/** The hub's public listener TLS settings, kept in one place as certificates and CAs change. */
import type tls from "node:tls";
import type { Http1Server } from "../http1/mod.ts";
import type { IssuedCertificate } from "../pki/mod.ts";

/**
 * The public listener's TLS: the serving certificate and, with the aggregated entrance, the
 * front proxy's CA. Then the listener asks for a client certificate but never requires one
 * (agents, users and sidecars have none); the handler decides what a verified one is worth.
 */
export class PublicTls {
  #server: Http1Server | undefined;
  #frontProxyCa: string | undefined;

  constructor(private serving: IssuedCertificate, readonly asksForCertificate: boolean) {}

  /** The options the listener starts with. */
  options(): tls.TlsOptions {
    return {
      ...this.#context(),
      ...(this.asksForCertificate ? { requestCert: true, rejectUnauthorized: false } : {}),
    };
  }

  attach(server: Http1Server): void {
    this.#server = server;
    if (this.#frontProxyCa) server.setSecureContext(this.#context());
  }

  setServing(serving: IssuedCertificate): void {
    this.serving = serving;
    this.#server?.setSecureContext(this.#context());
  }

  setFrontProxyCa(caPem: string): void {
    this.#frontProxyCa = caPem;
    this.#server?.setSecureContext(this.#context());
  }

  #context(): tls.SecureContextOptions {
    return {
      cert: this.serving.certificatePem,
      key: this.serving.privateKeyPem,
      ...(this.#frontProxyCa ? { ca: this.#frontProxyCa } : {}),
    };
  }
}
