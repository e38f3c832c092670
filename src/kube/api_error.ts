/** Errors returned by the API server, carrying its Status object. */

/** A Kubernetes metav1.Status (https://kubernetes.io/docs/reference/using-api/api-concepts/#status). */
export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata?: Record<string, unknown>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: { reason?: string; message?: string; field?: string }[];
    retryAfterSeconds?: number;
  };
  code: number;
}

/** An API request that failed: the HTTP code and the server's Status (or one built from the body). */
export class KubeApiError extends Error {
  readonly status: Status;
  readonly code: number;

  constructor(status: Status) {
    super(status.message || `Kubernetes API request failed with HTTP ${status.code}`);
    this.name = "KubeApiError";
    this.status = status;
    this.code = status.code;
  }

  /** The Status reason, e.g. "NotFound", "AlreadyExists", "Conflict", "Expired". */
  get reason(): string | undefined {
    return this.status.reason;
  }
}

/** Builds a Status object, as the API server would. */
export function statusOf(
  code: number,
  reason: string,
  message: string,
  details?: Status["details"],
): Status {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

/** Reads a failed response into a KubeApiError; a body that is not a Status becomes its message. */
export async function apiErrorFrom(response: Response, what: string): Promise<KubeApiError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body?.kind === "Status") {
      return new KubeApiError({ ...body, code: body.code ?? response.status });
    }
  } catch {
    // Not JSON: fall through to a Status made from the text.
  }
  const detail = text.trim().slice(0, 512) || response.statusText;
  return new KubeApiError(
    statusOf(
      response.status,
      reasonForCode(response.status),
      `${what}: HTTP ${response.status}: ${detail}`,
    ),
  );
}

function reasonForCode(code: number): string {
  const reasons: Record<number, string> = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
  };
  return reasons[code] ?? "Unknown";
}
