/**
 * What `mca agent uninstall` may delete on the host, and how it tells that install (or the hub's
 * join, with install's field manager) made it: the Cluster, the agent token's hash Secret, and
 * the cluster's join tokens.
 */
import type { KubeClient, KubeObject } from "../kube/mod.ts";
import type { UninstallAgentOptions } from "./uninstall_agent.ts";
import { AGENT_TOKEN_LABEL, agentTokenSecretName } from "./agent_tokens.ts";
import { JOIN_TOKEN_LABEL, joinTokenSecretNames } from "./join_tokens.ts";
import { FIELD_MANAGER } from "./install_agent.ts";

/** An object install may have created, and how to tell that it did. */
export interface Target {
  /** "Deployment mca-agent/mca-agent on the member". */
  description: string;
  path: string;
  /** Why this object is not install's to delete; undefined when it is. */
  notOurs: (object: KubeObject) => Promise<string | undefined> | string | undefined;
  /** What uninstall still takes back from an object it keeps. */
  release?: (object: KubeObject, options: UninstallAgentOptions) => Promise<void>;
}

/** The Cluster object (install's if its field manager wrote it) and the token hash Secret. */
export function hostTargets(options: UninstallAgentOptions): Target[] {
  const { cluster, hubNamespace } = options;
  const secret = agentTokenSecretName(cluster);
  return [
    {
      description: `Cluster ${cluster} on the host`,
      path: `/apis/mca.k8s.io/v1alpha1/clusters/${encodeURIComponent(cluster)}`,
      notOurs: (object) =>
        managers(object).includes(FIELD_MANAGER)
          ? undefined
          : "mca agent install did not register it",
    },
    {
      description: `Secret ${hubNamespace}/${secret} on the host`,
      path: `/api/v1/namespaces/${encodeURIComponent(hubNamespace)}/secrets/${
        encodeURIComponent(secret)
      }`,
      notOurs: (object) =>
        object.metadata?.labels?.[AGENT_TOKEN_LABEL] === "true"
          ? undefined
          : `it lacks the label ${AGENT_TOKEN_LABEL}`,
    },
  ];
}

/** The cluster's join tokens (`mca agent token create`), used or not: nothing of it may stay. */
export async function joinTokenTargets(host: KubeClient, options: UninstallAgentOptions) {
  const namespace = options.hubNamespace;
  const names = await joinTokenSecretNames(host, namespace, options.cluster);
  return names.map((name): Target => ({
    description: `Secret ${namespace}/${name} on the host`,
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
    notOurs: (object) =>
      object.metadata?.labels?.[JOIN_TOKEN_LABEL] === "true"
        ? undefined
        : `it lacks the label ${JOIN_TOKEN_LABEL}`,
  }));
}

/** The field managers that wrote an object. */
export function managers(object: KubeObject): string[] {
  const fields = (object.metadata?.managedFields ?? []) as { manager?: string }[];
  return [...new Set(fields.map((entry) => entry.manager ?? "?"))];
}
