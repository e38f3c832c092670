/**
 * The hub's HTTP surface: agents upgrade `/connect` to a WebSocket carrying yamux
 * (agent_connect.ts); users and sidecars call `/clusters/<name>/...`, which is authenticated and
 * authorized on the host and sent through one of the cluster's agents as the caller
 * (hub_request.ts); `/healthz`, `/readyz` and `/metrics` are answered here.
 */
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { ProxyRequest, ProxyResponse } from "../http1/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Gauge, MetricsRegistry } from "../metrics/mod.ts";
import { type Upstream, writeSocketStatus, writeStatus } from "../forward/mod.ts";
import { createAgentAcceptor } from "./agent_connect.ts";
import type { HubTrust } from "./hub_trust.ts";
import type { AgentTokenStore } from "./agent_token_store.ts";
import { answerAgentTokenRequest, isAgentTokenPath } from "./agent_token_routes.ts";
import { HostReadsBusyError } from "./host_read_gate.ts";
import type { CallerInFlight } from "./caller_in_flight.ts";
import type { AgentSessions } from "./agent_sessions.ts";
import type { MemberIdentity } from "./cluster_identity.ts";
import { answerMemberRequest, answerMemberUpgrade } from "./hub_request.ts";
import type { HubRequestContext } from "./settle_target.ts";
import type { UserAccess } from "./user_access.ts";
import type { FrontProxyAuthenticator } from "./front_proxy.ts";
import { discoveryDocument, isAggregatedPath } from "./aggregated_api.ts";

/** What the hub's handlers need. */
export interface HubHandlerDeps {
  sessions: AgentSessions;
  /** Checks callers on the host (TokenReview and SubjectAccessReview). */
  access: Pick<UserAccess, "authenticate" | "authorize" | "mayImpersonate" | "checkPath">;
  /** The host's front proxy, for the aggregated entrance; without it that entrance refuses. */
  frontProxy?: Pick<FrontProxyAuthenticator, "authenticate" | "config">;
  /** The cluster's identity mode and mapping (default: impersonate the caller, default mapping). */
  identityOf?: (cluster: string) => Promise<MemberIdentity>;
  /** The agent tokens on the host: accepted hashes, joins, rotations. */
  tokens: AgentTokenStore;
  onAgentChange: (cluster: string) => void;
  /** Why the hub is not ready, or undefined when it is. */
  notReady: () => string | undefined;
  /** Set once the replica stops: agents that connect are sent to another replica. */
  isStopping?: () => boolean;
  metrics: MetricsRegistry;
  /** Clusters registered on the host (an agent token Secret): reported with 0 agents too. */
  registeredClusters?: () => Iterable<string>;
  logger: Logger;
  /** Another replica holding an agent of the cluster, and how to reach it (mutual TLS). */
  findPeer?: (cluster: string) => Promise<string | undefined>;
  peerUpstream?: (peerUrl: string) => Upstream;
  /** True when the request came from another hub replica (its client certificate). */
  isPeer?: (req: HubRequest) => boolean;
  /** The hub CA set told to agents over their trust streams (tunnel version 2). */
  trust?: HubTrust;
  /** How long an agent's token rotation body may take (default 10 s). */
  agentBodyTimeoutMs?: number;
  /** Requests in flight per caller; without it, no limit. */
  callers?: CallerInFlight;
}

/** A request to the hub, with its connection (a replica's client certificate is read there). */
export type HubRequest = ProxyRequest & { readonly socket: Socket };

/** Request and upgrade handlers for the hub's server. */
export interface HubHandler {
  handleRequest(req: HubRequest, res: ProxyResponse): void;
  handleUpgrade(req: HubRequest, socket: Duplex, head: Uint8Array): void;
}

/**
 * The answer to a failure of the hub itself. Its details (a host error may name the host API
 * server's address) go to the log only: the caller may not even be authenticated yet.
 */
const HUB_FAILED = "The hub failed to handle the request: see the hub's log";

