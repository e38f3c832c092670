/** Writing kubeconfig files (pure): one context per cluster, credentials inlined. */
import { stringify } from "yaml";
import { encodeBase64 } from "./_base64.ts";

/** One cluster to put in a kubeconfig, with the identity to use there. */
export interface KubeconfigEntry {
  /** Used as the cluster, user and context name. */
  name: string;
  server: string;
  caPem?: string;
  tlsServerName?: string;
  user:
    | { token: string }
    | { tokenFile: string }
    | { certPem: string; keyPem: string }
    | { exec: Record<string, unknown> };
  namespace?: string;
}

/** Renders a kubeconfig with a context per entry; the first entry is current unless told otherwise. */
export function renderKubeconfig(entries: KubeconfigEntry[], currentContext?: string): string {
  const config = {
    apiVersion: "v1",
    kind: "Config",
    "current-context": currentContext ?? entries[0]?.name ?? "",
    clusters: entries.map((entry) => ({
      name: entry.name,
      cluster: {
        server: entry.server,
        ...(entry.caPem ? { "certificate-authority-data": encodeBase64(entry.caPem) } : {}),
        ...(entry.tlsServerName ? { "tls-server-name": entry.tlsServerName } : {}),
      },
    })),
    users: entries.map((entry) => ({ name: entry.name, user: userFields(entry.user) })),
    contexts: entries.map((entry) => ({
      name: entry.name,
      context: {
        cluster: entry.name,
        user: entry.name,
        ...(entry.namespace ? { namespace: entry.namespace } : {}),
      },
    })),
  };
  return stringify(config, { lineWidth: 0 });
}

function userFields(user: KubeconfigEntry["user"]): Record<string, unknown> {
  if ("token" in user) return { token: user.token };
  if ("tokenFile" in user) return { tokenFile: user.tokenFile };
  if ("exec" in user) return { exec: user.exec };
  return {
    "client-certificate-data": encodeBase64(user.certPem),
    "client-key-data": encodeBase64(user.keyPem),
  };
}
