/** `mca proxy explain`: which rule and cluster a described request would use, without sending it (pure). */
import { bodyMetadata } from "./body_metadata.ts";
import type { ProxyConfig } from "./proxy_config.ts";
import { parseRequestInfo } from "./request_info.ts";
import { decideRoute } from "./route.ts";

/** A request described on the command line. */
export interface ExplainRequest {
  method: string;
  /** Path with optional query, e.g. /api/v1/namespaces/shop/configmaps?watch=1 */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  contentType?: string;
}

/** Explains the routing decision in a few plain lines. */
export function explainRoute(config: ProxyConfig, request: ExplainRequest): string {
  const url = new URL(request.path, "https://explain.invalid");
  const info = parseRequestInfo(request.method, url.pathname, url.search);
  const body = request.body
    ? bodyMetadata(new TextEncoder().encode(request.body), request.contentType)
    : undefined;
  const headers = Object.fromEntries(
    Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const decision = decideRoute(config, {
    info,
    header: (name) => headers[name.toLowerCase()] ?? null,
    ...(body ? { body } : {}),
  });
  const what = info.isResourceRequest
    ? `${info.verb} ${info.resource}${info.subresource ? `/${info.subresource}` : ""}` +
      `${info.apiGroup ? `.${info.apiGroup}` : ""}${info.name ? ` "${info.name}"` : ""}` +
      `${info.namespace ? ` in namespace "${info.namespace}"` : ""}`
    : `non-resource request ${info.path}`;
  const lines = [`request:  ${request.method.toUpperCase()} ${request.path} (${what})`];
  if (body && Object.keys(body.labels).length > 0) {
    lines.push(`labels:   ${Object.entries(body.labels).map(([k, v]) => `${k}=${v}`).join(", ")}`);
  }
  if (decision.type === "cluster") {
    lines.push(`cluster:  ${decision.cluster}`, `because:  ${decision.reason}`);
  } else if (decision.type === "lookup") {
    lines.push(
      `cluster:  the one among ${
        decision.candidates.join(", ")
      } that has the object (asked in parallel; several is a 409)`,
      `because:  ${decision.reason}`,
    );
  } else if (decision.type === "merge") {
    lines.push(
      `clusters: ${decision.clusters.join(", ")} (answers merged)`,
      `because:  ${decision.reason}`,
    );
  } else {
    lines.push(`refused:  HTTP ${decision.code}: ${decision.message}`);
  }
  return lines.join("\n") + "\n";
}
