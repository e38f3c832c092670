/**
 * The kubeconfig v1 format as client-go reads it (k8s.io/client-go/tools/clientcmd/api/v1),
 * after parsing: `*-data` fields are decoded to text, relative paths made absolute, and every
 * named entry remembers the file it came from so that errors can name it.
 */

/** A cluster entry. */
export interface KubeconfigCluster {
  server?: string;
  "tls-server-name"?: string;
  "insecure-skip-tls-verify"?: boolean;
  "certificate-authority"?: string;
  /** Decoded PEM. */
  "certificate-authority-data"?: string;
  "proxy-url"?: string;
  "disable-compression"?: boolean;
  extensions?: NamedExtension[];
}

/** A user (AuthInfo) entry. */
export interface KubeconfigUser {
  "client-certificate"?: string;
  /** Decoded PEM. */
  "client-certificate-data"?: string;
  "client-key"?: string;
  /** Decoded PEM. */
  "client-key-data"?: string;
  token?: string;
  tokenFile?: string;
  as?: string;
  "as-uid"?: string;
  "as-groups"?: string[];
  "as-user-extra"?: Record<string, string[]>;
  username?: string;
  password?: string;
  "auth-provider"?: { name?: string; config?: Record<string, string> };
  exec?: ExecConfig;
}

/** An exec credential plugin (client.authentication.k8s.io). */
export interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  apiVersion: string;
  installHint?: string;
  provideClusterInfo?: boolean;
  interactiveMode?: "Never" | "IfAvailable" | "Always";
}

/** A context entry. */
export interface KubeconfigContext {
  cluster?: string;
  user?: string;
  namespace?: string;
}

/** A named extension (opaque object). */
export interface NamedExtension {
  name: string;
  extension: unknown;
}

/** An entry of a named list with the file it came from. */
export interface Named<T> {
  name: string;
  value: T;
  /** Absolute path of the kubeconfig file that defined it. */
  file: string;
}

/** One parsed kubeconfig file, or several merged by kubectl's rules. */
export interface Kubeconfig {
  clusters: Named<KubeconfigCluster>[];
  users: Named<KubeconfigUser>[];
  contexts: Named<KubeconfigContext>[];
  "current-context"?: string;
  /** The file that set current-context, for error messages. */
  currentContextFile?: string;
  /** Every file that was read, in order. */
  files: string[];
}
