/**
 * The proxy's identity towards the apps of its pod: the per-pod token they present and the CA
 * they trust. Kept across restarts of the sidecar's container in a folder that only the
 * sidecar mounts: the CA's private key must never reach an app, which could mint certificates
 * its own pod trusts.
 */
import {
  type CertificateAuthority,
  createCertificateAuthority,
  loadCertificateAuthority,
} from "../pki/mod.ts";
import { randomToken } from "./app_credentials.ts";

/** The token and CA the app trusts; the same after a restart of the sidecar. */
export interface ProxyIdentity {
  token: string;
  ca: CertificateAuthority;
  /** True when an earlier run's identity was found and kept. */
  reused: boolean;
}

const STATE_FILE = "identity.json";

/**
 * Keeps the token and CA of an earlier run in the same pod (the state folder, an emptyDir,
 * outlives a container restart): the app loaded that CA once and will not reload it, so a new
 * one would break it. Without a state folder the identity lives in memory only. The file is
 * readable by the proxy's user only.
 */
export async function loadOrCreateProxyIdentity(
  stateDir: string | undefined,
): Promise<ProxyIdentity> {
  const path = stateDir ? `${stateDir}/${STATE_FILE}` : undefined;
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
  if (path && stateDir) {
    await Deno.mkdir(stateDir, { recursive: true, mode: 0o700 });
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
