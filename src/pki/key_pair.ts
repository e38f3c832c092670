/** Key algorithms for generated certificates and how each one signs. */

/** A key algorithm mca can generate. ECDSA P-256 is the default: fast and widely accepted. */
export type KeyAlgorithm = "ecdsa-p256" | "ecdsa-p384" | "rsa-2048" | "rsa-4096";

/** The Web Crypto parameters for one key algorithm. */
export interface KeyAlgorithmParams {
  generate: EcKeyGenParams | RsaHashedKeyGenParams;
  import: EcKeyImportParams | RsaHashedImportParams;
  sign: EcdsaParams | Algorithm;
}

const RSA_PUBLIC_EXPONENT = new Uint8Array([1, 0, 1]);

const PARAMS: Record<KeyAlgorithm, KeyAlgorithmParams> = {
  "ecdsa-p256": {
    generate: { name: "ECDSA", namedCurve: "P-256" },
    import: { name: "ECDSA", namedCurve: "P-256" },
    sign: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams,
  },
  "ecdsa-p384": {
    generate: { name: "ECDSA", namedCurve: "P-384" },
    import: { name: "ECDSA", namedCurve: "P-384" },
    sign: { name: "ECDSA", hash: "SHA-384" } as EcdsaParams,
  },
  "rsa-2048": {
    generate: {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: RSA_PUBLIC_EXPONENT,
      hash: "SHA-256",
    },
    import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    sign: { name: "RSASSA-PKCS1-v1_5" },
  },
  "rsa-4096": {
    generate: {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 4096,
      publicExponent: RSA_PUBLIC_EXPONENT,
      hash: "SHA-256",
    },
    import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    sign: { name: "RSASSA-PKCS1-v1_5" },
  },
};

/** Returns the Web Crypto parameters of a key algorithm. */
export function keyAlgorithmParams(algorithm: KeyAlgorithm): KeyAlgorithmParams {
  return PARAMS[algorithm];
}

/** Generates an extractable key pair for certificates. */
export async function generateKeyPair(
  algorithm: KeyAlgorithm = "ecdsa-p256",
): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(PARAMS[algorithm].generate, true, ["sign", "verify"]);
}

/** Tells which supported key algorithm a public key uses, from its Web Crypto description. */
export function keyAlgorithmOf(key: CryptoKey): KeyAlgorithm {
  const algorithm = key.algorithm as Partial<EcKeyAlgorithm & RsaHashedKeyAlgorithm>;
  if (algorithm.name === "ECDSA" && algorithm.namedCurve === "P-256") return "ecdsa-p256";
  if (algorithm.name === "ECDSA" && algorithm.namedCurve === "P-384") return "ecdsa-p384";
  if (algorithm.name === "RSASSA-PKCS1-v1_5" && algorithm.modulusLength === 2048) return "rsa-2048";
  if (algorithm.name === "RSASSA-PKCS1-v1_5" && algorithm.modulusLength === 4096) return "rsa-4096";
  const size = algorithm.namedCurve ?? algorithm.modulusLength ?? "unknown size";
  throw new Error(`Unsupported key algorithm: "${algorithm.name ?? "unknown"}" (${size})`);
}
