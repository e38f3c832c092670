/**
 * The machine's side of the node networks: a network namespace and a veth pair per node, routes
 * to its pods and Services, and firewall rules that keep every node and pod packet on the
 * machine. Forwarding is switched on for the slot's own interfaces only (not the machine-wide
 * ip_forward), and every rule carries the slot's tag so that a sweep finds it.
 */
import { type NodeNetwork, slotNetwork } from "./node_network.ts";
import { runHostOk, runHostSync, runHostSyncOk } from "./_host_command.ts";

/** Port of every API server of an environment with nodes (each listens on its own address). */
export const NODE_API_SERVER_PORT = 6443;

/** One iptables rule: the table, the chain and the rule's own arguments. */
export interface IptablesRule {
  table: "filter";
  chain: string;
  args: string[];
}

/**
 * The slot's firewall (pure). Packets that nodes and pods route through the machine may go only
 * to the slot's links, pods and Services; nothing reaches the slot's interfaces from elsewhere;
 * and the machine itself accepts from them only replies and connections to the API servers.
 */
export function slotFirewall(
  slot: number,
): { chains: string[]; rules: IptablesRule[]; hooks: IptablesRule[] } {
  const net = slotNetwork(slot);
  const comment = ["-m", "comment", "--comment", net.tag];
  const rule = (chain: string, ...args: string[]): IptablesRule => ({
    table: "filter",
    chain,
    args,
  });
  return {
    chains: [net.forwardChain, net.inputChain],
    rules: [
      rule(net.forwardChain, "-d", net.linkRange, "-j", "ACCEPT"),
      rule(net.forwardChain, "-d", net.podRange, "-j", "ACCEPT"),
      rule(net.forwardChain, "-d", net.serviceRange, "-j", "ACCEPT"),
      rule(net.forwardChain, "-j", "DROP"),
      rule(net.inputChain, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"),
      rule(
        net.inputChain,
        "-d",
        net.linkRange,
        "-p",
        "tcp",
        "--dport",
        String(NODE_API_SERVER_PORT),
        "-j",
        "ACCEPT",
      ),
      rule(net.inputChain, "-j", "DROP"),
    ],
    // Inserted at the top of the built-in chains, in this order (each goes first).
    hooks: [
      rule("FORWARD", "-o", net.interfaceWildcard, ...comment, "-j", "DROP"),
      rule("FORWARD", "-i", net.interfaceWildcard, ...comment, "-j", net.forwardChain),
      rule("INPUT", "-i", net.interfaceWildcard, ...comment, "-j", net.inputChain),
    ],
  };
}

/** Creates the slot's chains and hooks them into FORWARD and INPUT. */
export async function setUpSlotFirewall(slot: number): Promise<void> {
  const firewall = slotFirewall(slot);
  for (const chain of firewall.chains) await runHostOk("iptables", ["-w", "-N", chain]);
  for (const rule of firewall.rules) {
    await runHostOk("iptables", ["-w", "-t", rule.table, "-A", rule.chain, ...rule.args]);
  }
  for (const rule of firewall.hooks) {
    await runHostOk("iptables", ["-w", "-t", rule.table, "-I", rule.chain, "1", ...rule.args]);
  }
}

/**
 * Removes every rule tagged with the slot from FORWARD and INPUT, then the slot's chains.
 * Works from what iptables lists, so it also removes rules an older layout left. Synchronous:
 * it runs on exit paths too.
 */
export function removeSlotFirewall(slot: number): void {
  const net = slotNetwork(slot);
  for (const chain of ["FORWARD", "INPUT"]) {
    const listed = runHostSync("iptables", ["-w", "-S", chain]);
    for (const line of listed.stdout.split("\n")) {
      const words = line.split(" ");
      const at = words.indexOf("--comment");
      if (words[0] !== "-A" || at < 0 || words[at + 1] !== net.tag) continue;
      runHostSyncOk("iptables", ["-w", "-D", ...words.slice(1)]);
    }
  }
  for (const chain of [net.forwardChain, net.inputChain]) {
    if (runHostSync("iptables", ["-w", "-S", chain]).code !== 0) continue;
    runHostSyncOk("iptables", ["-w", "-F", chain]);
    runHostSyncOk("iptables", ["-w", "-X", chain]);
  }
}

/** iptables rules and chains still tagged with the slot, as iptables lists them (for checks). */
export function listSlotRules(slot: number): string[] {
  const net = slotNetwork(slot);
  const found: string[] = [];
  for (const chain of ["FORWARD", "INPUT"]) {
    const listed = runHostSync("iptables", ["-w", "-S", chain]);
    found.push(...listed.stdout.split("\n").filter((line) => line.split(" ").includes(net.tag)));
  }
  for (const chain of [net.forwardChain, net.inputChain]) {
    if (runHostSync("iptables", ["-w", "-S", chain]).code === 0) found.push(`-N ${chain}`);
  }
  return found;
}

/**
 * Makes the node's network namespace, joined to the machine by a veth pair: the node's end is
 * `eth0` with the node address and a default route to the machine; the machine routes the
 * node's pod subnet and Service range to it.
 */
export async function setUpNodeLink(net: NodeNetwork): Promise<void> {
  const inNode = ["-n", net.netns];
  await runHostOk("ip", ["netns", "add", net.netns]);
  await runHostOk("ip", [
    "link",
    "add",
    net.hostInterface,
    "type",
    "veth",
    "peer",
    "name",
    "eth0",
    "netns",
    net.netns,
  ]);
  await runHostOk("ip", ["addr", "add", `${net.hostIp}/30`, "dev", net.hostInterface]);
  await runHostOk("ip", ["link", "set", net.hostInterface, "up"]);
  // Forwarding for this interface alone: a packet is forwarded only when both the interface
  // it came in on and the one it leaves by allow it, so the machine's other interfaces stay
  // closed even when the global ip_forward is 0.
  await Deno.writeTextFile(`/proc/sys/net/ipv4/conf/${net.hostInterface}/forwarding`, "1");
  await runHostOk("ip", [...inNode, "link", "set", "lo", "up"]);
  await runHostOk("ip", [...inNode, "addr", "add", `${net.nodeIp}/30`, "dev", "eth0"]);
  await runHostOk("ip", [...inNode, "link", "set", "eth0", "up"]);
  await runHostOk("ip", [...inNode, "route", "add", "default", "via", net.hostIp]);
  // The node routes between its pods' bridge and eth0.
  await runHostOk("nsenter", [
    `--net=/run/netns/${net.netns}`,
    "sysctl",
    "-qw",
    "net.ipv4.ip_forward=1",
  ]);
  await runHostOk("ip", ["route", "add", net.podCidr, "via", net.nodeIp]);
  await runHostOk("ip", ["route", "add", net.serviceCidr, "via", net.nodeIp]);
}

/** Deletes the slot's veth pairs and network namespaces (their routes go with them). */
export function removeSlotLinks(slot: number): void {
  for (const name of slotInterfaces(slot)) runHostSync("ip", ["link", "del", name]);
  for (const name of slotNamespaces(slot)) {
    const result = runHostSync("ip", ["netns", "del", name]);
    if (result.code !== 0 && slotNamespaces(slot).includes(name)) {
      throw new Error(`Cannot delete network namespace "${name}": ${result.stderr.trim()}`);
    }
  }
}

/** The slot's interfaces on the machine's side. */
export function slotInterfaces(slot: number): string[] {
  const prefix = slotNetwork(slot).interfacePrefix;
  const listed = runHostSyncOk("ip", ["-o", "link", "show"]);
  return listed.split("\n")
    .map((line) => line.split(": ")[1]?.split("@")[0] ?? "")
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)));
}

/** The slot's network namespaces (files in /run/netns). */
export function slotNamespaces(slot: number): string[] {
  const prefix = slotNetwork(slot).netnsPrefix;
  const names: string[] = [];
  try {
    for (const entry of Deno.readDirSync("/run/netns")) {
      if (entry.name.startsWith(prefix) && /^\d+$/.test(entry.name.slice(prefix.length))) {
        names.push(entry.name);
      }
    }
  } catch {
    // No /run/netns: no namespaces.
  }
  return names;
}
