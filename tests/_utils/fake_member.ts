/**
 * A member cluster for the tunnel's and the upgrade table's tests: a FakeUpstream (see
 * fake_exchange.ts) whose upgrades switch, refuse or fail as a case says, the upgraded
 * connection's far end handed to the test (an in-memory duplex pair).
 */
import { type Duplex, duplexPair } from "node:stream";
import type { IncomingMessage } from "node:http";
import { UpstreamUnavailableError } from "../../src/forward/mod.ts";
import { type FakeAnswer, FakeUpstream, upstreamResponse } from "./fake_exchange.ts";

/** How the fake member answers an upgrade. */
export type MemberUpgrade =
  /** 101, then `early` right after the head, then whatever the test writes on `far`. */
  | { kind: "switch"; early: string }
  /** An ordinary answer (a refusal): its body, then the connection's end. */
  | { kind: "refuse"; status: number; statusText: string; body: string }
  /** The member cannot be reached. */
  | { kind: "fail"; message: string };

/** The fake, and the member's end of its last upgraded connection. */
export interface FakeMember {
  upstream: FakeUpstream;
  far?: Duplex;
}

/** A member answering requests with `answer` (or failing them) and upgrades as `upgrade` says. */
export function fakeMember(
  cluster: string,
  behaviour: { answer?: FakeAnswer; upgrade?: MemberUpgrade; fail?: string },
): FakeMember {
  const fake: FakeMember = {
    upstream: new FakeUpstream(cluster, {
      request: () =>
        behaviour.fail
          ? Promise.reject(new UpstreamUnavailableError(cluster, behaviour.fail))
          : behaviour.answer ?? { status: 200 },
      upgrade: () => {
        const upgrade = behaviour.upgrade ?? { kind: "fail", message: "no upgrades here" };
        if (upgrade.kind === "fail") throw new UpstreamUnavailableError(cluster, upgrade.message);
        if (upgrade.kind === "refuse") {
          const response = upstreamResponse({
            status: upgrade.status,
            statusMessage: upgrade.statusText,
            headers: { "content-type": "application/json" },
            body: upgrade.body,
          });
          return { upgraded: false, response };
        }
        const [far, near] = duplexPair();
        fake.far = far;
        const response = {
          statusCode: 101,
          statusMessage: "Switching Protocols",
          rawHeaders: ["Upgrade", "websocket", "Connection", "Upgrade"],
          headers: { upgrade: "websocket", connection: "Upgrade" },
        } as unknown as IncomingMessage;
        const head = new TextEncoder().encode(upgrade.early);
        return { upgraded: true, response, socket: near, head };
      },
    }),
  };
  return fake;
}
