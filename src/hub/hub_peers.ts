/**
 * The hub's side of its replicas: upstreams to the other replicas, presenting this replica's
 * client certificate of the shared CA, and the check that a request came from a replica.
 */
import type { TLSSocket } from "node:tls";
import { createTargetUpstream, type Upstream } from "../forward/mod.ts";
import { staticCredentials } from "../kube/mod.ts";
import type { IssuedCertificate } from "../pki/mod.ts";
import type { HubRequest } from "./hub_handler.ts";

/** Common name of the client certificate hub replicas present to each other. */
export const PEER_COMMON_NAME = "mca-hub-peer";

/** True when the request came over mutual TLS with a replica's client certificate. */
export function isPeerRequest(req: HubRequest): boolean {
  const socket = req.socket as TLSSocket;
  return socket.authorized === true &&
    socket.getPeerCertificate()?.subject?.CN === PEER_COMMON_NAME;
}

/** One upstream per peer replica, kept until this replica's client certificate is renewed. */
export class PeerUpstreams {
  #peers = new Map<string, Upstream>();
  #retired: Upstream[] = [];

  constructor(private caPem: string, private certificate: IssuedCertificate) {}

  /** The upstream to a replica, reached at its peer URL with mutual TLS. */
  upstreamFor(peerUrl: string): Upstream {
    let upstream = this.#peers.get(peerUrl);
    if (!upstream) {
      upstream = createTargetUpstream(`hub replica ${peerUrl}`, {
        server: peerUrl,
        tls: {
          caPem: this.caPem,
          certPem: this.certificate.certificatePem,
          keyPem: this.certificate.privateKeyPem,
          insecureSkipVerify: false,
        },
        credentials: staticCredentials({}),
      });
      this.#peers.set(peerUrl, upstream);
    }
    return upstream;
  }

  /**
   * Upstreams hold the old client certificate: they are dropped so that new requests connect
   * with the new one. Closing one cuts its requests under way (a forwarded watch), so the
   * dropped ones are closed only at the next renewal, when their certificate has ended anyway.
   */
  renew(certificate: IssuedCertificate, caPem: string = this.caPem): void {
    this.certificate = certificate;
    // A hub CA rollover changes the CAs replicas trust each other by.
    this.caPem = caPem;
    for (const upstream of this.#retired) upstream.close();
    this.#retired = [...this.#peers.values()];
    this.#peers.clear();
  }

  close(): void {
    for (const peer of [...this.#peers.values(), ...this.#retired]) peer.close();
  }
}
