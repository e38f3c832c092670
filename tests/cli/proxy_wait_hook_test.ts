import { assertEquals } from "../_utils/assert.ts";
import {
  PROXY_WAIT_DEFAULTS,
  proxyWaitHookArgs,
  proxyWaitUsageError,
} from "../../src/cli/proxy_wait_hook.ts";
import { waitReady } from "../../src/proxy/wait_ready.ts";

Deno.test("proxyWaitHookArgs() takes the hook's own form and leaves everything else to the command line", () => {
  const cases: Array<[string[], ReturnType<typeof proxyWaitHookArgs>]> = [
    [["proxy", "wait"], PROXY_WAIT_DEFAULTS],
    [
      ["proxy", "wait", "--health-url=http://127.0.0.1:16443/readyz", "--timeout=120s"],
      { healthUrl: "http://127.0.0.1:16443/readyz", timeout: "120s" },
    ],
    [["proxy", "wait", "--timeout=5s"], { ...PROXY_WAIT_DEFAULTS, timeout: "5s" }],
    [["proxy", "wait", "--help"], undefined],
    [["proxy", "wait", "--timeout", "5s"], undefined],
    [["proxy", "wait", "--other=1"], undefined],
    [["proxy", "explain", "GET", "/api"], undefined],
    [["proxy"], undefined],
    [[], undefined],
  ];
  for (const [args, expected] of cases) {
    assertEquals(proxyWaitHookArgs(args), expected, args.join(" "));
  }
});

Deno.test("proxyWaitUsageError() names the bad flag", () => {
  assertEquals(proxyWaitUsageError(PROXY_WAIT_DEFAULTS), undefined);
  assertEquals(
    proxyWaitUsageError({ ...PROXY_WAIT_DEFAULTS, timeout: "soon" }),
    'Invalid --timeout "soon": use a duration such as "90s", "15m", "12h" or "30d"',
  );
  assertEquals(
    proxyWaitUsageError({ ...PROXY_WAIT_DEFAULTS, healthUrl: "127.0.0.1:16443" }),
    'Invalid --health-url "127.0.0.1:16443": use an http:// URL',
  );
});

Deno.test("waitReady() asks until a 200 comes, and gives up at the timeout with the last answer", async () => {
  let clock = 0;
  const answers = [new Error("connection refused"), 503, 200];
  const asked: number[] = [];
  const deps = {
    now: () => clock,
    sleep: (ms: number) => Promise.resolve(void (clock += ms)),
    fetch: (() => {
      asked.push(clock);
      const next = answers.shift() ?? 503;
      return next instanceof Error
        ? Promise.reject(next)
        : Promise.resolve(new Response(null, { status: next }));
    }) as typeof fetch,
  };
  assertEquals(await waitReady("http://x/readyz", { timeoutMs: 1_000, intervalMs: 20 }, deps), {
    ready: true,
    afterMs: 40,
  });
  assertEquals(asked, [0, 20, 40]);
  clock = 0;
  assertEquals(await waitReady("http://x/readyz", { timeoutMs: 50, intervalMs: 20 }, deps), {
    ready: false,
    afterMs: 50,
    last: "HTTP 503",
  });
});
