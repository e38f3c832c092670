import { assert, assertEquals, assertRejects, assertThrows } from "../_utils/assert.ts";
import {
  computeCaPin,
  createCertificateAuthority,
  parseCaPin,
  verifyCaPin,
} from "../../src/pki/mod.ts";

Deno.test("computeCaPin() equals kubeadm's discovery hash computed by openssl", async () => {
  const ca = await createCertificateAuthority();
  const pin = await computeCaPin(ca.certificatePem);
  // The command kubeadm documents for --discovery-token-ca-cert-hash.
  const script =
    "openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -hex | sed 's/^.* //'";
  const child = new Deno.Command("sh", { args: ["-c", script], stdin: "piped", stdout: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(ca.certificatePem));
  await writer.close();
  const output = await child.output();
  assertEquals(pin, `sha256:${new TextDecoder().decode(output.stdout).trim()}`);
});

Deno.test("verifyCaPin() matches the right CA only, also inside a bundle", async () => {
  const one = await createCertificateAuthority();
  const two = await createCertificateAuthority();
  const pin = await computeCaPin(one.certificatePem);
  assert(await verifyCaPin(one.certificatePem, pin));
  assert(!(await verifyCaPin(two.certificatePem, pin)));
  assert(
    await verifyCaPin(
      two.certificatePem + one.certificatePem,
      pin.toUpperCase().replace("SHA256", "sha256"),
    ),
  );
});

Deno.test("parseCaPin() rejects malformed pins with the expected form", async () => {
  assertThrows(() => parseCaPin("md5:abcd"), Error, `expected "sha256:" followed by 64 hex digits`);
  assertThrows(() => parseCaPin("sha256:" + "z".repeat(64)), Error, "Invalid CA pin");
  assertEquals(parseCaPin(" sha256:" + "A".repeat(64)), "sha256:" + "a".repeat(64));
  const ca = await createCertificateAuthority();
  await assertRejects(() => verifyCaPin(ca.certificatePem, "sha256:12"), Error, "Invalid CA pin");
});
