/** Certificates as mca holds them: the DER and the few fields it reads from it. */
import { toHex } from "../bytes.ts";
import {
  decodeObjectIdentifier,
  decodeTime,
  type DerElement,
  expectTag,
  readDerChildren,
  readDerOnly,
} from "./_der_reader.ts";
import { TAG } from "./_der.ts";
import { OID } from "./_oid.ts";

/** A certificate as DER, with the fields mca reads from it. */
export interface Certificate {
  der: Uint8Array<ArrayBuffer>;
  /** The subject as text for messages, as "CN=alice, O=dev". */
  subject: string;
  /** The subject Name's DER, which the certificates it issues copy verbatim as their issuer. */
  subjectDer: Uint8Array<ArrayBuffer>;
  /** The SubjectPublicKeyInfo's DER; CA pins hash it. */
  subjectPublicKeyInfo: Uint8Array<ArrayBuffer>;
  /** The subjectKeyIdentifier extension's key identifier, if the certificate has one. */
  subjectKeyId: Uint8Array<ArrayBuffer> | undefined;
  notBefore: Date;
  notAfter: Date;
  /** The basicConstraints cA flag: may this certificate sign others. */
  isCa: boolean;
}

/** Takes a DER certificate (RFC 5280 §4.1) apart; throws if it is malformed. */
export function readCertificate(der: Uint8Array<ArrayBuffer>): Certificate {
  const [tbs] = readDerChildren(expectTag(readDerOnly(der), TAG.sequence, "a certificate").content);
  const fields = readDerChildren(expectTag(tbs, TAG.sequence, "a TBSCertificate").content);
  // The version is an optional [0] before the serial number; v1 certificates omit it.
  const rest = fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
  const [, , , validity, subject, publicKeyInfo, ...optional] = rest;
  const [notBefore, notAfter] = readDerChildren(
    expectTag(validity, TAG.sequence, "a validity").content,
  );
  if (!notBefore || !notAfter) throw new Error("Cannot read certificate: invalid validity");
  const extensions = extensionsOf(optional.find((field) => field.tag === 0xa3));
  const constraints = extensions.get(OID.basicConstraints);
  const keyId = extensions.get(OID.subjectKeyIdentifier);
  return {
    der,
    subject: formatName(expectTag(subject, TAG.sequence, "a subject name")),
    subjectDer: subject!.encoded,
    subjectPublicKeyInfo: expectTag(publicKeyInfo, TAG.sequence, "a public key").encoded,
    subjectKeyId: keyId
      ? expectTag(readDerOnly(keyId), TAG.octetString, "a key id").content
      : undefined,
    notBefore: decodeTime(notBefore),
    notAfter: decodeTime(notAfter),
    isCa: constraints !== undefined && isCaConstraint(constraints),
  };
}

/** The extensions' values (the OCTET STRING contents) by object identifier. */
function extensionsOf(
  explicit: DerElement | undefined,
): Map<string, Uint8Array<ArrayBuffer>> {
  const values = new Map<string, Uint8Array<ArrayBuffer>>();
  if (!explicit) return values;
  const list = expectTag(readDerOnly(explicit.content), TAG.sequence, "extensions");
  for (const extension of readDerChildren(list.content)) {
    const parts = readDerChildren(expectTag(extension, TAG.sequence, "an extension").content);
    const oid = expectTag(parts[0], TAG.objectIdentifier, "an extension id");
    const value = expectTag(parts.at(-1), TAG.octetString, "an extension value");
    values.set(decodeObjectIdentifier(oid.content), value.content);
  }
  return values;
}

// BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
function isCaConstraint(value: Uint8Array<ArrayBuffer>): boolean {
  const [first] = readDerChildren(
    expectTag(readDerOnly(value), TAG.sequence, "constraints").content,
  );
  return first?.tag === TAG.boolean && first.content[0] !== 0;
}

const SHORT_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.5": "SERIALNUMBER",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "1.2.840.113549.1.9.1": "E",
  "0.9.2342.19200300.100.1.25": "DC",
};

const TEXT_TAGS: Set<number> = new Set([TAG.utf8String, TAG.printableString, TAG.ia5String]);

/** A Name as "CN=alice, O=dev": RDNs in order, multi-valued ones joined by "+". */
function formatName(name: DerElement): string {
  return readDerChildren(name.content).map((rdn) =>
    readDerChildren(rdn.content).map((attribute) => {
      const [type, value] = readDerChildren(attribute.content);
      const oid = decodeObjectIdentifier(expectTag(type, TAG.objectIdentifier, "a name").content);
      if (!value) throw new Error("Cannot read certificate: invalid name");
      const text = TEXT_TAGS.has(value.tag)
        ? new TextDecoder().decode(value.content).replace(/[,+"\\<>;]/g, "\\$&")
        : "#" + toHex(value.encoded);
      return `${SHORT_NAMES[oid] ?? oid}=${text}`;
    }).join("+")
  ).join(", ");
}
