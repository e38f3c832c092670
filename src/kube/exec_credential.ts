/** The ExecCredential exchange with credential plugins (client.authentication.k8s.io), pure parts. */
import type { ExecClusterInfo } from "./client_config.ts";

/** What a plugin returned, checked. */
export interface ExecCredentialStatus {
  token?: string;
  certPem?: string;
  keyPem?: string;
  /** When to run the plugin again; absent means until the server refuses the credential. */
  expiresAt?: Date;
}

/** The KUBERNETES_EXEC_INFO value given to the plugin. */
export function execCredentialRequest(
  apiVersion: string,
  options: { interactive: boolean; cluster?: ExecClusterInfo },
): string {
  return JSON.stringify({
    apiVersion,
    kind: "ExecCredential",
    spec: {
      interactive: options.interactive,
      ...(options.cluster ? { cluster: options.cluster } : {}),
    },
  });
}

/** Parses and checks a plugin's stdout; throws a message that says what is wrong with it. */
export function parseExecCredential(stdout: string, apiVersion: string): ExecCredentialStatus {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    throw new Error("its output is not a JSON ExecCredential");
  }
  const credential = (typeof value === "object" && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  if (credential.kind !== "ExecCredential") {
    throw new Error(`its output has kind "${credential.kind}", not ExecCredential`);
  }
  if (credential.apiVersion !== apiVersion) {
    throw new Error(
      `its output has apiVersion "${credential.apiVersion}", but the kubeconfig asks for "${apiVersion}"`,
    );
  }
  const status = credential.status as Record<string, unknown> | undefined;
  if (typeof status !== "object" || status === null) throw new Error("its output has no status");
  const token = stringField(status, "token");
  const certPem = stringField(status, "clientCertificateData");
  const keyPem = stringField(status, "clientKeyData");
  if ((certPem === undefined) !== (keyPem === undefined)) {
    throw new Error("its output must set both clientCertificateData and clientKeyData, or neither");
  }
  if (token === undefined && certPem === undefined) {
    throw new Error("its output has neither status.token nor status.clientCertificateData");
  }
  const expiration = stringField(status, "expirationTimestamp");
  const expiresAt = expiration === undefined ? undefined : new Date(expiration);
  if (expiresAt && Number.isNaN(expiresAt.getTime())) {
    throw new Error(`its output has an invalid status.expirationTimestamp "${expiration}"`);
  }
  return {
    ...(token !== undefined ? { token } : {}),
    ...(certPem !== undefined && keyPem !== undefined ? { certPem, keyPem } : {}),
    ...(expiresAt ? { expiresAt } : {}),
  };
}

function stringField(status: Record<string, unknown>, name: string): string | undefined {
  const value = status[name];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw new Error(`its output has a non-string status.${name}`);
  return value;
}
