/** The files the proxy hands to the app containers: its CA, the pod's namespace, and a per-pod token. */
import { toHex } from "../bytes.ts";

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
