/** Errors of upstream requests and the status each becomes. */
import { RequestTargetError } from "../request_target.ts";

/** An upstream that cannot be reached or did not answer in time: becomes a 503 Status. */
export class UpstreamUnavailableError extends Error {
  constructor(readonly cluster: string, detail: string) {
    super(`Cluster "${cluster}" is unreachable: ${detail}`);
    this.name = "UpstreamUnavailableError";
  }
}

/** The status for an error of an upstream request: 400 for a refused target, 503 unreachable. */
export function upstreamErrorCode(error: unknown): 400 | 500 | 503 {
  if (error instanceof RequestTargetError) return 400;
  return error instanceof UpstreamUnavailableError ? 503 : 500;
}
