/** The webhook's HTTP surface as a Hono app: /mutate, /mutate-namespace, /healthz, /readyz, /metrics. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { InjectOptions } from "../inject/mod.ts";
import { type Logger, silentLogger } from "../log/mod.ts";
import { createMetricsRegistry, type MetricsRegistry } from "../metrics/mod.ts";
import {
  admissionReviewResponse,
  MalformedReviewError,
  parseAdmissionReview,
} from "./admission_review.ts";
import { admitPod, type OptIn } from "./admit_pod.ts";

/** What the app needs from its surroundings. */
export interface WebhookAppDeps {
  inject?: InjectOptions;
  logger?: Logger;
  metrics?: MetricsRegistry;
  /** Ready once the serving certificate and the webhook configuration are in place. */
  isReady?: () => boolean;
  /** Largest AdmissionReview accepted; default 8 MiB (objects are at most 1.5 MiB in etcd). */
  maxBodyBytes?: number;
}

/** Builds the app; only the mode's entry point listens. */
export function createWebhookApp(deps: WebhookAppDeps = {}): Hono {
  const logger = deps.logger ?? silentLogger;
  const registry = deps.metrics ?? createMetricsRegistry();
  const requests = registry.counter(
    "mca_webhook_requests_total",
    "HTTP requests to the admission endpoints by code",
  );
  const admissions = registry.counter(
    "mca_webhook_admissions_total",
    "Admission decisions by outcome and reason",
  );
  const errors = registry.counter(
    "mca_webhook_errors_total",
    "Requests that could not be handled, by kind",
  );
  const latency = registry.histogram(
    "mca_webhook_admission_duration_seconds",
    "Time to decide one admission",
  );
  const maxBodyBytes = deps.maxBodyBytes ?? 8 * 1024 * 1024;
  const app = new Hono();

  const mutate = (optIn: OptIn) => async (c: import("hono").Context) => {
    const started = performance.now();
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      errors.inc({ kind: "malformed" });
      requests.inc({ code: "400" });
      return c.json({ error: "Malformed AdmissionReview: the body is not JSON" }, 400);
    }
    let review;
    try {
      review = parseAdmissionReview(body);
    } catch (error) {
      if (!(error instanceof MalformedReviewError)) throw error;
      errors.inc({ kind: "malformed" });
      requests.inc({ code: "400" });
      return c.json({ error: error.message }, 400);
    }
    const decision = admitPod(review.request, optIn, deps.inject ?? {});
    admissions.inc({ outcome: decision.outcome, reason: decision.reason ?? "" });
    latency.observe((performance.now() - started) / 1000);
    requests.inc({ code: "200" });
    if (decision.outcome !== "ignored") {
      const pod = review.request.object as
        | { metadata?: { name?: string; generateName?: string } }
        | undefined;
      logger.info("admission", {
        uid: review.request.uid,
        namespace: review.request.namespace,
        pod: pod?.metadata?.name ?? pod?.metadata?.generateName,
        outcome: decision.outcome,
        reason: decision.reason,
        dryRun: review.request.dryRun === true,
      });
    }
    return c.json(admissionReviewResponse(review.apiVersion, decision.response));
  };

  const limit = bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) => {
      errors.inc({ kind: "too-large" });
      requests.inc({ code: "413" });
      return c.json({ error: `AdmissionReview larger than ${maxBodyBytes} bytes` }, 413);
    },
  });
  app.post("/mutate", limit, mutate("pod-label"));
  app.post("/mutate-namespace", limit, mutate("namespace"));
  app.get("/healthz", (c) => c.text("ok"));
  app.get("/readyz", (c) => (deps.isReady?.() ?? true) ? c.text("ok") : c.text("not ready", 503));
  app.get(
    "/metrics",
    (c) => c.text(registry.render(), 200, { "Content-Type": "text/plain; version=0.0.4" }),
  );
  // A fault is an HTTP error, never an AdmissionResponse: the API server then applies the
  // webhook's failurePolicy instead of taking the answer as a decision about the pod.
  app.onError((error, c) => {
    errors.inc({ kind: "internal" });
    logger.error("webhook request failed", { path: c.req.path, error: error.message });
    return c.text("Internal error: the webhook could not decide this admission", 500);
  });
  return app;
}
