import { assert, assertEquals } from "../_utils/assert.ts";
import {
  isAllowedFrontProxyName,
  isRequestHeaderName,
  parseRequestHeaderConfig,
  type RequestHeaderConfig,
  userFromRequestHeaders,
} from "../../src/hub/request_header.ts";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";

/** The data kube-apiserver writes into kube-system/extension-apiserver-authentication. */
const KUBE_DATA = {
  "client-ca-file": "ignored",
  "requestheader-client-ca-file": `${CA}\n`,
  "requestheader-allowed-names": '["front-proxy-client"]',
  "requestheader-username-headers": '["X-Remote-User"]',
  "requestheader-uid-headers": '["X-Remote-Uid"]',
  "requestheader-group-headers": '["X-Remote-Group"]',
  "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
};

function config(): RequestHeaderConfig {
  const parsed = parseRequestHeaderConfig(KUBE_DATA);
  if (parsed instanceof Error) throw parsed;
  return parsed;
}

Deno.test("parseRequestHeaderConfig() reads kube-apiserver's ConfigMap, header names in lower case", () => {
  assertEquals(config(), {
    caPem: `${CA}\n`,
    allowedNames: ["front-proxy-client"],
    usernameHeaders: ["x-remote-user"],
    uidHeaders: ["x-remote-uid"],
    groupHeaders: ["x-remote-group"],
    extraHeaderPrefixes: ["x-remote-extra-"],
  });
});

Deno.test("parseRequestHeaderConfig() takes absent optional lists as empty", () => {
  const parsed = parseRequestHeaderConfig({
    "requestheader-client-ca-file": CA,
    "requestheader-username-headers": '["X-Remote-User"]',
  });
  assert(!(parsed instanceof Error));
  assertEquals(parsed.allowedNames, []);
  assertEquals(parsed.groupHeaders, []);
});

const broken: Array<[string, Record<string, string> | undefined, string]> = [
  ["no data", undefined, "requestheader-client-ca-file"],
  ["no CA", { "requestheader-username-headers": '["X-Remote-User"]' }, "client-ca-file"],
  ["a CA that is not PEM", { ...KUBE_DATA, "requestheader-client-ca-file": "x" }, "ca-file"],
  ["names not JSON", { ...KUBE_DATA, "requestheader-allowed-names": "a,b" }, "allowed-names"],
  ["a list of numbers", { ...KUBE_DATA, "requestheader-group-headers": "[1]" }, "group-headers"],
  ["no username header", { ...KUBE_DATA, "requestheader-username-headers": "[]" }, "username"],
];
for (const [what, data, named] of broken) {
  Deno.test(`parseRequestHeaderConfig() refuses ${what}, naming the key`, () => {
    const parsed = parseRequestHeaderConfig(data);
    assert(parsed instanceof Error);
    assert(parsed.message.includes(named), parsed.message);
  });
}

Deno.test("isAllowedFrontProxyName() checks the common name; an empty list allows any", () => {
  assert(isAllowedFrontProxyName("front-proxy-client", ["front-proxy-client"]));
  assert(!isAllowedFrontProxyName("mca-hub-peer", ["front-proxy-client"]));
  assert(!isAllowedFrontProxyName(undefined, ["front-proxy-client"]));
  assert(!isAllowedFrontProxyName("Front-Proxy-Client", ["front-proxy-client"]));
  assert(isAllowedFrontProxyName("anyone", []));
});

Deno.test("userFromRequestHeaders() reads user, uid, every group and percent-decoded extras", () => {
  const user = userFromRequestHeaders([
    "Host",
    "hub",
    "X-Remote-User",
    "alice",
    "x-remote-uid",
    "u-1",
    "X-Remote-Group",
    "dev, ops",
    "X-Remote-Group",
    "system:authenticated",
    "X-Remote-Extra-Authentication.kubernetes.io%2fcredential-Id",
    "X509SHA256=ab",
    "X-Remote-Extra-Scopes",
    "a",
    "X-Remote-Extra-Scopes",
    "b",
  ], config());
  assertEquals(user, {
    username: "alice",
    uid: "u-1",
    groups: ["dev, ops", "system:authenticated"],
    extra: { "authentication.kubernetes.io/credential-id": ["X509SHA256=ab"], scopes: ["a", "b"] },
  });
});

Deno.test("userFromRequestHeaders() names nobody without a username header value", () => {
  assertEquals(userFromRequestHeaders(["X-Remote-Group", "system:masters"], config()), undefined);
  assertEquals(userFromRequestHeaders(["X-Remote-User", ""], config()), undefined);
});

Deno.test("isRequestHeaderName() covers the configured names and every X-Remote-* header", () => {
  const custom = { ...config(), usernameHeaders: ["x-user"], extraHeaderPrefixes: ["x-extra-"] };
  for (const name of ["x-user", "x-extra-a", "x-remote-user", "x-remote-anything"]) {
    assert(isRequestHeaderName(name, custom), name);
  }
  assert(isRequestHeaderName("x-remote-group", undefined));
  assert(!isRequestHeaderName("accept", custom));
  assert(!isRequestHeaderName("impersonate-user", custom));
});
