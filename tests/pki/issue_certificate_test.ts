import https from "node:https";
import type { AddressInfo } from "node:net";
import { assertEquals, assertRejects } from "../_utils/assert.ts";
import { createCertificateAuthority, issueCertificate } from "../../src/pki/mod.ts";
import { x509 } from "../_utils/x509.ts";
import { createTestPki } from "../_utils/test_pki.ts";

Deno.test("issueCertificate() sets SANs, usages, groups and clamps validity to the CA", async () => {
  const ca = await createCertificateAuthority({ validityDays: 30 });
  const leaf = await issueCertificate(ca, {
    commonName: "alice",
    organizations: ["dev", "ops"],
    dnsNames: ["api.example", "localhost"],
    ipAddresses: ["10.0.0.1", "::1"],
    usages: ["server", "client"],
    validityDays: 365,
  });
  const c = new x509.X509Certificate(leaf.certificate.der);
  assertEquals(c.subject, "CN=alice, O=dev, O=ops");
  const names = c.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON();
  assertEquals(names.map((n) => `${n.type}:${n.value}`), [
    "dns:api.example",
    "dns:localhost",
    "ip:10.0.0.1",
    "ip:::1",
  ]);
  assertEquals([...c.getExtension(x509.ExtendedKeyUsageExtension)!.usages], [
    x509.ExtendedKeyUsage.serverAuth,
    x509.ExtendedKeyUsage.clientAuth,
  ]);
  assertEquals(c.getExtension(x509.BasicConstraintsExtension)!.ca, false);
  assertEquals(c.notAfter.getTime(), ca.certificate.notAfter.getTime());
});

Deno.test("issueCertificate() rejects an IP address that is not one", async () => {
  const ca = await createCertificateAuthority();
  await assertRejects(
    () => issueCertificate(ca, { commonName: "x", ipAddresses: ["300.1.1.1"] }),
    Error,
    `Invalid IP address for a certificate: "300.1.1.1"`,
  );
});

Deno.test("a server with an issued certificate is trusted by a client given the CA, refused without it", async () => {
  const pki = await createTestPki();
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      cert: pki.server.certificatePem,
      key: pki.server.privateKeyPem,
      onListen() {},
    },
    () => new Response("hello over tls"),
  );
  try {
    const trusting = Deno.createHttpClient({ caCerts: [pki.ca.certificatePem] });
    const response = await fetch(`https://127.0.0.1:${server.addr.port}/`, { client: trusting });
    assertEquals(await response.text(), "hello over tls");
    trusting.close();

    // The same server, by the DNS name in its certificate.
    const byName = Deno.createHttpClient({ caCerts: [pki.ca.certificatePem] });
    assertEquals(
      await (await fetch(`https://localhost:${server.addr.port}/`, { client: byName })).text(),
      "hello over tls",
    );
    byName.close();

    await assertRejects(() => fetch(`https://127.0.0.1:${server.addr.port}/`), TypeError);
    const other = await createCertificateAuthority();
    const wrong = Deno.createHttpClient({ caCerts: [other.certificatePem] });
    await assertRejects(
      () => fetch(`https://127.0.0.1:${server.addr.port}/`, { client: wrong }),
      TypeError,
    );
    wrong.close();
  } finally {
    await server.shutdown();
  }
});

Deno.test("a client certificate signed by the CA is accepted where client certificates are required", async () => {
  const pki = await createTestPki();
  const server = https.createServer({
    cert: pki.server.certificatePem,
    key: pki.server.privateKeyPem,
    ca: [pki.ca.certificatePem],
    requestCert: true,
    rejectUnauthorized: true,
  }, (req, res) => {
    const peer = (req.socket as unknown as { getPeerCertificate(): { subject: { CN: string } } })
      .getPeerCertificate();
    res.end(`hello ${peer.subject.CN}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const alice = await issueCertificate(pki.ca, { commonName: "alice", usages: ["client"] });
    const withCert = Deno.createHttpClient({
      caCerts: [pki.ca.certificatePem],
      cert: alice.certificatePem,
      key: alice.privateKeyPem,
    });
    assertEquals(await (await fetch(url, { client: withCert })).text(), "hello alice");
    withCert.close();

    const withoutCert = Deno.createHttpClient({ caCerts: [pki.ca.certificatePem] });
    await assertRejects(() => fetch(url, { client: withoutCert }), TypeError);
    withoutCert.close();

    const stranger = await createCertificateAuthority();
    const mallory = await issueCertificate(stranger, { commonName: "mallory", usages: ["client"] });
    const foreign = Deno.createHttpClient({
      caCerts: [pki.ca.certificatePem],
      cert: mallory.certificatePem,
      key: mallory.privateKeyPem,
    });
    await assertRejects(() => fetch(url, { client: foreign }), TypeError);
    foreign.close();
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
