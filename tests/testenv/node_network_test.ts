/** The address plan of test nodes: every slot and cluster gets ranges of its own. */
import { assertEquals, assertThrows } from "../_utils/assert.ts";
import {
  MAX_NODE_CLUSTERS,
  NODE_SLOTS,
  planNodeNetwork,
  slotNetwork,
} from "../../src/testenv/mod.ts";

Deno.test("planNodeNetwork() gives cluster 1 of slot 2 its link, pod subnet and Service range", () => {
  const net = planNodeNetwork(2, 1);
  assertEquals(net, {
    slot: 2,
    index: 1,
    netns: "mca-testenv-2-1",
    hostInterface: "mcate2-1",
    hostIp: "10.251.2.5",
    nodeIp: "10.251.2.6",
    linkCidr: "10.251.2.4/30",
    podCidr: "10.252.33.0/24",
    podGateway: "10.252.33.1",
    serviceCidr: "10.253.33.0/24",
    kubernetesServiceIp: "10.253.33.1",
    dnsServiceIp: "10.253.33.10",
  });
});

Deno.test("planNodeNetwork() never gives two nodes of any slots the same name or range", () => {
  const seen = new Map<string, string>();
  for (let slot = 0; slot < NODE_SLOTS; slot++) {
    for (let index = 0; index < MAX_NODE_CLUSTERS; index++) {
      const net = planNodeNetwork(slot, index);
      for (
        const value of [
          net.netns,
          net.hostInterface,
          net.hostIp,
          net.nodeIp,
          net.podCidr,
          net.serviceCidr,
        ]
      ) {
        const owner = `${slot}/${index}`;
        assertEquals(seen.get(value) ?? owner, owner, `"${value}" is given twice`);
        seen.set(value, owner);
      }
      // Interface names fit the kernel's 15 characters.
      assertEquals(net.hostInterface.length <= 15, true);
    }
  }
});

Deno.test("slotNetwork() ranges hold exactly the slot's own addresses", () => {
  const inRange = (ip: string, cidr: string) => {
    const [base, bits] = cidr.split("/");
    const value = (a: string) => a.split(".").reduce((n, part) => n * 256 + Number(part), 0);
    const mask = 2 ** 32 - 2 ** (32 - Number(bits));
    return (value(ip) & mask) >>> 0 === (value(base!) & mask) >>> 0;
  };
  for (const slot of [0, 7, NODE_SLOTS - 1]) {
    const ranges = slotNetwork(slot);
    for (let index = 0; index < MAX_NODE_CLUSTERS; index++) {
      const net = planNodeNetwork(slot, index);
      assertEquals(inRange(net.nodeIp, ranges.linkRange), true);
      assertEquals(inRange(net.podGateway, ranges.podRange), true);
      assertEquals(inRange(net.dnsServiceIp, ranges.serviceRange), true);
    }
    const other = planNodeNetwork((slot + 1) % NODE_SLOTS, 0);
    assertEquals(inRange(other.nodeIp, ranges.linkRange), false);
    assertEquals(inRange(other.podGateway, ranges.podRange), false);
    assertEquals(inRange(other.dnsServiceIp, ranges.serviceRange), false);
  }
});

Deno.test("planNodeNetwork() refuses slots and clusters beyond the plan", () => {
  assertThrows(() => planNodeNetwork(NODE_SLOTS, 0), Error, `slot is 0 to ${NODE_SLOTS - 1}`);
  assertThrows(() => planNodeNetwork(0, MAX_NODE_CLUSTERS), Error, "at most");
  assertThrows(() => planNodeNetwork(-1, 0), Error, "slot");
});
