import { assertEquals } from "../_utils/assert.ts";
import {
  acceptedHashes,
  agentTokenData,
  planRotation,
  readAgentTokenHashes,
} from "../../src/members/mod.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);
const NOW = new Date("2026-01-01T12:00:00Z");
const LATER = new Date("2026-01-01T12:02:00Z");

Deno.test("readAgentTokenHashes() reads what agentTokenData() writes", () => {
  const hashes = { current: B, previous: { hash: A, expiresAt: LATER } };
  assertEquals(readAgentTokenHashes(agentTokenData(hashes)), hashes);
  assertEquals(readAgentTokenHashes(agentTokenData({ current: A })), { current: A });
  assertEquals(readAgentTokenHashes({}), undefined);
  assertEquals(readAgentTokenHashes(undefined), undefined);
});

Deno.test("acceptedHashes() takes the previous hash only until its overlap ends", () => {
  const hashes = { current: B, previous: { hash: A, expiresAt: LATER } };
  assertEquals(acceptedHashes(hashes, NOW), [B, A]);
  assertEquals(acceptedHashes(hashes, LATER), [B]);
  assertEquals(acceptedHashes({ current: B }, NOW), [B]);
  assertEquals(acceptedHashes(undefined, NOW), []);
});

Deno.test("planRotation() rotates from the current token, repeats harmlessly, refuses others", () => {
  const request = { now: NOW, overlapMs: 120_000 };
  const rotating = { current: A };
  const rotated = { current: B, previous: { hash: A, expiresAt: LATER } };
  const cases: Array<[string, Parameters<typeof planRotation>, ReturnType<typeof planRotation>]> = [
    ["current to next", [rotating, { ...request, presented: A, next: B }], {
      kind: "rotate",
      hashes: rotated,
    }],
    ["asked again with the old token", [rotated, { ...request, presented: A, next: B }], {
      kind: "done",
    }],
    ["asked again with the new token", [rotated, { ...request, presented: B, next: B }], {
      kind: "done",
    }],
    ["the old token towards another", [rotated, { ...request, presented: A, next: C }], {
      kind: "refused",
    }],
    ["the old token after the overlap", [rotated, {
      ...request,
      now: LATER,
      presented: A,
      next: B,
    }], {
      kind: "refused",
    }],
    ["an unknown token", [rotating, { ...request, presented: C, next: B }], { kind: "refused" }],
    ["no token registered", [undefined, { ...request, presented: A, next: B }], {
      kind: "refused",
    }],
  ];
  for (const [name, args, expected] of cases) assertEquals(planRotation(...args), expected, name);
});
