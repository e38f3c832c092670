/**
 * In-memory PKI: CAs, server and client certificates, PEM, and CA pins.
 *
 * @module
 */
export * from "./key_pair.ts";
export * from "./pem.ts";
export * from "./certificate_authority.ts";
export * from "./issue_certificate.ts";
export * from "./pin.ts";
