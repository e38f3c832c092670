/** A hub handler's deps for tests of the handler alone: what a test does not set refuses or does nothing. */
import { type AccessDecision, AgentSessions, type HubHandlerDeps } from "../../src/hub/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { createMetricsRegistry } from "../../src/metrics/mod.ts";
import { NO_TOKENS } from "./token_store.ts";

const REFUSED: AccessDecision = { allowed: false, code: 403, message: "refused by the test" };
const UNAUTHENTICATED: AccessDecision = { allowed: false, code: 401, message: "unknown caller" };

/** Deps with no agent, no caller allowed, no token known, ready, silent; `parts` replace them. */
export function testHubDeps(parts: Partial<HubHandlerDeps> = {}): HubHandlerDeps {
  return {
    sessions: new AgentSessions(),
    access: {
      authenticate: () => Promise.resolve(UNAUTHENTICATED),
      authorize: () => Promise.resolve(REFUSED),
      mayImpersonate: () => Promise.resolve(false),
      checkPath: () => Promise.resolve(REFUSED),
    },
    tokens: NO_TOKENS,
    onAgentChange() {},
    notReady: () => undefined,
    metrics: createMetricsRegistry(),
    logger: silentLogger,
    ...parts,
  };
}
