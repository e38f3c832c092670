import { assertEquals, assertThrows } from "../_utils/assert.ts";
import {
  applyRolloverPhase,
  finishBlocker,
  HUB_CA_KEYS,
  hubCaSecretData,
  readHubCaState,
  rolloverStage,
  switchBlocker,
  trustedCaPems,
} from "../../src/hub/mod.ts";

const current = { certPem: "A-cert", keyPem: "A-key" };
const next = { certPem: "B-cert", keyPem: "B-key" };

Deno.test("the rollover phases move the hub CA Secret idle → prepared → switched → idle", () => {
  const idle = { current };
  const prepared = applyRolloverPhase(idle, "prepare", next);
  assertEquals(rolloverStage(prepared), "prepared");
  assertEquals(trustedCaPems(prepared), ["A-cert", "B-cert"]);
  const switched = applyRolloverPhase(prepared, "switch");
  assertEquals(rolloverStage(switched), "switched");
  assertEquals(switched.current, next, "the next CA signs now");
  assertEquals(trustedCaPems(switched), ["B-cert", "A-cert"]);
  const finished = applyRolloverPhase(switched, "finish");
  assertEquals(finished, { current: next });
});

Deno.test("a phase out of order is refused with what to run instead", () => {
  const idle = { current };
  assertThrows(() => applyRolloverPhase(idle, "switch"), Error, 'start with "prepare"');
  assertThrows(() => applyRolloverPhase(idle, "finish"), Error, 'start with "prepare"');
  const prepared = applyRolloverPhase(idle, "prepare", next);
  assertThrows(() => applyRolloverPhase(prepared, "prepare", next), Error, '"switch" to it');
  const switched = applyRolloverPhase(prepared, "switch");
  assertThrows(() => applyRolloverPhase(switched, "switch"), Error, '"finish" to drop');
});

Deno.test("the Secret's data reads back as the same state, with the bundle for clients", () => {
  const prepared = applyRolloverPhase({ current }, "prepare", next);
  const data = hubCaSecretData(prepared);
  assertEquals(readHubCaState(data, "mca-hub-ca"), prepared);
  assertEquals(atob(data[HUB_CA_KEYS.bundle]!), "A-certB-cert");
  const switched = hubCaSecretData(applyRolloverPhase(prepared, "switch"));
  assertEquals(Object.keys(switched).sort(), [
    "ca-bundle.crt",
    "ca.crt",
    "ca.key",
    "previous-ca.crt",
  ]);
  assertThrows(
    () => readHubCaState({}, "mca-hub-ca"),
    Error,
    'Secret "mca-hub-ca" holds no hub CA',
  );
});

Deno.test("switchBlocker() waits for every replica's agents, ignores replicas gone, needs an agent", () => {
  const now = new Date("2026-12-07T12:00:00Z");
  const recent = "2026-12-07T11:59:40Z";
  const wanted = ["sha256:a", "sha256:b"];
  const ready = { pins: ["sha256:b", "sha256:a"], agents: 2, agentsHolding: 2, lastUpdate: recent };
  assertEquals(switchBlocker({ r1: ready }, wanted, now), undefined);
  assertEquals(
    switchBlocker({ r1: ready, r2: { ...ready, agentsHolding: 1 } }, wanted, now),
    "1 of 2 agents hold every pin",
  );
  assertEquals(
    switchBlocker({ r1: ready, r2: { ...ready, pins: ["sha256:a"] } }, wanted, now),
    "a hub replica has not taken up the CA set yet",
  );
  // A replica that stopped writing two minutes ago is gone; its agents reconnected elsewhere.
  const gone = { ...ready, agentsHolding: 0, lastUpdate: "2026-12-07T11:50:00Z" };
  assertEquals(switchBlocker({ r1: ready, old: gone }, wanted, now), undefined);
  assertEquals(
    switchBlocker({ r1: { ...ready, agents: 0, agentsHolding: 0 } }, wanted, now),
    "no agent is connected",
  );
  assertEquals(switchBlocker(undefined, wanted, now), "no agent is connected");
});

Deno.test("finishBlocker() waits for every replica holding agents to serve with the new CA", () => {
  const now = new Date("2026-12-07T12:00:00Z");
  const recent = "2026-12-07T11:59:40Z";
  const switched = {
    pins: ["sha256:new", "sha256:old"],
    agents: 1,
    agentsHolding: 1,
    lastUpdate: recent,
  };
  const behind = { ...switched, pins: ["sha256:old", "sha256:new"] };
  assertEquals(finishBlocker({ a: switched }, "sha256:new", now), undefined);
  assertEquals(
    finishBlocker({ a: switched, b: behind, c: behind }, "sha256:new", now),
    "hub replica(s) b, c still serve with another CA",
  );
  // Gone (no write for two minutes), or without agents since before the switch: nothing to wait for.
  assertEquals(
    finishBlocker(
      { a: switched, b: { ...behind, lastUpdate: "2026-12-07T11:57:00Z" } },
      "sha256:new",
      now,
    ),
    undefined,
  );
  assertEquals(
    finishBlocker({ a: switched, b: { ...behind, agents: 0 } }, "sha256:new", now),
    undefined,
  );
  assertEquals(finishBlocker(undefined, "sha256:new", now), undefined);
});
