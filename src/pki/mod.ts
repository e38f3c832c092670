/**
 * In-memory PKI: CAs, server and client certificates, PEM, CA pins, and renewal of certificates
 * in use. Certificates are written and read by a small DER codec on Web Crypto rather than a
 * general X.509 library, to keep the sidecar (which imports this module) small in memory.
 *
 * @module
 */
export * from "./key_pair.ts";
export * from "./certificate.ts";
export * from "./pem.ts";
export * from "./certificate_authority.ts";
export * from "./issue_certificate.ts";
export * from "./pin.ts";
export * from "./certificate_renewal.ts";
export { DAY_MS } from "./_validity.ts";
export * from "./trust_set.ts";
