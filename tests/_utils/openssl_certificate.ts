/**
 * Self-signed certificates made by openssl, so that mca's certificate code is checked against
 * an independent writer rather than against itself.
 */
import { assertEquals } from "./assert.ts";
import { runCommand } from "./run_command.ts";

/** Makes a P-256 self-signed certificate in `dir` (cert.pem, key.pem) with extra `openssl req` args. */
export async function opensslSelfSigned(
  dir: string,
  args: string[],
): Promise<{ certificatePem: string; privateKeyPem: string }> {
  const result = await runCommand("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${dir}/key.pem`,
    "-out",
    `${dir}/cert.pem`,
    ...args,
  ]);
  assertEquals(result.code, 0, result.stderr);
  return {
    certificatePem: await Deno.readTextFile(`${dir}/cert.pem`),
    privateKeyPem: await Deno.readTextFile(`${dir}/key.pem`),
  };
}
