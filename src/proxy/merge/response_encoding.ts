/**
 * Compressing a merged answer the way kube-apiserver compresses its own: gzip at level 1 for
 * answers of 128 KiB or more when the client accepts gzip (client-go always does). The
 * clusters' own answers reach the proxy compressed; sending the merged one uncompressed made
 * a 3 MB list cost more in TLS writes than all the splicing.
 */
import { gzipSync } from "node:zlib";

/** kube-apiserver's threshold and level (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters). */
const GZIP_THRESHOLD_BYTES = 128 * 1024;
const GZIP_LEVEL = 1;

/** True when an Accept-Encoding header allows gzip (a `q=0` refuses it). */
export function acceptsGzip(acceptEncoding: string | string[] | undefined): boolean {
  const text = Array.isArray(acceptEncoding) ? acceptEncoding.join(",") : acceptEncoding ?? "";
  for (const part of text.split(",")) {
    const [coding, ...params] = part.trim().toLowerCase().split(";").map((s) => s.trim());
    if (coding !== "gzip" && coding !== "*") continue;
    const q = params.find((p) => p.startsWith("q="));
    if (!q || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

/** The body to send and its Content-Encoding (none for small bodies or clients without gzip). */
export function encodeBody(
  body: Uint8Array,
  acceptEncoding: string | string[] | undefined,
): { body: Uint8Array; encoding?: "gzip" } {
  if (body.length < GZIP_THRESHOLD_BYTES || !acceptsGzip(acceptEncoding)) return { body };
  return { body: gzipSync(body, { level: GZIP_LEVEL }), encoding: "gzip" };
}
