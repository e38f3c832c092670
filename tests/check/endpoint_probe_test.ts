/** probeEndpoint() against a real TLS server: trusted or why not, and the answer either way. */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { createServer } from "node:https";
import { probeEndpoint } from "../../src/check/mod.ts";
import { createCertificateAuthority, issueCertificate } from "../../src/pki/mod.ts";
import { freePort } from "../../src/testenv/mod.ts";

Deno.test("probeEndpoint() tells a trusted endpoint from a wrong CA, a wrong name and no server", async () => {
  const ca = await createCertificateAuthority({ commonName: "check-ca", validityDays: 10 });
  const other = await createCertificateAuthority({ commonName: "other-ca", validityDays: 10 });
  const leaf = await issueCertificate(ca, {
    commonName: "webhook",
    dnsNames: ["mca-webhook.mca-system.svc"],
    ipAddresses: ["127.0.0.1"],
    validityDays: 5,
  });
  const server = createServer(
    { cert: leaf.certificatePem, key: leaf.privateKeyPem },
    (req, res) => {
      res.writeHead(req.url === "/readyz" ? 503 : 404);
      res.end("not ready");
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const spec = { host: "127.0.0.1", port, path: "/readyz" };
    const trusted = await probeEndpoint({
      ...spec,
      serverName: "mca-webhook.mca-system.svc",
      caPem: ca.certificatePem,
    });
    assert(trusted.reached);
    assertEquals(trusted.trusted, true);
    assertEquals(trusted.answer, { status: 503, body: "not ready" });
    assertEquals(trusted.certificate.notAfter, leaf.certificate.notAfter);
    const byIp = await probeEndpoint({
      ...spec,
      serverName: "127.0.0.1",
      caPem: ca.certificatePem,
    });
    assertEquals(byIp.reached && byIp.trusted, true);

    const wrongCa = await probeEndpoint({
      ...spec,
      serverName: "mca-webhook.mca-system.svc",
      caPem: other.certificatePem,
    });
    assert(wrongCa.reached && !wrongCa.trusted);
    assert(wrongCa.trustError);
    assertEquals(wrongCa.answer.status, 503, "the answer is read even when untrusted");

    const wrongName = await probeEndpoint({
      ...spec,
      serverName: "mca-webhook.elsewhere.svc",
      caPem: ca.certificatePem,
    });
    assert(wrongName.reached && !wrongName.trusted);
  } finally {
    server.close();
  }
  const nothing = await probeEndpoint({
    host: "127.0.0.1",
    port: freePort(),
    serverName: "x",
    caPem: ca.certificatePem,
    path: "/readyz",
  });
  assert(!nothing.reached);
  assertStringIncludes(nothing.address ?? "", "127.0.0.1:");
});
