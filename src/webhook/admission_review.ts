/** AdmissionReview v1 and v1beta1: checked parsing and responses (pure). */

/** The API versions of AdmissionReview the webhook speaks. */
export const REVIEW_VERSIONS = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"] as const;
/** One of REVIEW_VERSIONS. */
export type ReviewVersion = typeof REVIEW_VERSIONS[number];

/** The fields of an admission request the webhook uses. */
export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  namespace?: string;
  name?: string;
  operation: "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
  object?: unknown;
  dryRun?: boolean;
}

/** A checked review. */
export interface AdmissionReview {
  apiVersion: ReviewVersion;
  request: AdmissionRequest;
}

/** What the webhook answers. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patch?: unknown[];
  /** For a refusal: the message kubectl shows and the HTTP-like code. */
  status?: { code: number; message: string; reason?: string };
  warnings?: string[];
}

/** A review that is not one: becomes HTTP 400 with this message. */
export class MalformedReviewError extends Error {
  constructor(message: string) {
    super(`Malformed AdmissionReview: ${message}`);
    this.name = "MalformedReviewError";
  }
}

/** Checks an AdmissionReview body; throws MalformedReviewError naming the first problem. */
export function parseAdmissionReview(body: unknown): AdmissionReview {
  if (typeof body !== "object" || body === null) {
    throw new MalformedReviewError("the body is not a JSON object");
  }
  const review = body as Record<string, unknown>;
  if (review.kind !== "AdmissionReview") {
    throw new MalformedReviewError(`kind is "${review.kind}", not AdmissionReview`);
  }
  if (!REVIEW_VERSIONS.includes(review.apiVersion as ReviewVersion)) {
    throw new MalformedReviewError(
      `apiVersion "${review.apiVersion}" is not one of ${REVIEW_VERSIONS.join(", ")}`,
    );
  }
  const request = review.request as Record<string, unknown> | undefined;
  if (typeof request !== "object" || request === null) {
    throw new MalformedReviewError("request is missing");
  }
  if (typeof request.uid !== "string" || request.uid === "") {
    throw new MalformedReviewError("request.uid is missing");
  }
  for (const field of ["kind", "resource"] as const) {
    if (typeof request[field] !== "object" || request[field] === null) {
      throw new MalformedReviewError(`request.${field} is missing`);
    }
  }
  if (typeof request.operation !== "string") {
    throw new MalformedReviewError("request.operation is missing");
  }
  return {
    apiVersion: review.apiVersion as ReviewVersion,
    request: request as unknown as AdmissionRequest,
  };
}

/** Wraps a response in a review of the same version as the request. */
export function admissionReviewResponse(
  apiVersion: ReviewVersion,
  response: AdmissionResponse,
): unknown {
  const { patch, ...rest } = response;
  return {
    apiVersion,
    kind: "AdmissionReview",
    response: {
      ...rest,
      ...(patch && patch.length > 0
        ? { patchType: "JSONPatch", patch: encodeBase64(JSON.stringify(patch)) }
        : {}),
    },
  };
}

function encodeBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
