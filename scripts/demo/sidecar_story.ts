/** The sidecar's routing decisions (its debug log, JSON lines) told in plain words. Pure. */

interface DecisionLine {
  msg?: string;
  verb?: string;
  path?: string;
  name?: string;
  cluster?: string;
  clusters?: string[];
  reason?: string;
  code?: number;
}

/**
 * One sentence per ConfigMap request the app made: what, where, why, and the path it took.
 * `viaHub` are the clusters reached through the hub, whose agents act as `user` there.
 */
export function requestsFromSidecarLog(
  log: string,
  context: { viaHub: string[]; user: string },
): string[] {
  const sentences: string[] = [];
  for (const text of log.split("\n")) {
    let line: DecisionLine;
    try {
      line = JSON.parse(text);
    } catch {
      continue; // not a JSON line (a runtime warning, say)
    }
    if (!line.path?.includes("/configmaps") || !line.verb) continue;
    const what = `${line.verb.toUpperCase()} ${describePath(line.path, line.name)}`;
    if (line.msg === "merged read" && line.clusters) {
      sentences.push(
        `${what}: merged from ${line.clusters.join(", ")} (${line.reason}); ` +
          `each item annotated mca.k8s.io/cluster`,
      );
    } else if (line.msg === "request" && line.cluster) {
      const path = context.viaHub.includes(line.cluster)
        ? `app → sidecar → hub → ${line.cluster}'s agent → ${line.cluster}, as ${context.user}`
        : `app → sidecar → ${line.cluster}, with the pod's own token`;
      sentences.push(
        `${what} → ${line.cluster} (${line.reason}), HTTP ${line.code}\n      ${path}`,
      );
    }
  }
  return sentences;
}

// "/api/v1/namespaces/shop/configmaps/order-1001" → "ConfigMap shop/order-1001"
function describePath(path: string, bodyName?: string): string {
  const match = /\/namespaces\/([^/]+)\/configmaps(?:\/([^/]+))?$/.exec(path);
  if (!match) return path;
  const name = match[2] ?? bodyName;
  return name ? `ConfigMap ${match[1]}/${name}` : `ConfigMaps in ${match[1]}`;
}
