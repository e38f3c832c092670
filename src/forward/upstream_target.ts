/**
 * Where an upstream sends its requests, apart from how that was configured: a kubeconfig's
 * cluster (see kube_target.ts), or a hub replica reached with the hub's own certificates.
 */
import type { CredentialProvider, TlsSettings } from "../kube/mod.ts";

/** A fetch for answers read whole (merged lists), opened on first use. */
export interface WholeReader {
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): void;
}

/** One server an upstream reaches. */
export interface UpstreamTarget {
  /** The server's URL; a path in it prefixes every request's path. */
  server: string;
  /** Trust, SNI name, and a client key pair used when the credentials carry none. */
  tls: TlsSettings;
  /** Current credentials, told when the server refused them (401). */
  credentials: CredentialProvider;
  /** Headers sent with every request (a configured impersonation), lowercase names. */
  headers?: Record<string, string | string[]>;
  /**
   * Whether the caller's `Impersonate-*` headers go on to this server (the pod's own cluster, the
   * hub, a kubeconfig cluster that opts in, the agent's member); otherwise they are dropped.
   */
  passImpersonation?: boolean;
  /** Opens the fetch for whole reads; a target without one serves no whole reads. */
  openReader?: () => WholeReader;
}
