/** The files the proxy hands to the app containers: its CA, the pod's namespace, and a per-pod token. */
import { toHex } from "../bytes.ts";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  loadCertificateAuthority,
} from "../pki/mod.ts";

/** What the app containers find in /var/run/secrets/kubernetes.io/serviceaccount. */
export interface AppCredentials {
  caPem: string;
  namespace: string;
  token: string;
}

/** A random token for this pod: 32 bytes, hex. */
export function randomToken(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** Writes the three files, each atomically (temp file + rename), so that an app never reads half a file. */
export async function writeAppCredentials(dir: string, credentials: AppCredentials): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    ["ca.crt", credentials.caPem],
    ["namespace", credentials.namespace],
    ["token", credentials.token],
  ];
  for (const [name, content] of files) {
    const temp = `${dir}/.${name}.tmp`;
    // Readable by the app containers, which may run as other users than the proxy.
    await Deno.writeTextFile(temp, content, { mode: 0o644 });
    await Deno.rename(temp, `${dir}/${name}`);
  }
}

/** The token and CA the app trusts; the same after a restart of the sidecar. */
export interface AppIdentity {
  token: string;
  ca: CertificateAuthority;
  /** True when an earlier run's identity was found and kept. */
  reused: boolean;
}

const STATE_FILE = ".mca-proxy-state.json";

/**
 * Keeps the token and CA of an earlier run in the same pod (the folder outlives a container
 * restart): the app loaded that CA once and will not reload it, so a new one would break it.
 * The state file is readable by the proxy's user only.
 */
export async function loadOrCreateAppIdentity(dir: string | undefined): Promise<AppIdentity> {
  const path = dir ? `${dir}/${STATE_FILE}` : undefined;
  if (path) {
    try {
      const state = JSON.parse(await Deno.readTextFile(path)) as Record<string, unknown>;
      if (typeof state.token === "string" && state.token.length >= 32) {
        const ca = await loadCertificateAuthority(String(state.caPem), String(state.caKeyPem));
        return { token: state.token, ca, reused: true };
      }
    } catch {
      // Nothing usable from before: start afresh.
    }
  }
  const token = randomToken();
  const ca = await createCertificateAuthority({ commonName: "mca-proxy-ca", validityDays: 3650 });
  if (path && dir) {
    await Deno.mkdir(dir, { recursive: true });
    const temp = `${path}.tmp`;
    await Deno.writeTextFile(
      temp,
      JSON.stringify({ token, caPem: ca.certificatePem, caKeyPem: ca.privateKeyPem }),
      { mode: 0o600 },
    );
    await Deno.rename(temp, path);
  }
  return { token, ca, reused: false };
}
