/** Decoding of watch responses: one JSON event per line, yielded as each line arrives. */

/** A watch event (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes). */
export interface WatchEvent<T = KubeObject> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

/** The common shape of Kubernetes objects. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

/** The fields of metadata mca reads. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** Yields the events of a watch body as they arrive; a partial line waits for the rest. */
export async function* decodeWatchEvents<T = KubeObject>(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<WatchEvent<T>> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) yield parseEvent<T>(line);
    }
  }
  buffer += decoder.decode();
  if (buffer.trim()) yield parseEvent<T>(buffer.trim());
}

function parseEvent<T>(line: string): WatchEvent<T> {
  let event: WatchEvent<T>;
  try {
    event = JSON.parse(line);
  } catch {
    throw new Error(`Cannot decode watch event: not JSON: ${line.slice(0, 200)}`);
  }
  if (typeof event?.type !== "string" || typeof event.object !== "object") {
    throw new Error(`Cannot decode watch event: missing type or object: ${line.slice(0, 200)}`);
  }
  return event;
}
