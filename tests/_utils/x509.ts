/**
 * @peculiar/x509 for tests: an independent reader of the certificates src/pki writes (the
 * sidecar's code does not load it, to save memory).
 */
// @peculiar/x509 relies on TypeScript decorator metadata; the polyfill must load before it.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(crypto);

export { x509 };
