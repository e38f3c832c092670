import { assertEquals } from "../_utils/assert.ts";
import {
  readAgentSecretState,
  ROTATED_AT_ANNOTATION,
  rotationDue,
} from "../../src/agent/agent_secret.ts";

const NOW = new Date("2026-01-02T00:00:00Z");
const HOUR = 3_600_000;

Deno.test("readAgentSecretState() reads the tokens, ignoring empty values, and the last rotation", () => {
  assertEquals(
    readAgentSecretState({
      metadata: {
        resourceVersion: "7",
        annotations: { [ROTATED_AT_ANNOTATION]: "2026-01-01T00:00:00Z" },
      },
      data: { token: btoa("t\n"), "join-token": btoa("j"), "next-token": btoa("") },
    }),
    {
      resourceVersion: "7",
      token: "t",
      joinToken: "j",
      rotatedAt: new Date("2026-01-01T00:00:00Z"),
    },
  );
  assertEquals(
    readAgentSecretState({ metadata: { annotations: { [ROTATED_AT_ANNOTATION]: "soon" } } }),
    { resourceVersion: "" },
  );
});

Deno.test("rotationDue() counts from the last rotation, else from the agent's start; never while one runs", () => {
  const since = new Date(NOW.getTime() - 2 * HOUR);
  const cases: Array<[string, Parameters<typeof rotationDue>[0], number, boolean]> = [
    [
      "rotated long ago",
      { resourceVersion: "1", rotatedAt: new Date(NOW.getTime() - 25 * HOUR) },
      24 * HOUR,
      true,
    ],
    [
      "rotated recently",
      { resourceVersion: "1", rotatedAt: new Date(NOW.getTime() - HOUR) },
      24 * HOUR,
      false,
    ],
    ["never rotated, started 2 h ago", { resourceVersion: "1" }, HOUR, true],
    ["never rotated, started 2 h ago, 24 h interval", { resourceVersion: "1" }, 24 * HOUR, false],
    ["a rotation in progress", { resourceVersion: "1", nextToken: "n" }, HOUR, false],
    ["rotation off", { resourceVersion: "1" }, 0, false],
  ];
  for (const [name, state, intervalMs, expected] of cases) {
    assertEquals(rotationDue(state, { now: NOW, intervalMs, since }), expected, name);
  }
});
