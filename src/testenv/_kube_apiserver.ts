/** Starting one kube-apiserver on loopback with its own certificates, issuer and admin credentials. */
import { type CertificateAuthority, issueCertificate, type IssuedCertificate } from "../pki/mod.ts";
import { freePort } from "./free_port.ts";
import { type ManagedProcess, startManagedProcess } from "./managed_process.ts";
import { waitFor } from "../common/mod.ts";

/** What one API server needs. */
export interface KubeApiServerSpec {
  name: string;
  binary: string;
  etcdUrl: string;
  /** A folder of its own for certificates and logs. */
  dir: string;
  ca: CertificateAuthority;
  admin: IssuedCertificate;
  adminToken: string;
  /** Front proxy of the aggregation layer: the CA that signs its client certificate, and the certificate. */
  frontProxy: { caPem: string; client: IssuedCertificate };
  /** For a cluster with a node: where to listen, the Service range, and how to reach kubelets. */
  node?: KubeApiServerNodeSpec;
  /** An audit policy (YAML): the API server then writes JSON audit events to `<dir>/audit.log`. */
  auditPolicy?: string;
  extraArgs?: string[];
}

/** What an API server of a cluster with a node needs. */
export interface KubeApiServerNodeSpec {
  /** The address it listens and advertises on (the machine's end of the node's link). */
  address: string;
  port: number;
  serviceCidr: string;
  kubernetesServiceIp: string;
  /** Its client certificate for kubelets (exec, logs, port-forward). */
  kubeletClient: IssuedCertificate;
}

/** A running API server. */
export interface RunningKubeApiServer {
  url: string;
  port: number;
  process: ManagedProcess;
  /** The service-account signing key (PEM), which kube-controller-manager also needs. */
  serviceAccountKeyFile: string;
  /** With an audit policy: the JSON audit log. */
  auditLogPath?: string;
}

/**
 * Starts the API server and waits until /readyz is ok and the default namespace exists. A port
 * taken between choosing and binding it (an outgoing connection's ephemeral port, say) is
 * retried with another one.
 */
export async function startKubeApiServer(spec: KubeApiServerSpec): Promise<RunningKubeApiServer> {
  for (let attempt = 1;; attempt++) {
    try {
      return await startOnce(spec, spec.node?.port ?? freePort());
    } catch (error) {
      const clash = (error as Error).message.includes("address already in use");
      if (attempt >= 3 || spec.node || !clash) throw error;
    }
  }
}

async function startOnce(spec: KubeApiServerSpec, port: number): Promise<RunningKubeApiServer> {
  const address = spec.node?.address ?? "127.0.0.1";
  const url = `https://${address}:${port}`;
  const files = await writeApiServerFiles(spec, address);
  const process = await startManagedProcess(
    `kube-apiserver-${spec.name}`,
    spec.binary,
    apiServerArgs(spec, address, port, files),
    { logPath: `${spec.dir}/kube-apiserver.log` },
  );
  try {
    await waitUntilServing(spec, url, process);
  } catch (error) {
    await process.stop(2_000);
    throw new Error(
      `kube-apiserver "${spec.name}" did not start: ${(error as Error).message}\n${await process
        .tail()}`,
    );
  }
  return {
    url,
    port,
    process,
    serviceAccountKeyFile: files.key,
    ...(spec.auditPolicy ? { auditLogPath: files.auditLog } : {}),
  };
}

type ApiServerFiles = Awaited<ReturnType<typeof writeApiServerFiles>>;

/** The serving certificate, the CAs, the front proxy's and kubelet client's keys, the tokens. */
async function writeApiServerFiles(spec: KubeApiServerSpec, address: string) {
  const serving = await issueCertificate(spec.ca, {
    commonName: `kube-apiserver-${spec.name}`,
    dnsNames: [
      "localhost",
      "kubernetes",
      "kubernetes.default",
      "kubernetes.default.svc",
      "kubernetes.default.svc.cluster.local",
    ],
    ipAddresses: [
      ...new Set(["127.0.0.1", address, spec.node?.kubernetesServiceIp ?? "10.0.0.1"]),
    ],
  });
  const files = {
    ca: `${spec.dir}/ca.crt`,
    cert: `${spec.dir}/apiserver.crt`,
    key: `${spec.dir}/apiserver.key`,
    tokens: `${spec.dir}/tokens.csv`,
    frontProxyCa: `${spec.dir}/front-proxy-ca.crt`,
    frontProxyCert: `${spec.dir}/front-proxy-client.crt`,
    frontProxyKey: `${spec.dir}/front-proxy-client.key`,
    kubeletClientCert: `${spec.dir}/apiserver-kubelet-client.crt`,
    kubeletClientKey: `${spec.dir}/apiserver-kubelet-client.key`,
    auditPolicy: `${spec.dir}/audit-policy.yaml`,
    auditLog: `${spec.dir}/audit.log`,
  };
  const secret = { mode: 0o600 };
  await Deno.writeTextFile(files.ca, spec.ca.certificatePem);
  await Deno.writeTextFile(files.cert, serving.certificatePem);
  await Deno.writeTextFile(files.key, serving.privateKeyPem, secret);
  await Deno.writeTextFile(files.frontProxyCa, spec.frontProxy.caPem);
  await Deno.writeTextFile(files.frontProxyCert, spec.frontProxy.client.certificatePem);
  await Deno.writeTextFile(files.frontProxyKey, spec.frontProxy.client.privateKeyPem, secret);
  if (spec.node) {
    await Deno.writeTextFile(files.kubeletClientCert, spec.node.kubeletClient.certificatePem);
    await Deno.writeTextFile(files.kubeletClientKey, spec.node.kubeletClient.privateKeyPem, secret);
  }
  if (spec.auditPolicy) await Deno.writeTextFile(files.auditPolicy, spec.auditPolicy);
  await Deno.writeTextFile(
    files.tokens,
    `${spec.adminToken},mca-admin,mca-admin-uid,"system:masters"\n`,
    secret,
  );
  return files;
}

