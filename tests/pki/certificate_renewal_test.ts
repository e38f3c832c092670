import { assertEquals } from "../_utils/assert.ts";
import { createLogger } from "../../src/log/mod.ts";
import {
  type CertificateRenewalOptions,
  renewalCheckIntervalMs,
  renewalDueAt,
  startCertificateRenewal,
} from "../../src/pki/mod.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

Deno.test("renewalCheckIntervalMs() checks every sixth of the validity, between a second and an hour", () => {
  const cases: [number, number][] = [
    [365 * DAY_MS, HOUR_MS],
    [3 * HOUR_MS, 30 * 60_000],
    [60_000, 10_000],
    [3_000, 1_000],
  ];
  for (const [validity, interval] of cases) {
    assertEquals(renewalCheckIntervalMs(validity), interval, `validity ${validity} ms`);
  }
});

Deno.test("renewalDueAt() is two thirds into the certificate's life", () => {
  assertEquals(renewalDueAt(1_000, new Date(4_000)), 3_000);
});

/** A renewal on a clock the test moves, renewing into a log the test reads. */
function harness(overrides: Partial<CertificateRenewalOptions> = {}) {
  let clock = 0;
  const lines: Record<string, unknown>[] = [];
  const renewed: number[] = [];
  const renewal = startCertificateRenewal({
    validityMs: 365 * DAY_MS,
    notAfter: new Date(300),
    renew: () => {
      renewed.push(clock);
      return Promise.resolve({
        notAfter: new Date(clock + 300),
        fields: { serial: renewed.length },
      });
    },
    logger: createLogger({ write: (line) => lines.push(JSON.parse(line)) }),
    now: () => clock,
    ...overrides,
  });
  return {
    renewal,
    lines,
    renewed,
    at(ms: number) {
      clock = ms;
      return renewal.check();
    },
  };
}

Deno.test("startCertificateRenewal() renews at two thirds of each certificate's life, not before", async () => {
  const { renewal, lines, renewed, at } = harness();
  try {
    await at(199);
    assertEquals(renewed, []);
    await at(200);
    assertEquals(renewed, [200]);
    // The new certificate ends at 500: its renewal is due at 200 + 2/3 of 300.
    await at(399);
    assertEquals(renewed, [200]);
    await at(400);
    assertEquals(renewed, [200, 400]);
    assertEquals(
      lines.map(({ level, msg, notAfter, serial }) => ({ level, msg, notAfter, serial })),
      [
        {
          level: "info",
          msg: "serving certificate renewed",
          notAfter: new Date(500).toISOString(),
          serial: 1,
        },
        {
          level: "info",
          msg: "serving certificate renewed",
          notAfter: new Date(700).toISOString(),
          serial: 2,
        },
      ],
    );
  } finally {
    await renewal.stop();
  }
});

Deno.test("startCertificateRenewal() renews early when asked to, and keeps trying until it succeeds", async () => {
  let ask = true;
  let failures = 1;
  const renewedAt: number[] = [];
  let clock = 0;
  const { renewal, lines, at } = harness({
    mustRenew: () => Promise.resolve(ask),
    renew: () => {
      if (failures-- > 0) return Promise.reject(new Error("Secret unreachable"));
      renewedAt.push(clock);
      return Promise.resolve({ notAfter: new Date(clock + 300) });
    },
  });
  try {
    clock = 10;
    await at(10);
    assertEquals(renewedAt, [], "the first attempt fails");
    assertEquals(lines.at(-1)?.level, "error");
    assertEquals(lines.at(-1)?.msg, "certificate renewal failed; retrying later");
    assertEquals(lines.at(-1)?.error, "Secret unreachable");
    ask = false; // asked once: still owed
    clock = 20;
    await at(20);
    assertEquals(renewedAt, [20]);
    clock = 30;
    await at(30);
    assertEquals(renewedAt, [20], "nothing owed and not due");
  } finally {
    await renewal.stop();
  }
});

Deno.test("startCertificateRenewal() stop() waits for a renewal under way", async () => {
  const started = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  let finished = false;
  const { renewal, at } = harness({
    renew: async () => {
      started.resolve();
      await gate.promise;
      finished = true;
      return { notAfter: new Date(1_000) };
    },
  });
  const checking = at(250);
  await started.promise;
  const stopping = renewal.stop().then(() => finished);
  gate.resolve();
  assertEquals(await stopping, true);
  await checking;
});
