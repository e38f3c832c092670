/**
 * Requests the sidecar and the hub must refuse with a 4xx Status before anything is forwarded,
 * as kube-apiserver (Go's net/http) refuses them: one table for both, sent by a raw TLS client.
 */

/** A malformed request: what it is, and how to write it for a path and credentials. */
export interface MalformedRequest {
  name: string;
  /** The request's bytes (latin1), for a valid `path` and an `Authorization` line. */
  build(path: string, authorization: string): string;
}

const line = (method: string, target: string) => `${method} ${target} HTTP/1.1\r\n`;
const rest = (authorization: string, extra = "") =>
  `Host: mca.test\r\n${authorization}\r\n${extra}Connection: close\r\n\r\n`;

/** Broken header values and request lines (issue 16, item 10). */
export const MALFORMED_REQUESTS: MalformedRequest[] = [
  { name: "CR in a header value", build: (p, a) => line("GET", p) + rest(a, "X-Test: a\rb\r\n") },
  { name: "LF in a header value", build: (p, a) => line("GET", p) + rest(a, "X-Test: a\nb\r\n") },
  { name: "NUL in a header value", build: (p, a) => line("GET", p) + rest(a, "X-Test: a\0b\r\n") },
  { name: "a lower-case method", build: (p, a) => line("get", p) + rest(a) },
  {
    name: "a non-breaking space in the target",
    build: (p, a) => line("GET", `${p}\xa0x`) + rest(a),
  },
];

/** Targets that are not a plain path below the server (issue 16, item 8). */
export const ESCAPING_TARGETS: string[] = [
  "-2/api/v1/secrets",
  "/../../../v3/users",
  "/api/v1/%2e%2E/%2E%2e/v3/users",
  "/api/v1/namespaces/.%2e/secrets",
  "/api/v1/namespaces/a%2F..%2F..%2Fsecrets",
  "https://evil.example/api/v1/secrets",
  "*",
];
