/**
 * One real node of a test cluster: containerd, the kubelet and kube-proxy, run in the node's
 * network namespace (nsenter --net only: they share the machine's mount namespace, so their
 * mounts are visible to the sweep) and in the node's cgroup, each under the same guard as every
 * test process.
 */
import { join } from "node:path";
import { renderKubeconfig } from "../kube/mod.ts";
import { type CertificateAuthority, issueCertificate } from "../pki/mod.ts";
import { cgroupProcsFiles, createCgroup, killCgroupTree } from "./_cgroups.ts";
import { runHost, runHostOk } from "./_host_command.ts";
import { type ManagedProcess, startManagedProcess } from "./managed_process.ts";
import type { NodeBinaries } from "./node_binaries.ts";
import {
  cniConfig,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
  type NodePaths,
  nodePaths,
} from "./node_config.ts";
import type { NodeNetwork } from "./node_network.ts";
import type { BuiltImage } from "./image_build.ts";
import { waitFor } from "../common/mod.ts";

/** What a node's container runtime needs (nothing of the cluster: it starts with the API server). */
export interface ContainerRuntimeSpec {
  clusterName: string;
  net: NodeNetwork;
  /** The cluster's folder (configuration, logs). */
  dir: string;
  /** The pod sandbox image (imported unpacked) and the others (unpacked on first use). */
  sandboxImage: BuiltImage;
  images: BuiltImage[];
  onProgress?: (message: string) => void;
}

/** A node's running containerd, with the images imported. */
export interface ContainerRuntime {
  paths: NodePaths;
  containerd: ManagedProcess;
  /** Starts a daemon of this node: in its network namespace and cgroup, guarded. */
  launch(name: string, binary: string, args: string[]): Promise<ManagedProcess>;
  /** Stops containerd and anything else launched (the sweep kills what is left). */
  stop(): Promise<void>;
  killNow(): void;
}

/** What the rest of the node needs. */
export interface NodeSpec {
  clusterName: string;
  nodeName: string;
  net: NodeNetwork;
  dir: string;
  ca: CertificateAuthority;
  apiServerUrl: string;
  binaries: NodeBinaries;
  runtime: ContainerRuntime;
}

/** A running node. */
export interface RunningNode {
  name: string;
  net: NodeNetwork;
  paths: NodePaths;
  processes: { containerd: ManagedProcess; kubelet: ManagedProcess; kubeProxy: ManagedProcess };
  /** Imports an image archive into the node's containerd (for images built after start). */
  importImage(image: BuiltImage): Promise<void>;
  /** Stops the kubelet, the pods' processes, kube-proxy and containerd, in that order. */
  stop(): Promise<void>;
  /** Asks every process to stop without waiting (exit paths; the sweep finishes the job). */
  killNow(): void;
}

/**
 * Starts the node's containerd and imports the images. It needs nothing from the cluster, so
 * it runs while the API server starts.
 */
export async function startContainerRuntime(spec: ContainerRuntimeSpec): Promise<ContainerRuntime> {
  const { net } = spec;
  const paths = nodePaths(net.slot, net.index);
  for (const dir of [spec.dir, paths.run, paths.cniConfDir, paths.kubeletRoot, paths.podLogsDir]) {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  }
  createCgroup(paths.podCgroup);
  createCgroup(paths.daemonCgroup);
  const containerdConfigFile = join(spec.dir, "containerd.toml");
  await Deno.writeTextFile(
    containerdConfigFile,
    containerdConfig(paths, { sandboxImage: spec.sandboxImage.ref, runc: await runcBinary() }),
  );
  await Deno.writeTextFile(
    join(paths.cniConfDir, "10-mca-testenv.conflist"),
    cniConfig(net, paths),
  );
  const started: ManagedProcess[] = [];
  const launch = async (name: string, binary: string, args: string[]) => {
    const process = await startManagedProcess(
      `${name}-${spec.clusterName}`,
      "sh",
      [
        "-c",
        // Joins the node's cgroup in every hierarchy, then becomes the daemon (same pid).
        'IFS=:; for f in $1; do echo $$ >"$f" || exit 125; done; unset IFS; shift; exec "$@"',
        "mca-node-launch",
        cgroupProcsFiles(paths.daemonCgroup).join(":"),
        "nsenter",
        `--net=/run/netns/${net.netns}`,
        "--",
        binary,
        ...args,
      ],
      {
        logPath: join(spec.dir, `${name}.log`),
        env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
      },
    );
    started.push(process);
    return process;
  };
  const stop = async () => {
    // Reverse order: the kubelet and kube-proxy before containerd.
    for (const process of [...started].reverse()) await process.stop();
  };
  try {
    const containerd = await launch("containerd", "containerd", ["--config", containerdConfigFile]);
    await waitForProcess(
      containerd,
      `containerd of "${spec.clusterName}"`,
      async () =>
        (await runHost("ctr", ["--address", paths.containerdSocket, "version"])).code === 0,
    );
    const importing = Date.now();
    await importImage(paths, spec.sandboxImage, { unpack: true });
    for (const image of spec.images) await importImage(paths, image, { unpack: false });
    spec.onProgress?.(
      `Imported ${spec.images.length + 1} images into the node of "${spec.clusterName}" in ${
        ((Date.now() - importing) / 1000).toFixed(1)
      } s`,
    );
    return {
      paths,
      containerd,
      launch,
      stop,
      killNow() {
        for (const process of started) process.killNow();
      },
    };
  } catch (error) {
    await Promise.all(started.map((process) => process.stop(2_000)));
    throw error;
  }
}

