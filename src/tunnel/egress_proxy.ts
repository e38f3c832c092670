/**
 * The agent's egress proxy from `HTTPS_PROXY` and `NO_PROXY` (pure), with the conventions of
 * Go's net/http/httpproxy, which Kubernetes components and most operators' tooling follow.
 */
import {
  type CidrBlock,
  cidrContains,
  isLoopback,
  parseCidr,
  parseIp,
  sameIp,
} from "./_ip_address.ts";

/** An HTTP proxy to open CONNECT tunnels through. */
export interface EgressProxy {
  hostname: string;
  port: number;
  /** The `Proxy-Authorization` value, when the proxy URL carries credentials. */
  authorization?: string;
  /** "host:port", for messages: never the credentials. */
  address: string;
}

/** One entry of NO_PROXY. */
export type NoProxyRule =
  | { kind: "all" }
  | { kind: "ip"; ip: Uint8Array; port: string }
  | { kind: "cidr"; block: CidrBlock }
  /** `suffix` starts with "."; `exact` also matches the name without the dot. */
  | { kind: "domain"; suffix: string; exact: boolean; port: string };

/** Reads environment variables (Deno.env.get at the edge, a record in tests). */
export type EnvLookup = (name: string) => string | undefined;

/**
 * The proxy to reach `url` (an https URL) through: HTTPS_PROXY (or https_proxy) unless NO_PROXY
 * (or no_proxy) exempts the host. Like Go, "localhost" and loopback addresses are never proxied.
 * Throws a message naming the variable, with any credentials left out.
 */
export function egressProxyFor(url: URL, env: EnvLookup): EgressProxy | undefined {
  const [name, value] = firstSet(env, "HTTPS_PROXY", "https_proxy");
  if (!value) return undefined;
  const proxy = parseProxyUrl(value, name);
  const [, noProxy] = firstSet(env, "NO_PROXY", "no_proxy");
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port || (url.protocol === "http:" ? "80" : "443");
  return bypassesProxy(parseNoProxy(noProxy ?? ""), hostname, port) ? undefined : proxy;
}

/** Parses a proxy URL; "proxy:3128" means http://. Only http:// proxies are supported. */
export function parseProxyUrl(text: string, source = "HTTPS_PROXY"): EgressProxy {
  const fail = (reason: string) =>
    new Error(`Invalid ${source} "${redactUserinfo(text)}": ${reason}`);
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw fail("not a URL");
  }
  if (url.protocol === "https:") {
    throw fail("TLS to the proxy (https://) is not supported: use an http:// proxy URL");
  }
  if (url.protocol !== "http:") throw fail(`the scheme "${url.protocol}" is not supported`);
  if (!url.hostname) throw fail("no host");
  const port = Number(url.port || 80);
  const address = `${url.hostname}:${port}`;
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!url.username && !url.password) return { hostname, port, address };
  let credentials: string;
  try {
    credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  } catch {
    throw fail("the credentials are not valid percent-encoding");
  }
  const bytes = new TextEncoder().encode(credentials);
  const authorization = `Basic ${btoa(String.fromCharCode(...bytes))}`;
  return { hostname, port, authorization, address };
}

/** Parses NO_PROXY: comma-separated names, ".suffixes", "*.suffixes", IPs, CIDRs, ":port"s, "*". */
export function parseNoProxy(text: string): NoProxyRule[] {
  const rules: NoProxyRule[] = [];
  for (const raw of text.split(",")) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return [{ kind: "all" }];
    const block = parseCidr(entry);
    if (block) {
      rules.push({ kind: "cidr", block });
      continue;
    }
    let [host, port] = splitHostPort(entry) ?? [entry, ""];
    if (host === "") continue; // ":80" names no host: ignored, as Go does
    const ip = parseIp(host);
    if (ip) {
      rules.push({ kind: "ip", ip, port });
      continue;
    }
    if (host.startsWith("*.")) host = host.slice(1);
    const exact = !host.startsWith(".");
    rules.push({ kind: "domain", suffix: asciiName(exact ? `.${host}` : host), exact, port });
  }
  return rules;
}

/** Whether NO_PROXY (or the loopback rule) sends `hostname:port` direct. */
export function bypassesProxy(rules: NoProxyRule[], hostname: string, port: string): boolean {
  const host = hostname.toLowerCase();
  if (host === "localhost") return true;
  const ip = parseIp(host);
  if (ip && isLoopback(ip)) return true;
  return rules.some((rule) => {
    switch (rule.kind) {
      case "all":
        return true;
      case "cidr":
        return ip !== undefined && cidrContains(rule.block, ip);
      case "ip":
        return ip !== undefined && sameIp(rule.ip, ip) && (rule.port === "" || rule.port === port);
      case "domain":
        return (host.endsWith(rule.suffix) || (rule.exact && host === rule.suffix.slice(1))) &&
          (rule.port === "" || rule.port === port);
    }
  });
}

/** The URL with its userinfo replaced, for messages. */
export function redactUserinfo(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@]*@/i, "$1***@");
}

function firstSet(env: EnvLookup, ...names: string[]): [string, string | undefined] {
  for (const name of names) {
    const value = env(name);
    if (value) return [name, value];
  }
  return [names[0]!, undefined];
}

/** "host:port", "[v6]:port" and "[v6]" split; undefined for anything else (no port). */
function splitHostPort(entry: string): [string, string] | undefined {
  const match = /^\[([^\]]*)\](?::(\d+))?$/.exec(entry) ?? /^([^:]*):(\d+)$/.exec(entry);
  return match ? [match[1]!, match[2] ?? ""] : undefined;
}

/** The name in ASCII (punycode), as URL host names are; unchanged when it is no valid name. */
function asciiName(suffix: string): string {
  try {
    return `.${new URL(`http://x${suffix}`).hostname.slice(2)}`;
  } catch {
    return suffix;
  }
}
