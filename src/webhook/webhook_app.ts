/** The webhook's HTTP surface as a Hono app: /mutate, /mutate-namespace, /healthz, /readyz, /metrics. */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { InjectOptions } from "../inject/mod.ts";
import { type Logger, silentLogger } from "../log/mod.ts";
import {
  type Counter,
  createMetricsRegistry,
  type Histogram,
  type MetricsRegistry,
} from "../metrics/mod.ts";
import {
  type AdmissionReview,
  admissionReviewResponse,
  MalformedReviewError,
  parseAdmissionReview,
} from "./admission_review.ts";
import { type AdmissionDecision, admitPod, type OptIn } from "./admit_pod.ts";

/** What the app needs from its surroundings. */
export interface WebhookAppDeps {
  inject?: InjectOptions;
  logger?: Logger;
  metrics?: MetricsRegistry;
  /** Ready once the serving certificate and the webhook configuration are in place. */
  isReady?: () => boolean;
  /** Set once the webhook stops: every answer then asks its client to close the connection. */
  isStopping?: () => boolean;
  /** Largest AdmissionReview accepted; default 8 MiB (objects are at most 1.5 MiB in etcd). */
  maxBodyBytes?: number;
}

/** The webhook's metrics. */
interface WebhookMetrics {
  requests: Counter;
  admissions: Counter;
  errors: Counter;
  latency: Histogram;
}

/** Builds the app; only the mode's entry point listens. */
export function createWebhookApp(deps: WebhookAppDeps = {}): Hono {
  const logger = deps.logger ?? silentLogger;
  const registry = deps.metrics ?? createMetricsRegistry();
  const metrics = webhookMetrics(registry);
  const maxBodyBytes = deps.maxBodyBytes ?? 8 * 1024 * 1024;
  const limit = bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) => {
      metrics.errors.inc({ kind: "too-large" });
      metrics.requests.inc({ code: "413" });
      return c.json({ error: `AdmissionReview larger than ${maxBodyBytes} bytes` }, 413);
    },
  });
  const mutate = (optIn: OptIn) => (c: Context) =>
    answerReview(c, optIn, { inject: deps.inject ?? {}, logger, metrics });
  const app = new Hono();
  // A client that keeps its connection would send its next review here, after this replica
  // is gone; a new connection reaches one that stays (the endpoints have dropped this one).
  app.use(async (c, next) => {
    await next();
    if (deps.isStopping?.()) c.header("Connection", "close");
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
    metrics.errors.inc({ kind: "internal" });
    logger.error("webhook request failed", { path: c.req.path, error: error.message });
    return c.text("Internal error: the webhook could not decide this admission", 500);
  });
  return app;
}

function webhookMetrics(registry: MetricsRegistry): WebhookMetrics {
  return {
    requests: registry.counter(
      "mca_webhook_requests_total",
      "HTTP requests to the admission endpoints by code",
    ),
    admissions: registry.counter(
      "mca_webhook_admissions_total",
      "Admission decisions by outcome and reason",
    ),
    errors: registry.counter(
      "mca_webhook_errors_total",
      "Requests that could not be handled, by kind",
    ),
    latency: registry.histogram(
      "mca_webhook_admission_duration_seconds",
      "Time to decide one admission",
    ),
  };
}

/** Reads the review, decides, counts and logs the decision, and answers it. */
async function answerReview(
  c: Context,
  optIn: OptIn,
  context: { inject: InjectOptions; logger: Logger; metrics: WebhookMetrics },
): Promise<Response> {
  const { metrics } = context;
  const started = performance.now();
  const review = await readReview(c);
  if (review instanceof Response) {
    metrics.errors.inc({ kind: "malformed" });
    metrics.requests.inc({ code: "400" });
    return review;
  }
  const decision = admitPod(review.request, optIn, context.inject);
  metrics.admissions.inc({ outcome: decision.outcome, reason: decision.reason ?? "" });
  metrics.latency.observe((performance.now() - started) / 1000);
  metrics.requests.inc({ code: "200" });
  if (decision.outcome !== "ignored") logDecision(context.logger, review, decision);
  return c.json(admissionReviewResponse(review.apiVersion, decision.response));
}

/** The review in the body, or the 400 that answers a malformed one. */
async function readReview(c: Context): Promise<AdmissionReview | Response> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return c.json({ error: "Malformed AdmissionReview: the body is not JSON" }, 400);
  }
  try {
    return parseAdmissionReview(body);
  } catch (error) {
    if (!(error instanceof MalformedReviewError)) throw error;
    return c.json({ error: error.message }, 400);
  }
}

function logDecision(logger: Logger, review: AdmissionReview, decision: AdmissionDecision): void {
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