/** Creates the handlers. */
export function createHubHandler(deps: HubHandlerDeps): HubHandler {
  const context: HubRequestContext = {
    deps,
    requests: deps.metrics.counter(
      "mca_hub_requests_total",
      "Requests to members by cluster and HTTP code",
    ),
    requestDuration: deps.metrics.histogram(
      "mca_hub_request_duration_seconds",
      "Time from a request's arrival to its answer's headers, by cluster and HTTP code",
    ),
  };
  countAgents(deps, deps.metrics.gauge("mca_hub_agents", "Connected agents by cluster"));
  const acceptAgent = createAgentAcceptor(
    deps,
    deps.metrics.counter(
      "mca_hub_agent_connections_total",
      "Agent sessions the hub accepted, by cluster (a fast rise is a reconnect storm)",
    ),
  );
  return {
    handleRequest(req, res) {
      const path = (req.url ?? "/").split("?")[0];
      if (path === "/healthz") return void res.end("ok");
      if (path === "/readyz") return answerReady(res, deps);
      if (path === "/metrics") return answerMetrics(req, res, deps);
      if (path && isAggregatedPath(path) && answerDiscovery(req, res, path)) return;
      if (isAgentTokenPath(path ?? "")) {
        return void answerAgentTokenRequest(req, res, deps).catch((error) => {
          if (error instanceof HostReadsBusyError) return writeStatus(res, 429, error.message);
          deps.logger.error("agent token request failed", {
            path,
            error: (error as Error).message,
          });
          writeStatus(res, 503, "The hub cannot handle agent tokens now; retry later");
        });
      }
      answerMemberRequest(req, res, context).catch((error) => {
        deps.logger.error("hub request failed", { path, error: (error as Error).message });
        writeStatus(res, 500, HUB_FAILED);
      });
    },

    handleUpgrade(req, socket, head) {
      const path = (req.url ?? "/").split("?")[0];
      const answering = path === "/connect"
        ? acceptAgent(req, socket, head)
        : answerMemberUpgrade(req, socket, head, context);
      answering.catch((error) => {
        deps.logger.error("hub upgrade failed", { path, error: (error as Error).message });
        writeSocketStatus(socket, 500, HUB_FAILED);
      });
    },
  };
}

/**
 * Answers the aggregator's discovery requests (static documents naming only the group, so they
 * need no caller); true when the path was one.
 */
function answerDiscovery(req: HubRequest, res: ProxyResponse, path: string): boolean {
  const document = discoveryDocument(path, String(req.headers.accept ?? ""));
  if (!document) return false;
  res.writeHead(200, { "content-type": document.contentType });
  res.end(req.method === "HEAD" ? undefined : document.body);
  return true;
}

function answerReady(res: ProxyResponse, deps: HubHandlerDeps): void {
  const reason = deps.notReady();
  res.writeHead(reason ? 503 : 200);
  res.end(reason ? `not ready: ${reason}` : "ok");
}

/**
 * The hub listens where agents on the internet reach it: its cluster names and traffic are shown
 * only to callers the host allows `get` on /metrics (as kube-apiserver does).
 */
function answerMetrics(req: HubRequest, res: ProxyResponse, deps: HubHandlerDeps): void {
  deps.access.checkPath(req.headers.authorization, "/metrics").then(
    (access) => {
      if (!access.allowed) return writeStatus(res, access.code, access.message);
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(deps.metrics.render());
    },
    (error) => {
      deps.logger.warn("cannot check access to /metrics", { error: (error as Error).message });
      writeStatus(res, 503, "Cannot check access now: see the hub's log");
    },
  );
}

/**
 * At each scrape, the agents connected here for every registered cluster and every cluster with
 * agents: a registered cluster without any is a 0 (never a missing series), so that
 * `sum by (cluster) (mca_hub_agents) == 0` finds it over all replicas.
 */
function countAgents(deps: HubHandlerDeps, agents: Gauge): void {
  let shown = new Set<string>();
  deps.metrics.beforeRender(() => {
    const clusters = new Set([...(deps.registeredClusters?.() ?? []), ...deps.sessions.clusters()]);
    for (const cluster of shown) if (!clusters.has(cluster)) agents.remove({ cluster });
    for (const cluster of clusters) {
      agents.set(deps.sessions.agents(cluster).length, { cluster });
    }
    shown = clusters;
  });
}