function apiServerArgs(
  spec: KubeApiServerSpec,
  address: string,
  port: number,
  files: ApiServerFiles,
): string[] {
  const nodeArgs = spec.node
    ? [
      // The Node authorizer and NodeRestriction limit each kubelet to its own node and pods.
      "--authorization-mode=Node,RBAC",
      "--enable-admission-plugins=NodeRestriction",
      `--kubelet-client-certificate=${files.kubeletClientCert}`,
      `--kubelet-client-key=${files.kubeletClientKey}`,
      `--kubelet-certificate-authority=${files.ca}`,
      // Nodes have no DNS name here; their InternalIP is what the kubelet serves on.
      "--kubelet-preferred-address-types=InternalIP",
    ]
    : ["--authorization-mode=RBAC"];
  return [
    `--etcd-servers=${spec.etcdUrl}`,
    `--etcd-prefix=/registry-${spec.name}`,
    `--bind-address=${address}`,
    `--advertise-address=${address}`,
    `--secure-port=${port}`,
    `--cert-dir=${spec.dir}/cert-dir`,
    `--tls-cert-file=${files.cert}`,
    `--tls-private-key-file=${files.key}`,
    `--client-ca-file=${files.ca}`,
    `--token-auth-file=${files.tokens}`,
    ...nodeArgs,
    // The serving key doubles as the service-account signing key; kube-apiserver reads the
    // public half from the certificate (it does not take PKCS#8 keys as public key files).
    `--service-account-issuer=https://${spec.name}.mca.test`,
    `--service-account-key-file=${files.cert}`,
    `--service-account-signing-key-file=${files.key}`,
    `--service-cluster-ip-range=${spec.node?.serviceCidr ?? "10.0.0.0/24"}`,
    // The aggregation layer: the API server proxies aggregated APIs as "front-proxy-client",
    // and calls them (and webhooks behind Services) at their endpoints' addresses.
    `--requestheader-client-ca-file=${files.frontProxyCa}`,
    "--requestheader-allowed-names=front-proxy-client",
    "--requestheader-username-headers=X-Remote-User",
    "--requestheader-group-headers=X-Remote-Group",
    "--requestheader-extra-headers-prefix=X-Remote-Extra-",
    `--proxy-client-cert-file=${files.frontProxyCert}`,
    `--proxy-client-key-file=${files.frontProxyKey}`,
    "--enable-aggregator-routing=true",
    ...(spec.auditPolicy
      ? [
        `--audit-policy-file=${files.auditPolicy}`,
        `--audit-log-path=${files.auditLog}`,
        "--audit-log-format=json",
      ]
      : []),
    "--allow-privileged=true",
    "--profiling=false",
    "--shutdown-delay-duration=0s",
    "--shutdown-send-retry-after=false",
    ...(spec.extraArgs ?? []),
  ];
}

/** Ready, with the "default" namespace made; stops waiting as soon as the process dies. */
async function waitUntilServing(
  spec: KubeApiServerSpec,
  url: string,
  process: { exited: Promise<number> },
): Promise<void> {
  const died = new AbortController();
  process.exited.then((code) => died.abort(new Error(`it exited with code ${code}`)));
  const client = Deno.createHttpClient({ caCerts: [spec.ca.certificatePem] });
  const headers = { Authorization: `Bearer ${spec.adminToken}` };
  try {
    await waitFor(async () => {
      const ready = await fetch(`${url}/readyz`, { client, headers });
      await ready.body?.cancel();
      if (!ready.ok) return false;
      // The bootstrap controller creates "default" shortly after readiness; tests expect it.
      const namespace = await fetch(`${url}/api/v1/namespaces/default`, { client, headers });
      await namespace.body?.cancel();
      return namespace.ok;
    }, {
      timeoutMs: 90_000,
      intervalMs: 200,
      description: `kube-apiserver "${spec.name}" at ${url}`,
      signal: died.signal,
    });
  } finally {
    client.close();
  }
}
