import { assertEquals, assertThrows } from "../_utils/assert.ts";
import { PROXY_DEFAULTS, resolveProxyOptions } from "../../src/proxy/mod.ts";

Deno.test("resolveProxyOptions() in a pod: PROXY_DEFAULTS, a health listener, JSON logs", () => {
  assertEquals(resolveProxyOptions({}), {
    listen: { hostname: "127.0.0.1", port: 6443 },
    healthListen: { hostname: "0.0.0.0", port: 16443 },
    serviceAccountDir: PROXY_DEFAULTS.serviceAccountDir,
    maxBodyBytes: 3 * 1024 * 1024,
    logLevel: "info",
    logFormat: "json",
  });
});

Deno.test("resolveProxyOptions() on a workstation: the contexts, no health listener, text logs", () => {
  assertEquals(
    resolveProxyOptions({ contexts: "east, west", kubeconfig: "k", writeKubeconfig: "out" }),
    {
      listen: { hostname: "127.0.0.1", port: 6443 },
      serviceAccountDir: PROXY_DEFAULTS.serviceAccountDir,
      workstation: { contexts: ["east", "west"], kubeconfig: "k", writeKubeconfig: "out" },
      maxBodyBytes: 3 * 1024 * 1024,
      logLevel: "info",
      logFormat: "text",
    },
  );
  const withHealth = resolveProxyOptions({ contexts: "east", healthListen: "127.0.0.1:9000" });
  assertEquals(withHealth.healthListen, { hostname: "127.0.0.1", port: 9000 });
});

Deno.test("resolveProxyOptions() names the flag that is wrong", () => {
  const cases: Array<[Parameters<typeof resolveProxyOptions>[0], string]> = [
    [{ contexts: " , " }, 'Invalid --contexts " , ": name at least one context'],
    [{ writeKubeconfig: "out" }, "--write-kubeconfig needs --contexts (workstation mode)"],
    [{ maxBodyBytes: "0" }, 'Invalid --max-body-bytes "0": a positive number of bytes'],
    [{ maxBodyBytes: "3M" }, 'Invalid --max-body-bytes "3M"'],
    [{ listen: "6443" }, 'Invalid --listen "6443"'],
  ];
  for (const [options, message] of cases) {
    assertThrows(() => resolveProxyOptions(options), Error, message);
  }
});
