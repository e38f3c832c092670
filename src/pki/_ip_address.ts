/** IP addresses as the bytes of a certificate's iPAddress name: 4 for IPv4, 16 for IPv6. */

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The address's bytes in network order, or undefined if the text is not an IP address. */
export function parseIpAddress(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (IPV4.test(text)) return new Uint8Array(text.split(".").map(Number));
  return text.includes(":") ? parseIpv6(text) : undefined;
}

// RFC 4291 §2.2: eight groups of 16 bits, one run of zero groups written "::", and the last
// 32 bits optionally as dotted IPv4 ("::ffff:10.0.0.1").
function parseIpv6(text: string): Uint8Array<ArrayBuffer> | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = groupsOf(halves[0] ?? "", halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? "", true) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return new Uint8Array(groups.flatMap((group) => [group >> 8, group & 0xff]));
}

/** The 16-bit groups of one side of "::"; the last side may end in dotted IPv4. */
function groupsOf(side: string, mayEndInIpv4: boolean): number[] | undefined {
  if (side === "") return [];
  const parts = side.split(":");
  const groups: number[] = [];
  for (const [index, part] of parts.entries()) {
    if (HEX_GROUP.test(part)) {
      groups.push(parseInt(part, 16));
    } else if (mayEndInIpv4 && index === parts.length - 1 && IPV4.test(part)) {
      const [a = 0, b = 0, c = 0, d = 0] = part.split(".").map(Number);
      groups.push((a << 8) | b, (c << 8) | d);
    } else {
      return undefined;
    }
  }
  return groups;
}