/** Starts the kubelet and kube-proxy of a node whose runtime runs. */
export async function startNode(spec: NodeSpec): Promise<RunningNode> {
  const { net, runtime } = spec;
  const { paths } = runtime;
  const files = await writeNodeFiles(spec, paths);
  const kubelet = await runtime.launch("kubelet", spec.binaries.kubelet, [
    `--config=${files.kubeletConfig}`,
    `--kubeconfig=${files.kubeletKubeconfig}`,
    `--root-dir=${paths.kubeletRoot}`,
    `--hostname-override=${spec.nodeName}`,
    `--node-ip=${net.nodeIp}`,
    "--v=1",
  ]);
  const kubeProxy = await runtime.launch("kube-proxy", spec.binaries.kubeProxy, [
    `--config=${files.kubeProxyConfig}`,
    "--v=1",
  ]);
  return {
    name: spec.nodeName,
    net,
    paths,
    processes: { containerd: runtime.containerd, kubelet, kubeProxy },
    importImage: (image) => importImage(paths, image, { unpack: false }),
    async stop() {
      await kubelet.stop();
      // The pods' processes, then kube-proxy, then containerd.
      killCgroupTree(paths.podCgroup);
      await runtime.stop();
    },
    killNow: () => runtime.killNow(),
  };
}

async function writeNodeFiles(spec: NodeSpec, paths: NodePaths) {
  const { net } = spec;
  const dir = spec.dir;
  const kubeletClient = await issueCertificate(spec.ca, {
    commonName: `system:node:${spec.nodeName}`,
    organizations: ["system:nodes"],
    usages: ["client"],
  });
  const kubeletServing = await issueCertificate(spec.ca, {
    commonName: spec.nodeName,
    dnsNames: [spec.nodeName],
    ipAddresses: [net.nodeIp],
  });
  const kubeProxyClient = await issueCertificate(spec.ca, {
    commonName: "system:kube-proxy",
    usages: ["client"],
  });
  const files = {
    ca: join(dir, "ca.crt"),
    kubeletCert: join(dir, "kubelet.crt"),
    kubeletKey: join(dir, "kubelet.key"),
    kubeletKubeconfig: join(dir, "kubelet.kubeconfig"),
    kubeletConfig: join(dir, "kubelet-config.json"),
    kubeProxyKubeconfig: join(dir, "kube-proxy.kubeconfig"),
    kubeProxyConfig: join(dir, "kube-proxy-config.json"),
    resolvConf: join(dir, "resolv.conf"),
  };
  const secret = { mode: 0o600 };
  await Deno.writeTextFile(files.ca, spec.ca.certificatePem);
  await Deno.writeTextFile(files.kubeletCert, kubeletServing.certificatePem);
  await Deno.writeTextFile(files.kubeletKey, kubeletServing.privateKeyPem, secret);
  const kubeconfig = (user: { certPem: string; keyPem: string }) =>
    renderKubeconfig([{
      name: spec.clusterName,
      server: spec.apiServerUrl,
      caPem: spec.ca.certificatePem,
      user,
    }]);
  await Deno.writeTextFile(
    files.kubeletKubeconfig,
    kubeconfig({ certPem: kubeletClient.certificatePem, keyPem: kubeletClient.privateKeyPem }),
    secret,
  );
  await Deno.writeTextFile(
    files.kubeProxyKubeconfig,
    kubeconfig({ certPem: kubeProxyClient.certificatePem, keyPem: kubeProxyClient.privateKeyPem }),
    secret,
  );
  // Pods with dnsPolicy Default get this file: the cluster's DNS, never the machine's resolver.
  await Deno.writeTextFile(files.resolvConf, `nameserver ${net.dnsServiceIp}\n`);
  await Deno.writeTextFile(
    files.kubeletConfig,
    kubeletConfig({
      net,
      paths,
      clientCaFile: files.ca,
      tlsCertFile: files.kubeletCert,
      tlsPrivateKeyFile: files.kubeletKey,
      resolvConf: files.resolvConf,
    }),
  );
  await Deno.writeTextFile(
    files.kubeProxyConfig,
    kubeProxyConfig({ net, nodeName: spec.nodeName, kubeconfig: files.kubeProxyKubeconfig }),
  );
  return files;
}

/**
 * Loads an image archive into the node's containerd, in the namespace the kubelet uses.
 * Without `unpack` only the content is stored: the CRI plugin unpacks an image when a container
 * first needs it, so images no test uses cost a node no unpacking (measured here: importing the
 * test images took 32.5 s with unpacking and 15.7 s without).
 */
async function importImage(
  paths: NodePaths,
  image: BuiltImage,
  options: { unpack: boolean },
): Promise<void> {
  const ctr = ["--address", paths.containerdSocket, "--namespace", "k8s.io"];
  const listed = await runHostOk("ctr", [...ctr, "images", "list", "--quiet"]);
  if (listed.split("\n").includes(image.ref)) return;
  await runHostOk("ctr", [
    ...ctr,
    "images",
    "import",
    ...(options.unpack ? [] : ["--no-unpack"]),
    image.archive,
  ]);
}

async function waitForProcess(
  process: ManagedProcess,
  description: string,
  check: () => Promise<boolean>,
): Promise<void> {
  const died = new AbortController();
  process.exited.then((code) => died.abort(new Error(`it exited with code ${code}`)));
  try {
    await waitFor(check, { timeoutMs: 30_000, description, signal: died.signal });
  } catch (error) {
    throw new Error(
      `${description} did not start: ${(error as Error).message}\n${await process.tail()}`,
    );
  }
}

/** runc from Debian's package (/usr/sbin) or wherever this machine has it. */
async function runcBinary(): Promise<string> {
  for (
    const path of ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"]
  ) {
    if ((await Deno.stat(path).catch(() => undefined))?.isFile) return path;
  }
  return "runc";
}
