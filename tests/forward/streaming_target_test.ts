import { assertEquals } from "../_utils/assert.ts";
import { isStreamingTarget } from "../../src/forward/mod.ts";

// Every spelling kube-apiserver reads as true streams; its headers must leave at once.
const cases: [string, boolean][] = [
  ["/api/v1/namespaces/a/pods?watch=true", true],
  ["/api/v1/namespaces/a/pods?watch=True", true],
  ["/api/v1/namespaces/a/pods?watch=1", true],
  ["/api/v1/namespaces/a/pods?watch=t", true],
  ["/api/v1/namespaces/a/pods?watch", true],
  ["/api/v1/namespaces/a/pods?limit=5&watch=yes", true],
  ["/api/v1/namespaces/a/pods/p/log?follow=True", true],
  ["/api/v1/watch/namespaces/a/pods", true],
  ["/apis/apps/v1/watch/deployments", true],
  ["/api/v1/namespaces/a/pods?watch=false", false],
  ["/api/v1/namespaces/a/pods?watch=FALSE", false],
  ["/api/v1/namespaces/a/pods?watch=0", false],
  ["/api/v1/namespaces/a/pods/p/log?follow=0", false],
  ["/api/v1/namespaces/a/pods?stopwatch=true", false],
  ["/api/v1/namespaces/watch/pods", false],
];

for (const [target, expected] of cases) {
  Deno.test(`isStreamingTarget(${target}) is ${expected}`, () => {
    assertEquals(isStreamingTarget(target), expected);
  });
}
