/**
 * The address plan of test clusters with nodes (pure). Each running environment holds a slot
 * (0-15); within it, cluster number `index` gets its own /30 link between the machine and the
 * node's network namespace, a pod subnet and a Service range, all inside ranges that belong to
 * the slot alone, so that firewall rules and a sweep can find everything by the slot number.
 */

/** How many environments with nodes can run on one machine at once. */
export const NODE_SLOTS = 16;
/** How many clusters with nodes one environment can have. */
export const MAX_NODE_CLUSTERS = 16;

/** Names and addresses of one cluster's node. */
export interface NodeNetwork {
  slot: number;
  index: number;
  /** Network namespace (a file in /run/netns). */
  netns: string;
  /** The machine's end of the veth pair (the node's end is "eth0" inside the namespace). */
  hostInterface: string;
  /** Address of the machine on the link: the cluster's API server listens here. */
  hostIp: string;
  /** The node's InternalIP (the kubelet and NodePorts listen here). */
  nodeIp: string;
  /** The link, a /30. */
  linkCidr: string;
  /** Pod subnet of the node's CNI bridge, a /24; the bridge holds its first address. */
  podCidr: string;
  podGateway: string;
  /** The cluster's Service range, a /24, routed to the node from the machine. */
  serviceCidr: string;
  /** ClusterIP of the `kubernetes` Service (the first address of the range). */
  kubernetesServiceIp: string;
  /** ClusterIP of the DNS Service. */
  dnsServiceIp: string;
}

/** The address ranges of a whole slot: everything its nodes and pods may talk to. */
export interface SlotNetwork {
  /** iptables chain names and rule comment of the slot. */
  forwardChain: string;
  inputChain: string;
  tag: string;
  /** Prefix of the slot's host interfaces, as an iptables wildcard ("mcate3-+"). */
  interfaceWildcard: string;
  interfacePrefix: string;
  netnsPrefix: string;
  linkRange: string;
  podRange: string;
  serviceRange: string;
}

/** The node network of cluster `index` in `slot`. */
export function planNodeNetwork(slot: number, index: number): NodeNetwork {
  checkSlot(slot);
  if (!Number.isInteger(index) || index < 0 || index >= MAX_NODE_CLUSTERS) {
    throw new Error(
      `A test environment has at most ${MAX_NODE_CLUSTERS} clusters with nodes, not ${index + 1}`,
    );
  }
  const subnet = slot * MAX_NODE_CLUSTERS + index;
  return {
    slot,
    index,
    netns: `${slotNetwork(slot).netnsPrefix}${index}`,
    hostInterface: `${slotNetwork(slot).interfacePrefix}${index}`,
    hostIp: `10.251.${slot}.${index * 4 + 1}`,
    nodeIp: `10.251.${slot}.${index * 4 + 2}`,
    linkCidr: `10.251.${slot}.${index * 4}/30`,
    podCidr: `10.252.${subnet}.0/24`,
    podGateway: `10.252.${subnet}.1`,
    serviceCidr: `10.253.${subnet}.0/24`,
    kubernetesServiceIp: `10.253.${subnet}.1`,
    dnsServiceIp: `10.253.${subnet}.10`,
  };
}

/** The names and ranges shared by every node of `slot`. */
export function slotNetwork(slot: number): SlotNetwork {
  checkSlot(slot);
  const first = slot * MAX_NODE_CLUSTERS;
  return {
    forwardChain: `MCA-TESTENV-${slot}-FWD`,
    inputChain: `MCA-TESTENV-${slot}-IN`,
    tag: `mca-testenv-${slot}`,
    interfaceWildcard: `mcate${slot}-+`,
    interfacePrefix: `mcate${slot}-`,
    netnsPrefix: `mca-testenv-${slot}-`,
    linkRange: `10.251.${slot}.0/24`,
    podRange: `10.252.${first}.0/20`,
    serviceRange: `10.253.${first}.0/20`,
  };
}

function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= NODE_SLOTS) {
    throw new Error(`A test environment slot is 0 to ${NODE_SLOTS - 1}, not "${slot}"`);
  }
}
