/**
 * Leaves every mode shares: durations and listen addresses as flags give them, waiting for a
 * condition with a deadline, a bounded expiring cache, and a CA kept in a Secret.
 *
 * @module
 */
export { sameInConstantTime } from "./constant_time.ts";
export { ExpiringCache } from "./expiring_cache.ts";
export { parseDuration, parseDurationOrZero } from "./duration.ts";
export { parseListenAddress } from "./listen_address.ts";
export { waitFor, type WaitForOptions } from "./wait_for.ts";
export { type CaSecretSpec, ensureSharedCa, type SharedCa } from "./ca_secret.ts";
