/**
 * A member cluster's Upstream without a cluster: requests and upgrades answer as a test says,
 * and the upgraded connection's far end is handed to the test (an in-memory duplex pair).
 */
import { type Duplex, duplexPair, Readable } from "node:stream";
import type { IncomingMessage } from "node:http";
import type {
  UpgradeResult,
  Upstream,
  UpstreamRequest,
  UpstreamResponse,
} from "../../src/forward/mod.ts";
import { UpstreamUnavailableError } from "../../src/forward/mod.ts";

/** An answer of the fake member to a plain request. */
export interface MemberAnswer {
  status: number;
  statusText?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** How the fake member answers an upgrade. */
export type MemberUpgrade =
  /** 101, then `early` right after the head, then whatever the test writes on `far`. */
  | { kind: "switch"; early: string }
  /** An ordinary answer (a refusal): its body, then the connection's end. */
  | { kind: "refuse"; status: number; statusText: string; body: string }
  /** The member cannot be reached. */
  | { kind: "fail"; message: string };

/** The fake and what it saw. */
export interface FakeMember {
  upstream: Upstream;
  /** Requests (and upgrade requests) as they arrived, bodies decoded. */
  requests: (UpstreamRequest & { text?: string })[];
  /** The member's end of the last upgraded connection. */
  far?: Duplex;
}

/** A member that answers every request with `answer` and every upgrade as `upgrade` says. */
export function fakeMember(
  cluster: string,
  behaviour: { answer?: MemberAnswer; upgrade?: MemberUpgrade; fail?: string },
): FakeMember {
  const fake: FakeMember = {
    requests: [],
    upstream: {
      name: cluster,
      request(request) {
        fake.requests.push({ ...request, text: new TextDecoder().decode(request.body) });
        if (behaviour.fail) {
          return Promise.reject(new UpstreamUnavailableError(cluster, behaviour.fail));
        }
        return Promise.resolve(answerOf(behaviour.answer ?? { status: 200, body: "" }));
      },
      upgrade(request) {
        fake.requests.push(request);
        const upgrade = behaviour.upgrade ?? { kind: "fail", message: "no upgrades here" };
        if (upgrade.kind === "fail") {
          return Promise.reject(new UpstreamUnavailableError(cluster, upgrade.message));
        }
        if (upgrade.kind === "refuse") {
          return Promise.resolve({
            upgraded: false,
            response: answerOf({
              status: upgrade.status,
              statusText: upgrade.statusText,
              headers: { "content-type": "application/json" },
              body: upgrade.body,
            }) as unknown as IncomingMessage,
          });
        }
        const [far, near] = duplexPair();
        fake.far = far;
        const response = {
          statusCode: 101,
          statusMessage: "Switching Protocols",
          rawHeaders: ["Upgrade", "websocket", "Connection", "Upgrade"],
          headers: { upgrade: "websocket", connection: "Upgrade" },
        } as unknown as IncomingMessage;
        const result: UpgradeResult = {
          upgraded: true,
          response,
          socket: near,
          head: new TextEncoder().encode(upgrade.early),
        };
        return Promise.resolve(result);
      },
      read: () => Promise.reject(new Error("the fake member serves no whole reads")),
      close() {},
    },
  };
  return fake;
}

/** An UpstreamResponse: a readable body with a status and raw headers (content-length set). */
function answerOf(answer: MemberAnswer): UpstreamResponse {
  const body = new TextEncoder().encode(answer.body ?? "");
  const headers: Record<string, string> = {
    ...answer.headers,
    "content-length": String(body.length),
  };
  return Object.assign(Readable.from(body.length > 0 ? [body] : []), {
    statusCode: answer.status,
    statusMessage: answer.statusText ?? "",
    headers,
    rawHeaders: Object.entries(headers).flat(),
  });
}
