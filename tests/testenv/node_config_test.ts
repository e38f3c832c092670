/** A test node's configuration: its files and cgroups stay inside its slot, and the settings this machine needs are there. */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import {
  cniConfig,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
  nodePaths,
} from "../../src/testenv/node_config.ts";
import { planNodeNetwork, shimSocket } from "../../src/testenv/mod.ts";
import { slotFirewall } from "../../src/testenv/_host_network.ts";
import { cgroupMounts } from "../../src/testenv/_cgroups.ts";

const net = planNodeNetwork(3, 1);
const paths = nodePaths(3, 1);

Deno.test("nodePaths() keeps every folder and cgroup of a node under its slot", () => {
  for (const [name, path] of Object.entries(paths)) {
    if (name.endsWith("Cgroup")) {
      assert(path.startsWith("/mca-testenv-3/node-1-"), `${name}: ${path}`);
    } else {
      assert(
        path.startsWith("/run/mca-testenv/3/node-1") ||
          path.startsWith("/var/lib/mca-testenv/3/node-1"),
        `${name}: ${path}`,
      );
    }
  }
  // A unix socket path must fit in 108 bytes.
  assert(paths.containerdSocket.length < 100);
});

Deno.test("containerdConfig() restricts oom_score_adj and keeps state, sockets and runc under the node's folders", () => {
  const toml = containerdConfig(paths, {
    sandboxImage: "mca.local/pause:abc",
    runc: "/usr/sbin/runc",
  });
  assertStringIncludes(toml, "restrict_oom_score_adj = true");
  assertStringIncludes(toml, `root = "${paths.containerdRoot}"`);
  assertStringIncludes(toml, `state = "${paths.containerdState}"`);
  assertStringIncludes(toml, `address = "${paths.containerdSocket}"`);
  assertStringIncludes(toml, `Root = "${paths.runcRoot}"`);
  assertStringIncludes(toml, "SystemdCgroup = false");
  assertStringIncludes(toml, 'sandbox_image = "mca.local/pause:abc"');
  assertStringIncludes(toml, "netns_mounts_under_state_dir = true");
  assertStringIncludes(toml, '"io.containerd.internal.v1.opt"');
});

Deno.test("cniConfig() bridges the node's pod subnet with its IPAM state in the node's folder", () => {
  const config = JSON.parse(cniConfig(net, paths));
  assertEquals(config.name, "mca-testenv-3-1");
  const bridge = config.plugins[0];
  assertEquals(bridge.ipam.ranges, [[{ subnet: net.podCidr, gateway: net.podGateway }]]);
  assertEquals(bridge.ipam.dataDir, paths.cniIpamDir);
  assertEquals(bridge.ipMasq, false, "pods keep their addresses across clusters");
});

Deno.test("kubeletConfig() serves on the node address, uses the cluster DNS and never collects images", () => {
  const config = JSON.parse(kubeletConfig({
    net,
    paths,
    clientCaFile: "/x/ca.crt",
    tlsCertFile: "/x/kubelet.crt",
    tlsPrivateKeyFile: "/x/kubelet.key",
    resolvConf: "/x/resolv.conf",
  }));
  assertEquals(config.address, net.nodeIp);
  assertEquals(config.clusterDNS, [net.dnsServiceIp]);
  assertEquals(config.cgroupRoot, paths.podCgroup);
  assertEquals(config.failCgroupV1, false);
  assertEquals(config.imageGCHighThresholdPercent, 100);
  assertEquals(config.authentication.anonymous.enabled, false);
  assertEquals(config.authorization.mode, "Webhook");
});

Deno.test("kubeProxyConfig() masquerades Service traffic and leaves the machine's conntrack alone", () => {
  const config = JSON.parse(kubeProxyConfig({ net, nodeName: "n", kubeconfig: "/x/k" }));
  assertEquals(config.mode, "iptables");
  assertEquals(config.iptables.masqueradeAll, true);
  assertEquals(config.conntrack.maxPerCore, 0);
  assertEquals(config.nodePortAddresses, [`${net.nodeIp}/32`]);
});

Deno.test("slotFirewall() drops forwarded traffic outside the slot and tags every hook", () => {
  const firewall = slotFirewall(3);
  const forward = firewall.rules.filter((rule) => rule.chain === "MCA-TESTENV-3-FWD");
  assertEquals(forward.at(-1)?.args, ["-j", "DROP"]);
  assertEquals(
    forward.slice(0, -1).map((rule) => rule.args[1]),
    ["10.251.3.0/24", "10.252.48.0/20", "10.253.48.0/20"],
  );
  for (const hook of firewall.hooks) {
    assertStringIncludes(hook.args.join(" "), "--comment mca-testenv-3");
    assertStringIncludes(hook.args.join(" "), "mcate3-+");
  }
  const input = firewall.rules.filter((rule) => rule.chain === "MCA-TESTENV-3-IN");
  assertEquals(input.at(-1)?.args, ["-j", "DROP"]);
});

Deno.test("shimSocket() names the socket containerd 1.6 gives a shim", () => {
  const argv = [
    "/usr/bin/containerd-shim-runc-v2",
    "-namespace",
    "k8s.io",
    "-id",
    "abc",
    "-address",
    "/run/mca-testenv/0/node-0/containerd.sock",
  ];
  // sha256("/run/mca-testenv/0/node-0/containerd.sock/k8s.io/abc")
  assertEquals(
    shimSocket(argv),
    "/run/containerd/s/" +
      new TextDecoder().decode(
        new Deno.Command("sh", {
          args: [
            "-c",
            "printf %s /run/mca-testenv/0/node-0/containerd.sock/k8s.io/abc | sha256sum | cut -d' ' -f1",
          ],
          stdout: "piped",
        }).outputSync().stdout,
      ).trim(),
  );
  assertEquals(shimSocket(["/usr/bin/containerd", "-address", "x"]), undefined);
});

Deno.test("cgroupMounts() reads v1 and v2 hierarchies from mountinfo", () => {
  const mountinfo = [
    "30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:8 - cgroup cgroup rw,memory",
    "31 25 0:27 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw",
    "32 25 0:28 / /sys/fs/cgroup/name\\040with\\040space rw - cgroup cgroup rw,name=x",
    "33 25 0:29 / /proc rw - proc proc rw",
  ].join("\n");
  assertEquals(cgroupMounts(mountinfo), [
    { path: "/sys/fs/cgroup/memory", version: 1 },
    { path: "/sys/fs/cgroup/unified", version: 2 },
    { path: "/sys/fs/cgroup/name with space", version: 1 },
  ]);
});
