/**
 * The agent's plain HTTPS calls to the hub (joining, rotating its token), verified against the
 * pinned CA and through the egress proxy like the tunnel itself.
 */
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import {
  AGENT_JOIN_PATH,
  AGENT_PREVIOUS_TOKEN_PATH,
  AGENT_TOKEN_PATH,
  connectHeaders,
  type JoinAnswer,
  openProxyTunnel,
  type RotateAnswer,
} from "../tunnel/mod.ts";
import { MCA_VERSION } from "../version.ts";
import type { ResolvedAgentOptions } from "./agent_options.ts";

/** A refusal of the hub: its code and Status message (never a token). */
export class HubRefusal extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = "HubRefusal";
  }
}

/** The calls an agent makes to the hub besides its tunnel. */
export interface HubCalls {
  join(joinToken: string): Promise<JoinAnswer>;
  rotate(token: string, nextSha256: string): Promise<RotateAnswer>;
  dropPrevious(token: string): Promise<void>;
}

/**
 * The calls, for one agent. `hubCa` gives the CAs trusted at the time of each call: after a CA
 * rollover's switch, a rotation must verify the hub with what the agent learned since its start.
 */
export function createHubCalls(
  options: ResolvedAgentOptions,
  { hubCa, agentId }: { hubCa: () => string; agentId: string },
): HubCalls {
  const call = (method: string, path: string, token: string, body?: unknown) =>
    hubRequest(options, { hubCa: hubCa(), agentId, method, path, token, body });
  return {
    join: async (joinToken) => await call("POST", AGENT_JOIN_PATH, joinToken) as JoinAnswer,
    rotate: async (token, tokenSha256) =>
      await call("POST", AGENT_TOKEN_PATH, token, { tokenSha256 }) as RotateAnswer,
    dropPrevious: async (token) => void await call("DELETE", AGENT_PREVIOUS_TOKEN_PATH, token),
  };
}

/** One JSON request; a non-2xx answer becomes a HubRefusal with the Status message. */
async function hubRequest(
  options: ResolvedAgentOptions,
  call: {
    hubCa: string;
    agentId: string;
    method: string;
    path: string;
    token: string;
    body?: unknown;
  },
): Promise<unknown> {
  const createConnection = options.hubProxy ? await tunnelTls(options) : undefined;
  const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
  const { status, text } = await new Promise<{ status: number; text: string }>(
    (resolve, reject) => {
      const requestOptions: https.RequestOptions = {
        method: call.method,
        ca: call.hubCa,
        rejectUnauthorized: true,
        // deno-lint-ignore no-explicit-any
        ...(createConnection ? { createConnection: createConnection as any, agent: false } : {}),
        headers: {
          Authorization: `Bearer ${call.token}`,
          ...connectHeaders({ cluster: options.cluster, agentId: call.agentId, memberVersion: "" }),
          "User-Agent": `mca-agent/v${MCA_VERSION}`,
          ...(payload ? { "Content-Type": "application/json" } : {}),
        },
        timeout: 15_000,
      };
      const request = https.request(
        new URL(call.path, options.hubUrl),
        requestOptions,
        (response) => {
          let text = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => text += chunk);
          response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
          response.on("error", reject);
        },
      );
      request.on("timeout", () => request.destroy(new Error("the hub did not answer in 15 s")));
      request.on("error", reject);
      request.end(payload);
    },
  );
  const value = parseJson(text);
  if (status < 200 || status > 299) {
    const message = (value as { message?: unknown } | undefined)?.message;
    throw new HubRefusal(
      status,
      typeof message === "string" ? message : `the hub answered HTTP ${status}`,
    );
  }
  return value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Through the egress proxy: the CONNECT tunnel, opened first, and a connection factory for
 * ws or https, which runs TLS over it with the options they computed (the pinned CA,
 * rejectUnauthorized, SNI = the hub's host name), so the TLS session is the agent's with the
 * hub, end to end.
 */
export async function tunnelTls(
  options: ResolvedAgentOptions,
): Promise<typeof net.createConnection> {
  const port = Number(options.hubUrl.port || 443);
  const hostname = options.hubUrl.hostname.replace(/^\[(.*)\]$/, "$1");
  const socket = await openProxyTunnel(options.hubProxy!, { hostname, port });
  // ws passes its https.request options (ca, rejectUnauthorized, host, port) to the factory.
  const connect = (opts: tls.ConnectionOptions) =>
    tls.connect({ ...opts, socket, servername: net.isIP(hostname) ? "" : hostname });
  return connect as unknown as typeof net.createConnection;
}
