/** An agent token store for hub handlers under test that knows no token. */
import type { AgentTokenStore } from "../../src/hub/agent_token_store.ts";

/** Accepts no agent, refuses every join and rotation. */
export const NO_TOKENS: AgentTokenStore = {
  accepted: () => Promise.resolve([]),
  join: () => Promise.resolve({ refusal: "unknown" }),
  rotate: () => Promise.resolve("refused"),
  dropPrevious: () => Promise.resolve(false),
  overlapMs: 0,
};
