import { assertEquals, assertRejects } from "../_utils/assert.ts";
import {
  createUpstream,
  upstreamErrorCode,
  UpstreamUnavailableError,
} from "../../src/forward/mod.ts";
import { RequestTargetError } from "../../src/request_target.ts";

Deno.test("an upstream refuses a target that would leave its cluster's prefix: a 400, nothing sent", async () => {
  // Nothing listens on port 9: a request that got as far as connecting would fail otherwise.
  const upstream = createUpstream("c-1", {
    server: "https://127.0.0.1:9/k8s/clusters/c-1",
    tls: { insecureSkipVerify: false },
    disableCompression: false,
    credentials: { type: "token", token: "the-cluster-token" },
    namespace: "default",
    source: "test",
  }, { timeoutMs: 2_000 });
  try {
    for (const path of ["-2/api/v1/secrets", "/../../../v3/users", "/api/%2E%2e/x"]) {
      const error = await assertRejects(
        () => upstream.request({ method: "GET", path, headers: {} }),
        RequestTargetError,
      );
      assertEquals(upstreamErrorCode(error), 400, path);
      await assertRejects(
        () => upstream.upgrade({ method: "GET", path, headers: {} }),
        RequestTargetError,
      );
    }
    assertEquals(upstreamErrorCode(new UpstreamUnavailableError("c-1", "down")), 503);
    assertEquals(upstreamErrorCode(new Error("other")), 500);
  } finally {
    upstream.close();
  }
});
