/**
 * The hub's agent token routes (see the tunnel's token contract): an agent with a join token
 * registers its cluster, and an agent rotates its token with an overlap. Answers are JSON or a
 * Status; no token appears in a log line.
 */
import type { ProxyResponse } from "../http1/mod.ts";
import { readBody, writeStatus } from "../forward/mod.ts";
import { joinRefusalMessage } from "../members/mod.ts";
import {
  AGENT_JOIN_PATH,
  AGENT_PREVIOUS_TOKEN_PATH,
  AGENT_TOKEN_PATH,
  bearerToken,
  hashToken,
  isTokenHash,
  readAgentHello,
  type RotateAnswer,
} from "../tunnel/mod.ts";
import { isClusterName } from "./cluster_path.ts";
import type { HubHandlerDeps, HubRequest } from "./hub_handler.ts";

/**
 * How long a rotation's body (some 80 bytes, sent with its head) may take. It is read before the
 * token is checked: without a deadline, anyone could hold connections open by trickling bodies.
 */
export const AGENT_BODY_TIMEOUT_MS = 10_000;

/** Whether a path is one of the agent token routes. */
export function isAgentTokenPath(path: string): boolean {
  return path === AGENT_JOIN_PATH || path === AGENT_TOKEN_PATH ||
    path === AGENT_PREVIOUS_TOKEN_PATH;
}

/** Answers an agent token route. */
export async function answerAgentTokenRequest(
  req: HubRequest,
  res: ProxyResponse,
  deps: HubHandlerDeps,
): Promise<void> {
  const path = (req.url ?? "/").split("?")[0]!;
  const method = path === AGENT_PREVIOUS_TOKEN_PATH ? "DELETE" : "POST";
  if (req.method !== method) {
    req.resume();
    return writeStatus(res, 405, `${path} takes ${method}`);
  }
  const token = bearerToken(req.headers.authorization);
  const { cluster } = readAgentHello(req.headers);
  if (!token) {
    req.resume();
    return writeStatus(res, 401, "Unauthorized agent: no bearer token");
  }
  if (!isClusterName(cluster)) {
    req.resume();
    return writeStatus(
      res,
      400,
      "The agent's cluster header must name a cluster (a DNS-1123 label)",
    );
  }
  if (path === AGENT_JOIN_PATH) return await answerJoin(req, res, { deps, token, cluster });
  if (path === AGENT_TOKEN_PATH) return await answerRotate(req, res, { deps, token, cluster });
  req.resume();
  const dropped = await deps.tokens.dropPrevious(cluster, await hashToken(token));
  if (!dropped) return writeStatus(res, 401, "Unauthorized agent: not the cluster's current token");
  deps.logger.info("agent token rotation finished: previous token dropped", { cluster });
  writeJson(res, 200, {});
}

interface Caller {
  deps: HubHandlerDeps;
  token: string;
  cluster: string;
}

async function answerJoin(req: HubRequest, res: ProxyResponse, caller: Caller): Promise<void> {
  const { deps, token, cluster } = caller;
  req.resume();
  const joined = await deps.tokens.join(token, cluster);
  if ("refusal" in joined) {
    deps.logger.warn("agent join refused", { cluster, reason: joined.refusal });
    return writeStatus(res, 401, joinRefusalMessage(joined.refusal, cluster));
  }
  deps.logger.info("agent joined: cluster registered and its agent token issued", { cluster });
  writeJson(res, 200, { token: joined.token });
}

async function answerRotate(req: HubRequest, res: ProxyResponse, caller: Caller): Promise<void> {
  const { deps, token, cluster } = caller;
  const body = await readBodyWithin(req, deps.agentBodyTimeoutMs ?? AGENT_BODY_TIMEOUT_MS);
  if (body === "too-slow") {
    const seconds = (deps.agentBodyTimeoutMs ?? AGENT_BODY_TIMEOUT_MS) / 1000;
    return writeStatus(res, 408, `The request body did not arrive within ${seconds} s`);
  }
  let next: unknown;
  try {
    next = body === "too-large"
      ? undefined
      : (JSON.parse(new TextDecoder().decode(body)) as { tokenSha256?: unknown }).tokenSha256;
  } catch {
    next = undefined;
  }
  if (!isTokenHash(next)) {
    return writeStatus(
      res,
      400,
      'The body must be {"tokenSha256": "<hex SHA-256 of the next token>"}',
    );
  }
  const outcome = await deps.tokens.rotate(cluster, await hashToken(token), next);
  if (outcome === "refused") {
    deps.logger.warn("agent token rotation refused", { cluster });
    return writeStatus(res, 401, "Unauthorized agent: not a token of this cluster");
  }
  if (outcome === "rotated") deps.logger.info("agent token rotated", { cluster });
  const answer: RotateAnswer = { overlapSeconds: Math.round(deps.tokens.overlapMs / 1000) };
  writeJson(res, 200, answer);
}

/** The body (up to 4 KiB), or "too-slow" when it is not whole in time. */
async function readBodyWithin(
  req: HubRequest,
  timeoutMs: number,
): Promise<Uint8Array | "too-large" | "too-slow"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"too-slow">((resolve) => {
    timer = setTimeout(() => resolve("too-slow"), timeoutMs);
  });
  try {
    return await Promise.race([readBody(req, 4096), late]);
  } finally {
    clearTimeout(timer);
  }
}

function writeJson(res: ProxyResponse, code: number, value: unknown): void {
  res.writeHead(code, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(value));
}
