import { assertEquals, assertThrows } from "../_utils/assert.ts";
import {
  bypassesProxy,
  egressProxyFor,
  parseNoProxy,
  parseProxyUrl,
  redactUserinfo,
} from "../../src/tunnel/egress_proxy.ts";

Deno.test("parseProxyUrl() takes host, port and percent-decoded Basic credentials", () => {
  assertEquals(parseProxyUrl("http://proxy.corp:3128"), {
    hostname: "proxy.corp",
    port: 3128,
    address: "proxy.corp:3128",
  });
  assertEquals(parseProxyUrl("proxy.corp:3128").address, "proxy.corp:3128");
  assertEquals(parseProxyUrl("http://proxy.corp").port, 80);
  assertEquals(parseProxyUrl("http://[fd00::1]:3128/").hostname, "fd00::1");
  assertEquals(parseProxyUrl("http://[fd00::1]:3128/").address, "[fd00::1]:3128");
  assertEquals(
    parseProxyUrl("http://alice:p%40ss%3Aw0rd@proxy:3128").authorization,
    `Basic ${btoa("alice:p@ss:w0rd")}`,
  );
  assertEquals(parseProxyUrl("http://alice@proxy:3128").authorization, `Basic ${btoa("alice:")}`);
  assertEquals(
    parseProxyUrl("http://j%C3%BCrgen:x@proxy:3128").authorization,
    "Basic asO8cmdlbjp4", // "jürgen:x" in UTF-8
  );
});

Deno.test("parseProxyUrl() refuses what it cannot use, without printing credentials", () => {
  const cases: Array<[string, string]> = [
    ["https://alice:secret@proxy:3128", "TLS to the proxy (https://) is not supported"],
    ["socks5://alice:secret@proxy:1080", 'the scheme "socks5:" is not supported'],
    ["http://alice:%zz@proxy:3128", "the credentials are not valid percent-encoding"],
    ["http://alice:secret@proxy:port", "not a URL"],
  ];
  for (const [text, reason] of cases) {
    const error = assertThrows(() => parseProxyUrl(text, "https_proxy"), Error, reason);
    assertEquals(error.message.includes("secret") || error.message.includes("%zz"), false);
    assertEquals(error.message.startsWith('Invalid https_proxy "'), true, error.message);
  }
});

Deno.test("redactUserinfo() hides the userinfo of URLs with or without a scheme", () => {
  assertEquals(redactUserinfo("http://a:b@proxy:3128/x"), "http://***@proxy:3128/x");
  assertEquals(redactUserinfo("a:b@proxy:3128"), "***@proxy:3128");
  assertEquals(redactUserinfo("http://proxy:3128/a@b"), "http://proxy:3128/a@b");
});

Deno.test("bypassesProxy() follows Go's NO_PROXY conventions", () => {
  const rules = parseNoProxy(
    " Example.com, .internal.corp,*.svc.local, 10.0.0.0/8, 192.168.1.7, 172.16.0.9:8443, " +
      "fd00::/8, [2001:db8::1]:443, hub.port.test:9443, :80, ",
  );
  const cases: Array<[string, string, boolean]> = [
    ["example.com", "443", true],
    ["hub.example.com", "443", true],
    ["notexample.com", "443", false],
    ["internal.corp", "443", false], // a leading dot matches subdomains only
    ["hub.internal.corp", "443", true],
    ["a.b.svc.local", "443", true],
    ["svc.local", "443", false],
    ["10.20.30.40", "443", true],
    ["11.0.0.1", "443", false],
    ["192.168.1.7", "9443", true],
    ["::ffff:192.168.1.7", "443", true],
    ["172.16.0.9", "8443", true],
    ["172.16.0.9", "443", false],
    ["fd12::5", "443", true],
    ["2001:db8::1", "443", true],
    ["2001:db8::1", "444", false],
    ["hub.port.test", "9443", true],
    ["hub.port.test", "443", false],
    ["hub.elsewhere", "80", false], // ":80" names no host
    ["localhost", "443", true], // never proxied, as in Go
    ["127.0.0.5", "443", true],
    ["::1", "443", true],
  ];
  for (const [host, port, direct] of cases) {
    assertEquals(bypassesProxy(rules, host, port), direct, `${host}:${port}`);
  }
  assertEquals(bypassesProxy(parseNoProxy("*"), "anything.example", "443"), true);
  assertEquals(bypassesProxy(parseNoProxy(""), "hub.example", "443"), false);
});

Deno.test("egressProxyFor() reads HTTPS_PROXY before https_proxy and applies NO_PROXY", () => {
  const hub = new URL("https://hub.example.com:9443");
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assertEquals(egressProxyFor(hub, env({})), undefined);
  assertEquals(
    egressProxyFor(hub, env({ HTTPS_PROXY: "http://a:3128", https_proxy: "http://b:3128" }))
      ?.hostname,
    "a",
  );
  assertEquals(egressProxyFor(hub, env({ https_proxy: "http://b:3128" }))?.hostname, "b");
  // HTTP_PROXY is for http:// URLs; the hub is https.
  assertEquals(egressProxyFor(hub, env({ HTTP_PROXY: "http://c:3128" })), undefined);
  assertEquals(
    egressProxyFor(hub, env({ HTTPS_PROXY: "http://a:3128", no_proxy: ".example.com" })),
    undefined,
  );
  assertEquals(
    egressProxyFor(hub, env({ HTTPS_PROXY: "http://a:3128", NO_PROXY: "hub.example.com:443" }))
      ?.hostname,
    "a",
  );
  assertEquals(
    egressProxyFor(new URL("https://[fd00::7]"), env({ HTTPS_PROXY: "a:1", NO_PROXY: "fd00::7" })),
    undefined,
  );
  assertThrows(
    () => egressProxyFor(hub, env({ https_proxy: "https://u:pw@p:1" })),
    Error,
    'Invalid https_proxy "https://***@p:1"',
  );
});
