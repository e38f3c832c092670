/**
 * `mca hub --cert-validity` with a lifetime of seconds: the hub renews its serving certificate on
 * both listeners and its replica client certificate while it runs, and keeps answering after the
 * certificates it started with have ended. Certificates are read by a real TLS client.
 */
import tls from "node:tls";
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { startHubFixture } from "../_utils/hub_fixture.ts";
import { type HubProcess, startHubProcess } from "../_utils/hub_process.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { FORWARDED_IDENTITY_HEADER, PEER_COMMON_NAME } from "../../src/hub/mod.ts";
import { issueCertificate, loadCertificateAuthority } from "../../src/pki/mod.ts";
import type { TestCluster } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

const VALIDITY = "--cert-validity=6s";
const VALIDITY_MS = 6_000;

/** The certificate a TLS server presents, as a client that trusts the hub CA sees it. */
interface Presented {
  serial: string;
  notAfter: Date;
}

function presentedCertificate(port: number, caPem: string): Promise<Presented> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca: caPem }, () => {
      const certificate = socket.getPeerCertificate();
      const authorized = socket.authorized;
      socket.destroy();
      if (!authorized) reject(new Error(`TLS to port ${port} is not trusted`));
      else {
        resolve({ serial: certificate.serialNumber, notAfter: new Date(certificate.valid_to) });
      }
    });
    socket.once("error", reject);
  });
}

/** Waits until the server presents a certificate other than `before`, ending later. */
function renewedAfter(port: number, caPem: string, before: Presented): Promise<Presented> {
  return waitFor(async () => {
    const now = await presentedCertificate(port, caPem);
    return now.serial !== before.serial && now.notAfter > before.notAfter ? now : undefined;
  }, { description: `a renewed certificate on port ${port}`, timeoutMs: 8 * VALIDITY_MS });
}

/** Waits until the wall clock is past `time`, with the check asking for a new connection. */
function pastTime(time: Date, check: () => Promise<boolean>, what: string): Promise<true> {
  return waitFor(async () => Date.now() > time.getTime() + 1_000 && await check() || undefined, {
    description: what,
    timeoutMs: 8 * VALIDITY_MS,
  });
}

/** `/healthz` through a client with no connection yet (so a TLS handshake happens now). */
async function healthz(url: string, caPem: string): Promise<number> {
  const client = Deno.createHttpClient({ caCerts: [caPem] });
  try {
    const response = await fetch(`${url}/healthz`, { client });
    await response.body?.cancel();
    return response.status;
  } finally {
    client.close();
  }
}

/** The "serving certificate renewed" lines of a hub's log; fails on any key material in it. */
async function renewalLines(hub: HubProcess): Promise<string[]> {
  const log = await Deno.readTextFile(hub.process.logPath);
  assert(!/PRIVATE KEY/.test(log), "the hub log holds a private key");
  return log.split("\n").filter((line) => line.includes("serving certificate renewed"));
}

e2eTest(
  "mca hub renews its serving certificate while it runs and keeps answering past the first one's end",
  async (env) => {
    const host = env.cluster("host");
    await using dir = await tempDir();
    const namespace = uniqueName("mca-hub-renew");
    await kubectlOk(host, ["create", "namespace", namespace]);
    const hub = await startHubProcess(host, dir.path, { namespace, args: [VALIDITY] });
    try {
      const first = await presentedCertificate(hub.port, hub.caPem);
      assert(
        first.notAfter.getTime() - Date.now() <= VALIDITY_MS,
        `the first certificate ends at ${first.notAfter.toISOString()}, not within the validity`,
      );
      const second = await renewedAfter(hub.port, hub.caPem, first);
      await renewedAfter(hub.port, hub.caPem, second);
      // Past the first certificate's end, a new connection is still trusted and answered.
      await pastTime(
        first.notAfter,
        async () => (await healthz(hub.url, hub.caPem)) === 200,
        "/healthz after the first certificate ended",
      );
      const lines = await renewalLines(hub);
      assert(lines.length >= 2, `renewals logged: ${lines.length}`);
      assertStringIncludes(lines[0]!, "INFO serving certificate renewed notAfter=");
      // The hub CA is never renewed: agents pin it.
      assertEquals((await hubCaSecret(host, namespace)).certPem, hub.caPem);
    } finally {
      await hub.stop();
    }
  },
);

