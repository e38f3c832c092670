import { assertEquals, assertRejects, assertThrows } from "../_utils/assert.ts";
import { servePlainHttp1 } from "../_utils/plain_http1.ts";
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

/** A plain-HTTP upstream whose server records each request's raw headers. */
async function recordingUpstream(passImpersonation: boolean) {
  const seen: string[][] = [];
  const server = await servePlainHttp1({
    request(req, res) {
      seen.push(req.rawHeaders);
      res.end("{}");
    },
    upgrade(req, socket) {
      seen.push(req.rawHeaders);
      socket.end("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
    },
  });
  const upstream = createUpstream("c-1", {
    server: `http://127.0.0.1:${server.port}`,
    tls: { insecureSkipVerify: false },
    disableCompression: false,
    credentials: { type: "token", token: "the-cluster-token" },
    namespace: "default",
    source: "test",
  }, { passImpersonation });
  return {
    seen,
    upstream,
    async close() {
      upstream.close();
      await server.close();
    },
  };
}

const IMPERSONATING = {
  accept: "application/json",
  "impersonate-user": "alice",
  "impersonate-group": ["devs", "ops"],
  "impersonate-extra-scopes": "view",
};

/** The impersonation lines of a raw header list, lower-cased names. */
function impersonationLines(raw: string[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase().startsWith("impersonate-")) {
      lines.push(`${raw[i]!.toLowerCase()}: ${raw[i + 1]}`);
    }
  }
  return lines;
}

Deno.test("an upstream drops the caller's Impersonate-* headers unless its cluster passes them", async () => {
  for (const pass of [false, true]) {
    const target = await recordingUpstream(pass);
    try {
      const answer = await target.upstream.request({
        method: "GET",
        path: "/api",
        headers: IMPERSONATING,
      });
      await answer.resume();
      await target.upstream.upgrade({ method: "GET", path: "/api", headers: IMPERSONATING })
        .then((result) => result.response.resume());
      assertEquals(target.seen.length, 2);
      for (const raw of target.seen) {
        assertEquals(
          impersonationLines(raw),
          pass
            ? [
              "impersonate-user: alice",
              "impersonate-group: devs",
              "impersonate-group: ops",
              "impersonate-extra-scopes: view",
            ]
            : [],
          `passImpersonation: ${pass}`,
        );
      }
    } finally {
      await target.close();
    }
  }
});

Deno.test("a cluster that passes the app's impersonation cannot impersonate in its kubeconfig too", () => {
  assertThrows(
    () =>
      createUpstream("c-1", {
        server: "https://127.0.0.1:9",
        tls: { insecureSkipVerify: false },
        disableCompression: false,
        credentials: { type: "token", token: "t" },
        namespace: "default",
        source: "test",
        impersonate: { user: "robot" },
      }, { passImpersonation: true }),
    Error,
    "cannot also impersonate",
  );
});
