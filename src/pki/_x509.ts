// @peculiar/x509 relies on TypeScript decorator metadata; the polyfill must load before it.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(crypto);

export { x509 };
