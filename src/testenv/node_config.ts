/**
 * Configuration of one test node (pure): its folders, containerd's config, the CNI network,
 * the kubelet's and kube-proxy's configuration files. Everything a node writes lives under the
 * slot's folders and cgroup, which is what lets a sweep find it.
 */
import { slotCgroup } from "./_cgroups.ts";
import { slotDirs } from "./_slot.ts";
import type { NodeNetwork } from "./node_network.ts";

/** Where a node keeps its state, and its cgroups (relative to each hierarchy). */
export interface NodePaths {
  /** Runtime folder (tmpfs): sockets, containerd state, runc state, CNI IPAM. */
  run: string;
  /** Persistent folder: containerd root (images, snapshots), kubelet root, pod logs. */
  state: string;
  containerdSocket: string;
  containerdRoot: string;
  containerdState: string;
  runcRoot: string;
  cniConfDir: string;
  cniIpamDir: string;
  kubeletRoot: string;
  podLogsDir: string;
  /** The kubelet's cgroupRoot (pods go below it). */
  podCgroup: string;
  /** Where the node's daemons (containerd and its shims, kubelet, kube-proxy) run. */
  daemonCgroup: string;
}

/** The paths of node `index` in `slot`. */
export function nodePaths(slot: number, index: number): NodePaths {
  const dirs = slotDirs(slot);
  const run = `${dirs.run}/node-${index}`;
  const state = `${dirs.state}/node-${index}`;
  return {
    run,
    state,
    containerdSocket: `${run}/containerd.sock`,
    containerdRoot: `${state}/containerd`,
    containerdState: `${run}/containerd`,
    runcRoot: `${run}/runc`,
    cniConfDir: `${run}/cni`,
    cniIpamDir: `${run}/cni-ipam`,
    kubeletRoot: `${state}/kubelet`,
    podLogsDir: `${state}/pod-logs`,
    podCgroup: `/${slotCgroup(slot)}/node-${index}-pods`,
    daemonCgroup: `/${slotCgroup(slot)}/node-${index}-daemons`,
  };
}

/**
 * containerd 1.6's configuration: a root, state, socket and runc root of its own; overlayfs;
 * the cgroupfs driver (no systemd here); and `restrict_oom_score_adj`, without which every
 * sandbox fails on a machine lacking CAP_SYS_RESOURCE (`runc create failed: ... can't get final
 * child's PID from pipe: EOF`, because runc cannot lower oom_score_adj).
 */
export function containerdConfig(
  paths: NodePaths,
  options: { sandboxImage: string; runc: string },
): string {
  const cri = `plugins."io.containerd.grpc.v1.cri"`;
  const q = JSON.stringify;
  return `version = 2
root = ${q(paths.containerdRoot)}
state = ${q(paths.containerdState)}
# Not needed here; "opt" would create /opt/containerd.
disabled_plugins = [
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = ${q(paths.containerdSocket)}

[ttrpc]
  address = ${q(`${paths.containerdSocket}.ttrpc`)}

[${cri}]
  sandbox_image = ${q(options.sandboxImage)}
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_unprivileged_ports = true
  enable_unprivileged_icmp = true
  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = ${q(options.runc)}
        Root = ${q(paths.runcRoot)}
  [${cri}.cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = ${q(paths.cniConfDir)}
    max_conf_num = 1
`;
}

/** The node's CNI network: a bridge with the pod subnet, host-local addresses, port mappings. */
export function cniConfig(net: NodeNetwork, paths: NodePaths): string {
  return JSON.stringify(
    {
      cniVersion: "0.4.0",
      // libcni names its cached results after the network: the sweep finds them by this prefix.
      name: `mca-testenv-${net.slot}-${net.index}`,
      plugins: [
        {
          type: "bridge",
          bridge: "cni0",
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            ranges: [[{ subnet: net.podCidr, gateway: net.podGateway }]],
            routes: [{ dst: "0.0.0.0/0" }],
            dataDir: paths.cniIpamDir,
          },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

/** What the kubelet's configuration needs. */
export interface KubeletConfigInput {
  net: NodeNetwork;
  paths: NodePaths;
  clientCaFile: string;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  resolvConf: string;
}

/**
 * The kubelet's configuration (KubeletConfiguration v1beta1, as JSON). cgroup v1 is allowed
 * (this machine is hybrid); image garbage collection is off because images cannot be pulled
 * again; eviction thresholds are low so a busy build disk does not evict test pods.
 */
export function kubeletConfig(input: KubeletConfigInput): string {
  return JSON.stringify(
    {
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      address: input.net.nodeIp,
      port: 10250,
      readOnlyPort: 0,
      // Loopback of the node's own network namespace: every node can use the default ports.
      healthzBindAddress: "127.0.0.1",
      healthzPort: 10248,
      cgroupDriver: "cgroupfs",
      cgroupRoot: input.paths.podCgroup,
      failCgroupV1: false,
      failSwapOn: false,
      containerRuntimeEndpoint: `unix://${input.paths.containerdSocket}`,
      podLogsDir: input.paths.podLogsDir,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: input.clientCaFile },
      },
      authorization: { mode: "Webhook" },
      tlsCertFile: input.tlsCertFile,
      tlsPrivateKeyFile: input.tlsPrivateKeyFile,
      clusterDomain: "cluster.local",
      clusterDNS: [input.net.dnsServiceIp],
      resolvConf: input.resolvConf,
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: {
        "memory.available": "100Mi",
        "nodefs.available": "1%",
        "imagefs.available": "1%",
        "nodefs.inodesFree": "1%",
      },
      serializeImagePulls: false,
      rotateCertificates: false,
      serverTLSBootstrap: false,
      // ConfigMap and Secret volumes follow changes within seconds (tests wait for them).
      syncFrequency: "10s",
      shutdownGracePeriod: "0s",
    },
    null,
    2,
  );
}

/** What kube-proxy's configuration needs. */
export interface KubeProxyConfigInput {
  net: NodeNetwork;
  nodeName: string;
  kubeconfig: string;
}

/**
 * kube-proxy's configuration (iptables mode, as JSON). `masqueradeAll` makes a pod that reaches
 * itself or a neighbour through a Service get its replies through the node (no br_netfilter
 * needed), and lets pods of other clusters reach this cluster's Services. Conntrack sizing is
 * the machine's business, not a node's: kube-proxy leaves it alone.
 */
export function kubeProxyConfig(input: KubeProxyConfigInput): string {
  return JSON.stringify(
    {
      apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
      kind: "KubeProxyConfiguration",
      clientConnection: { kubeconfig: input.kubeconfig },
      mode: "iptables",
      hostnameOverride: input.nodeName,
      bindAddress: input.net.nodeIp,
      clusterCIDR: input.net.podCidr,
      healthzBindAddress: "127.0.0.1:10256",
      metricsBindAddress: "127.0.0.1:10249",
      nodePortAddresses: [`${input.net.nodeIp}/32`],
      iptables: { masqueradeAll: true, localhostNodePorts: false },
      conntrack: {
        maxPerCore: 0,
        min: 0,
        tcpEstablishedTimeout: "0s",
        tcpCloseWaitTimeout: "0s",
      },
    },
    null,
    2,
  );
}
