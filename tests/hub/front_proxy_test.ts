/**
 * FrontProxyAuthenticator on a real TLS listener (the hub's public one asks for client
 * certificates and verifies them against the front-proxy CA): who passes, and a CA rotation.
 */
import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { FrontProxyAuthenticator } from "../../src/hub/front_proxy.ts";
import { PublicTls } from "../../src/hub/public_tls.ts";
import type { HubRequest } from "../../src/hub/mod.ts";
import type { RequestHeaderConfig } from "../../src/hub/request_header.ts";
import { listenHttp1 } from "../../src/http1/mod.ts";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  issueCertificate,
  type IssuedCertificate,
} from "../../src/pki/mod.ts";

function configOf(ca: CertificateAuthority): RequestHeaderConfig {
  return {
    caPem: ca.certificatePem,
    allowedNames: ["front-proxy-client"],
    usernameHeaders: ["x-remote-user"],
    uidHeaders: [],
    groupHeaders: ["x-remote-group"],
    extraHeaderPrefixes: ["x-remote-extra-"],
  };
}

async function setUp() {
  const serverCa = await createCertificateAuthority({ commonName: "hub-ca" });
  const frontCa = await createCertificateAuthority({ commonName: "front-proxy-ca" });
  const serving = await issueCertificate(serverCa, {
    commonName: "hub",
    ipAddresses: ["127.0.0.1"],
  });
  const authenticator = new FrontProxyAuthenticator();
  const publicTls = new PublicTls(serving, true);
  const server = await listenHttp1({ hostname: "127.0.0.1", port: 0, tls: publicTls.options() }, {
    request(req, res) {
      res.end(JSON.stringify(authenticator.authenticate(req as unknown as HubRequest)));
    },
    upgrade() {},
  });
  publicTls.attach(server);
  const trust = (ca: CertificateAuthority) => {
    publicTls.setFrontProxyCa(ca.certificatePem);
    authenticator.update(configOf(ca));
  };
  trust(frontCa);
  const ask = async (client: Deno.HttpClient, headers: Record<string, string> = {}) =>
    await (await fetch(`https://127.0.0.1:${server.port}/`, { client, headers })).json();
  const clientWith = (cert?: IssuedCertificate) =>
    Deno.createHttpClient({
      caCerts: [serverCa.certificatePem],
      ...(cert ? { cert: cert.certificatePem, key: cert.privateKeyPem } : {}),
    });
  return { frontCa, server, trust, ask, clientWith };
}

const BOB = { "X-Remote-User": "bob", "X-Remote-Group": "dev" };

Deno.test("FrontProxyAuthenticator takes the caller only from the front proxy's certificate", async () => {
  const { frontCa, server, ask, clientWith } = await setUp();
  const otherCa = await createCertificateAuthority({ commonName: "other-ca" });
  const front = await issueCertificate(frontCa, {
    commonName: "front-proxy-client",
    usages: ["client"],
  });
  const cases: Array<[string, IssuedCertificate | undefined, string]> = [
    ["no certificate", undefined, "only from the host API server's front proxy"],
    [
      "the right name from another CA",
      await issueCertificate(otherCa, { commonName: "front-proxy-client", usages: ["client"] }),
      "only from the host API server's front proxy",
    ],
    [
      "the front-proxy CA with another name",
      await issueCertificate(frontCa, { commonName: "mca-hub-peer", usages: ["client"] }),
      `"mca-hub-peer" is not an allowed front proxy`,
    ],
  ];
  try {
    for (const [what, cert, message] of cases) {
      const client = clientWith(cert);
      try {
        const answer = await ask(client, BOB);
        assertEquals(answer.kind, "refuse", what);
        assertEquals(answer.code, 401, what);
        assertStringIncludes(answer.message, message, what);
      } finally {
        client.close();
      }
    }
    const client = clientWith(front);
    try {
      assertEquals(await ask(client, BOB), {
        kind: "user",
        user: { username: "bob", groups: ["dev"] },
      });
      const nobody = await ask(client, { "X-Remote-Group": "system:masters" });
      assertStringIncludes(nobody.message, "the front proxy named no user");
    } finally {
      client.close();
    }
  } finally {
    await server.close();
  }
});

Deno.test("FrontProxyAuthenticator: after a CA rotation a connection verified with the old CA proves nothing", async () => {
  const { frontCa, server, trust, ask, clientWith } = await setUp();
  const front = await issueCertificate(frontCa, {
    commonName: "front-proxy-client",
    usages: ["client"],
  });
  const client = clientWith(front);
  try {
    assertEquals((await ask(client, BOB)).kind, "user");
    trust(await createCertificateAuthority({ commonName: "front-proxy-ca-2" }));
    // The same kept-alive connection, then new ones: all refused.
    for (let i = 0; i < 2; i++) {
      const answer = await ask(client, BOB);
      assertEquals(answer.code, 401);
    }
    const fresh = clientWith(front);
    try {
      assertEquals((await ask(fresh, BOB)).code, 401);
    } finally {
      fresh.close();
    }
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("FrontProxyAuthenticator refuses everything until it has read the settings", () => {
  const answer = new FrontProxyAuthenticator().authenticate({} as HubRequest);
  assertEquals(answer.kind, "refuse");
  assertStringIncludes((answer as { message: string }).message, "has not read");
});
