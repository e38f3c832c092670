import { assert, assertEquals } from "../_utils/assert.ts";
import type { KubeClient } from "../../src/kube/mod.ts";
import { MAX_CACHED_CHECKS, UserAccess } from "../../src/hub/user_access.ts";

/** A host that accepts the token "good" as alice and allows her everything; counts reviews. */
function fakeHost() {
  const calls = { tokenReviews: 0, accessReviews: 0 };
  const host = {
    // deno-lint-ignore require-await
    async create(path: string, body: { spec: { token?: string } }) {
      if (path.endsWith("/tokenreviews")) {
        calls.tokenReviews++;
        return body.spec.token === "good"
          ? { status: { authenticated: true, user: { username: "alice" } } }
          : { status: { authenticated: false } };
      }
      calls.accessReviews++;
      return { status: { allowed: true } };
    },
  } as unknown as KubeClient;
  return { host, calls };
}

Deno.test("UserAccess remembers a token's review and a decision for its time to live", async () => {
  let now = 0;
  const { host, calls } = fakeHost();
  const access = new UserAccess(host, 10_000, () => now);
  for (let i = 0; i < 3; i++) {
    assert((await access.check("Bearer good", "east", "GET")).allowed);
  }
  assertEquals(calls, { tokenReviews: 1, accessReviews: 1 });
  now = 10_000;
  assert((await access.check("Bearer good", "east", "GET")).allowed);
  assertEquals(calls, { tokenReviews: 2, accessReviews: 2 });
});

Deno.test("UserAccess: made-up tokens and cluster names do not grow the hub without bound", async () => {
  const { host } = fakeHost();
  const access = new UserAccess(host);
  // Anyone can send tokens; any caller with a token can name clusters. The old caches kept an
  // entry for each, for ever (only a later request for the same key replaced it).
  for (let i = 0; i < MAX_CACHED_CHECKS + 2_000; i++) {
    const refused = await access.check(`Bearer made-up-${i}`, "east", "GET");
    assertEquals(refused.allowed, false);
    await access.check("Bearer good", `cluster-${i}`, "GET");
  }
  assert(
    access.cachedChecks <= 2 * MAX_CACHED_CHECKS,
    `${access.cachedChecks} checks cached, over the bound of ${2 * MAX_CACHED_CHECKS}`,
  );
});
