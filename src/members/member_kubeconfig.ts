/** `mca kubeconfig`: a context per member cluster, each reaching it through the hub (pure). */
import { type KubeconfigEntry, type KubeconfigUser, renderKubeconfig } from "../kube/mod.ts";

/** The caller's credentials the hub can check: bearer tokens only (TokenReview). */
export type HubUser = KubeconfigEntry["user"];

/** Picks the bearer credentials of a kubeconfig user; client certificates cannot pass the hub. */
export function hubUserOf(user: KubeconfigUser, userName: string): HubUser {
  if (user.exec) {
    const exec = user.exec;
    return {
      exec: {
        apiVersion: exec.apiVersion,
        command: exec.command,
        ...(exec.args ? { args: exec.args } : {}),
        ...(exec.env ? { env: exec.env } : {}),
        ...(exec.installHint ? { installHint: exec.installHint } : {}),
        interactiveMode: exec.interactiveMode ?? "IfAvailable",
        // The hub is not the cluster the plugin knows: it must not be told otherwise.
        provideClusterInfo: false,
      },
    };
  }
  if (user.tokenFile) return { tokenFile: user.tokenFile };
  if (user.token) return { token: user.token };
  throw new Error(
    `User "${userName}" has no bearer token: the hub authenticates tokens with TokenReview, so client ` +
      `certificates do not pass. Use a token (for example "kubectl create token"), a tokenFile or an exec plugin`,
  );
}

/** Renders the kubeconfig: context and cluster "<prefix><name>" at <hub>/clusters/<name>. */
export function memberKubeconfig(options: {
  hubUrl: string;
  caPem: string;
  clusters: string[];
  user: HubUser;
  prefix?: string;
}): string {
  const base = options.hubUrl.replace(/\/+$/, "");
  return renderKubeconfig(options.clusters.map((cluster) => ({
    name: `${options.prefix ?? ""}${cluster}`,
    server: `${base}/clusters/${cluster}`,
    caPem: options.caPem,
    user: options.user,
  })));
}
