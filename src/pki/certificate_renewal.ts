/**
 * Keeps short-lived certificates fresh in a running server (the webhook, the hub): checks on a
 * timer, renews at two thirds of a certificate's life, logs the outcome, retries after a failure.
 */
import type { Logger } from "../log/mod.ts";

/** What a renewal produced: when the new certificate ends, and other fields worth logging. */
export interface RenewedCertificate {
  notAfter: Date;
  fields?: Record<string, unknown>;
}

/** How to renew, and when. */
export interface CertificateRenewalOptions {
  /** The lifetime certificates are issued with; it sets how often renewal is checked. */
  validityMs: number;
  /** When the certificate in use now ends. */
  notAfter: Date;
  /** Issues new certificates and puts them in use. */
  renew(): Promise<RenewedCertificate>;
  /**
   * Asked first at every check: true renews now even before the certificate is due (the
   * webhook's CA changed, say). A renewal asked for is retried until one succeeds.
   */
  mustRenew?(): Promise<boolean>;
  logger: Logger;
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
}

/** A running renewal. */
export interface CertificateRenewal {
  /** Checks now (the timer does it on its own); resolves when this check is done. */
  check(): Promise<void>;
  /** Stops the timer and waits for a check under way. */
  stop(): Promise<void>;
}

const MIN_CHECK_MS = 1_000;
const MAX_CHECK_MS = 3_600_000;

/**
 * How often renewal is checked: every sixth of the validity, between a second and an hour. A
 * sixth (not a third) lands a renewal due at two thirds before five sixths, however the checks
 * fall against the moment of issue.
 */
export function renewalCheckIntervalMs(validityMs: number): number {
  return Math.max(MIN_CHECK_MS, Math.min(validityMs / 6, MAX_CHECK_MS));
}

/** When a certificate issued at `issuedAt` and ending at `notAfter` is due: two thirds of its life. */
export function renewalDueAt(issuedAt: number, notAfter: Date): number {
  return issuedAt + ((notAfter.getTime() - issuedAt) * 2) / 3;
}

/** Starts checking; the first check comes one interval from now. */
export function startCertificateRenewal(options: CertificateRenewalOptions): CertificateRenewal {
  const now = options.now ?? Date.now;
  const { logger } = options;
  let dueAt = renewalDueAt(now(), options.notAfter);
  let owed = false;
  let running = Promise.resolve();

  const checkOnce = async () => {
    if (await options.mustRenew?.()) owed = true;
    // The clock is read before issuing, so that the time spent issuing counts as the new
    // certificate's life: the next renewal comes early rather than late.
    const startedAt = now();
    if (!owed && startedAt < dueAt) return;
    const renewed = await options.renew();
    owed = false;
    dueAt = renewalDueAt(startedAt, renewed.notAfter);
    logger.info("serving certificate renewed", {
      notAfter: renewed.notAfter.toISOString(),
      ...renewed.fields,
    });
  };
  // One check at a time: a slow one delays the next instead of overlapping it.
  const check = () => {
    running = running.then(checkOnce).catch((error) =>
      logger.error("certificate renewal failed; retrying later", {
        error: (error as Error).message,
      })
    );
    return running;
  };
  const timer = setInterval(check, renewalCheckIntervalMs(options.validityMs));
  return {
    check,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
