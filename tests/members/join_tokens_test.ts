import { assert, assertEquals } from "../_utils/assert.ts";
import {
  formatJoinToken,
  joinRefusalMessage,
  joinTokenSecret,
  judgeJoin,
  newJoinToken,
  parseJoinToken,
  readJoinRecord,
} from "../../src/members/mod.ts";

const NOW = new Date("2026-01-01T12:00:00Z");
const RECORD = {
  cluster: "west",
  secretSha256: "a".repeat(64),
  expiresAt: new Date("2026-01-01T13:00:00Z"),
};

Deno.test("newJoinToken() draws <id>.<secret> from [a-z0-9], and parseJoinToken() reads it back", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const text = formatJoinToken(newJoinToken());
    assert(/^[a-z0-9]{10}\.[a-z0-9]{32}$/.test(text), text);
    assertEquals(formatJoinToken(parseJoinToken(` ${text}\n`)!), text);
    seen.add(text);
  }
  assertEquals(seen.size, 50);
});

Deno.test("newJoinToken() skips bytes that would favour the first letters", () => {
  // 252..255 are dropped: only the 0 bytes make letters here ("a").
  const token = newJoinToken((n) => new Uint8Array(n).map((_, i) => i % 2 ? 255 : 0));
  assertEquals(formatJoinToken(token), `${"a".repeat(10)}.${"a".repeat(32)}`);
});

Deno.test("parseJoinToken() refuses other shapes", () => {
  for (
    const text of [
      "",
      "abc.def",
      `${"a".repeat(10)}${"b".repeat(32)}`,
      `${"A".repeat(10)}.${"b".repeat(32)}`,
      `${"a".repeat(10)}.${"b".repeat(31)}`,
      `${"a".repeat(10)}.${"b".repeat(32)}.x`,
    ]
  ) {
    assertEquals(parseJoinToken(text), undefined, text);
  }
});

Deno.test("judgeJoin() checks the secret first, then use, expiry and cluster", () => {
  const ok = { secretSha256: RECORD.secretSha256, cluster: "west", now: NOW };
  const cases: Array<[string, Parameters<typeof judgeJoin>, string | undefined]> = [
    ["valid", [RECORD, ok], undefined],
    ["wrong secret", [RECORD, { ...ok, secretSha256: "b".repeat(64) }], "wrong"],
    ["wrong secret of a used token", [{ ...RECORD, usedAt: NOW }, {
      ...ok,
      secretSha256: "b".repeat(64),
    }], "wrong"],
    ["used", [{ ...RECORD, usedAt: NOW }, ok], "used"],
    ["expired", [RECORD, { ...ok, now: RECORD.expiresAt }], "expired"],
    ["used and expired", [{ ...RECORD, usedAt: NOW }, { ...ok, now: RECORD.expiresAt }], "used"],
    ["another cluster", [RECORD, { ...ok, cluster: "east" }], "other-cluster"],
  ];
  for (const [name, args, expected] of cases) assertEquals(judgeJoin(...args), expected, name);
});

Deno.test("joinTokenSecret() keeps the hash, cluster and expiry, and readJoinRecord() reads them back", () => {
  const secret = joinTokenSecret(
    "mca-system",
    { id: "abcdefghij", secret: "s".repeat(32) },
    RECORD,
  );
  assertEquals((secret.metadata as { name: string }).name, "mca-join-abcdefghij");
  assert(!JSON.stringify(secret).includes("s".repeat(32)), "never the secret itself");
  const stringData = secret.stringData as Record<string, string>;
  const data = Object.fromEntries(Object.entries(stringData).map(([k, v]) => [k, btoa(v)]));
  assertEquals(readJoinRecord(data), RECORD);
  assertEquals(readJoinRecord({ ...data, "used-at": btoa(NOW.toISOString()) })?.usedAt, NOW);
  assertEquals(readJoinRecord({ cluster: data.cluster! }), undefined);
});

Deno.test("joinRefusalMessage() says what happened and how to get a new token", () => {
  for (
    const refusal of ["malformed", "unknown", "wrong", "used", "expired", "other-cluster"] as const
  ) {
    const message = joinRefusalMessage(refusal, "west");
    assert(message.includes("mca agent token create --cluster west"), message);
  }
  assert(joinRefusalMessage("used", "west").startsWith("The join token was already used"));
  assert(joinRefusalMessage("expired", "west").startsWith("The join token expired"));
});
