/** IP addresses and CIDR blocks as NO_PROXY lists them (pure). */

/** An address's bytes: 4 for IPv4 (IPv4-mapped IPv6 included), 16 for IPv6. */
export type IpBytes = Uint8Array;

/** Parses "10.1.2.3", "fd00::1" or "::ffff:10.1.2.3"; undefined when it is no IP address. */
export function parseIp(text: string): IpBytes | undefined {
  const v4 = parseIpv4(text);
  if (v4) return v4;
  const v6 = parseIpv6(text);
  if (!v6) return undefined;
  // IPv4-mapped addresses are the IPv4 address (as Go's net.IP.Equal and To4 treat them).
  const mapped = v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? v6.slice(12) : v6;
}

/** Whether the address is in 127.0.0.0/8 or is ::1. */
export function isLoopback(ip: IpBytes): boolean {
  return ip.length === 4 ? ip[0] === 127 : ip.every((b, i) => b === (i === 15 ? 1 : 0));
}

/** Whether two addresses are the same. */
export function sameIp(a: IpBytes, b: IpBytes): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** A CIDR block: "10.0.0.0/8", "fd00::/8". */
export interface CidrBlock {
  network: IpBytes;
  prefix: number;
}

/** Parses "addr/prefix"; undefined when it is no CIDR block. */
export function parseCidr(text: string): CidrBlock | undefined {
  const slash = text.indexOf("/");
  if (slash < 0 || !/^\d{1,3}$/.test(text.slice(slash + 1))) return undefined;
  // A mapped IPv4 network keeps its IPv6 prefix length only as IPv6 (Go does the same).
  const network = parseIpv4(text.slice(0, slash)) ?? parseIpv6(text.slice(0, slash));
  const prefix = Number(text.slice(slash + 1));
  if (!network || prefix > network.length * 8) return undefined;
  return { network, prefix };
}

/** Whether the block holds the address (an IPv4 address is never in an IPv6 block, and back). */
export function cidrContains(block: CidrBlock, ip: IpBytes): boolean {
  if (block.network.length !== ip.length) return false;
  for (let bit = 0; bit < block.prefix; bit++) {
    const mask = 0x80 >> (bit % 8);
    const byte = bit >> 3;
    if ((block.network[byte]! & mask) !== (ip[byte]! & mask)) return false;
  }
  return true;
}

function parseIpv4(text: string): IpBytes | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  if (!parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255)) {
    return undefined;
  }
  return Uint8Array.from(parts, Number);
}

function parseIpv6(text: string): IpBytes | undefined {
  let groups = text;
  const dotted = text.lastIndexOf(":") >= 0 ? text.slice(text.lastIndexOf(":") + 1) : "";
  if (dotted.includes(".")) {
    // An IPv4 tail ("::ffff:10.1.2.3") is two more 16-bit groups.
    const v4 = parseIpv4(dotted);
    if (!v4) return undefined;
    const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
    groups = `${text.slice(0, -dotted.length)}${hex(v4[0]!, v4[1]!)}:${hex(v4[2]!, v4[3]!)}`;
  }
  const halves = groups.split("::");
  if (halves.length > 2) return undefined;
  const split = (half: string) => (half === "" ? [] : half.split(":"));
  const head = split(halves[0]!);
  const tail = halves.length === 2 ? split(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!all.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return undefined;
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return bytes;
}