e2eTest(
  "hub replicas renew the peer listener's certificate and their client certificate, and still forward",
  async (env) => {
    const host = env.cluster("host");
    await using dir = await tempDir();
    const fixture = await startHubFixture(env, dir.path, { replicaId: "a", hubArgs: [VALIDITY] });
    let b: HubProcess | undefined;
    try {
      const a = fixture.hub;
      b = await startHubProcess(host, dir.path, {
        namespace: fixture.namespace,
        replica: { id: "b" },
        args: [VALIDITY],
      });
      const member = await fixture.registerMember(env.cluster("east"));
      await fixture.startAgent(member); // dials replica A only
      await waitFor(async () => (await a.agents(member)) === 1, {
        description: "the agent on replica A",
      });
      // B forwards to A with its client certificate; A's peer listener checks it.
      const client = Deno.createHttpClient({ caCerts: [b.caPem] });
      const viaB = async () => {
        const response = await fetch(`${b!.url}/clusters/${member}/api/v1/namespaces/default`, {
          headers: { Authorization: `Bearer ${host.adminToken}` },
          client,
        });
        await response.body?.cancel();
        return response.status === 200;
      };
      try {
        await waitFor(viaB, { description: "replica B to forward to replica A" });
        const startedAt = new Date();

        const peerFirst = await presentedCertificate(a.peerPort!, a.caPem);
        await renewedAfter(a.peerPort!, a.caPem, peerFirst);
        // After the renewal A's peer listener still asks for and checks client certificates.
        const peer = await peerClient(host, fixture.namespace);
        try {
          const asPeer = await fetch(
            `https://127.0.0.1:${a.peerPort}/clusters/${member}/api/v1/namespaces/default`,
            {
              headers: {
                [FORWARDED_IDENTITY_HEADER]: JSON.stringify({
                  username: "mca-admin",
                  groups: ["system:masters"],
                }),
              },
              client: peer,
            },
          );
          assertEquals(asPeer.status, 200, await asPeer.text());
        } finally {
          peer.close();
        }

        // B's first client certificate ends within the validity of its start; its connection to A
        // has been idle since. Forwarding works past that end only with a renewed certificate on
        // a new connection.
        await pastTime(
          new Date(startedAt.getTime() + VALIDITY_MS),
          viaB,
          "replica B to forward after its first client certificate ended",
        );
        const lines = await renewalLines(b);
        assert(lines.length >= 1, "replica B logged no renewal");
        assertStringIncludes(lines[0]!, "peerNotAfter=");
      } finally {
        client.close();
      }
    } finally {
      await b?.stop();
      await fixture.stop();
    }
  },
);

/** The hub CA and its key, from the Secret the hub keeps them in. */
async function hubCaSecret(host: TestCluster, namespace: string) {
  const secret = await host.client.get<{ data?: Record<string, string> }>(
    `/api/v1/namespaces/${namespace}/secrets/mca-hub-ca`,
  );
  return {
    certPem: atob(secret.data?.["ca.crt"] ?? ""),
    keyPem: atob(secret.data?.["ca.key"] ?? ""),
  };
}

/** A client presenting a replica's client certificate, signed by the hub CA. */
async function peerClient(host: TestCluster, namespace: string) {
  const { certPem, keyPem } = await hubCaSecret(host, namespace);
  const ca = await loadCertificateAuthority(certPem, keyPem);
  const certificate = await issueCertificate(ca, {
    commonName: PEER_COMMON_NAME,
    usages: ["client"],
    validityDays: 1,
  });
  return Deno.createHttpClient({
    caCerts: [certPem],
    cert: certificate.certificatePem,
    key: certificate.privateKeyPem,
  });
}
