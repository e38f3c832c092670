import { toHex } from "../../src/bytes.ts";
import { assertEquals } from "../_utils/assert.ts";
import { parseIpAddress } from "../../src/pki/_ip_address.ts";

const hex = (bytes: Uint8Array | undefined) => bytes && toHex(bytes);

Deno.test("parseIpAddress() reads IPv4 and IPv6 with :: compression and embedded IPv4", () => {
  for (
    const [text, expected] of [
      ["10.0.0.1", "0a000001"],
      ["255.255.255.255", "ffffffff"],
      ["::", "00000000000000000000000000000000"],
      ["::1", "00000000000000000000000000000001"],
      ["fe80::", "fe800000000000000000000000000000"],
      ["2001:db8::ff00:42:8329", "20010db8000000000000ff0000428329"],
      ["2001:0db8:0000:0000:0000:ff00:0042:8329", "20010db8000000000000ff0000428329"],
      ["1:2:3:4:5:6:7::", "00010002000300040005000600070000"],
      ["::ffff:192.0.2.1", "00000000000000000000ffffc0000201"],
      ["1:2:3:4:5:6:1.2.3.4", "00010002000300040005000601020304"],
      ["ABCD::EF", "abcd00000000000000000000000000ef"],
    ] as const
  ) assertEquals(hex(parseIpAddress(text)), expected, text);
});

Deno.test("parseIpAddress() refuses what is not an address", () => {
  for (
    const text of [
      "300.1.1.1",
      "1.2.3",
      "localhost",
      "",
      "1::2::3",
      ":1",
      "1:",
      ":::",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8::",
      "12345::",
      "::1.2.3.4:5",
      "::ffff:300.0.0.1",
      "fe80::1%eth0",
    ]
  ) assertEquals(parseIpAddress(text), undefined, text);
});
