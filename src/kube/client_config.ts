/** A resolved client configuration: everything needed to talk to one API server. */
import type { ExecConfig } from "./kubeconfig_types.ts";

/** TLS settings; PEM contents, already read from files. */
export interface TlsSettings {
  /** Trusted CA bundle; absent means the system roots. */
  caPem?: string;
  /** Client certificate and key for mutual TLS. */
  certPem?: string;
  keyPem?: string;
  /** Name checked against the server certificate instead of the URL's host. */
  serverName?: string;
  /** Skips server verification; only ever set from an explicit user setting. */
  insecureSkipVerify: boolean;
}

/** The cluster facts an exec plugin receives with provideClusterInfo (ExecCredential spec.cluster). */
export interface ExecClusterInfo {
  server: string;
  "tls-server-name"?: string;
  "insecure-skip-tls-verify"?: boolean;
  /** Base64 of the CA bundle, as in kubeconfig. */
  "certificate-authority-data"?: string;
  "proxy-url"?: string;
  "disable-compression"?: boolean;
  config?: unknown;
}

/** Where bearer or basic credentials come from. */
export type CredentialSettings =
  | { type: "none" }
  | { type: "token"; token: string }
  /** Re-read as it rotates; `token` is used until the file gives one. */
  | { type: "tokenFile"; path: string; token?: string }
  | { type: "basic"; username: string; password: string }
  | { type: "exec"; exec: ExecConfig; cluster?: ExecClusterInfo };

/** Impersonation headers to send (kubeconfig `as`, `as-uid`, `as-groups`, `as-user-extra`). */
export interface Impersonation {
  user: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** Everything needed to reach one API server as one identity. */
export interface ClientConfig {
  /** Base URL without a trailing slash; may carry a path prefix. */
  server: string;
  tls: TlsSettings;
  proxyUrl?: string;
  disableCompression: boolean;
  credentials: CredentialSettings;
  impersonate?: Impersonation;
  /** The namespace of the context, or of the pod in cluster; "default" otherwise. */
  namespace: string;
  /** Where this came from, for messages: `context "east" in "/home/me/.kube/config"` or `in-cluster`. */
  source: string;
}
