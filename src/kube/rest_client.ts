/** A small typed REST client over a KubeTransport: the verbs mca needs, with Status errors. */
import { apiErrorFrom, KubeApiError, type Status } from "./api_error.ts";
import { resourcePath, type ResourceRef } from "./resource_path.ts";
import type { KubeTransport } from "./transport.ts";
import { decodeWatchEvents, type KubeObject, type WatchEvent } from "./watch_stream.ts";

/** A list response. */
export interface KubeList<T = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** Query options of LIST. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: "Exact" | "NotOlderThan";
  timeoutSeconds?: number;
}

/** Query options of WATCH. */
export interface WatchOptions extends Omit<ListOptions, "limit" | "continue"> {
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
  /** Stops the watch; the iteration then ends without an error. */
  signal?: AbortSignal;
}

/** Options of writes. */
export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
}

/** Patch kinds and their content types. */
export type PatchType = "merge" | "strategic" | "json" | "apply";

const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
  apply: "application/apply-patch+yaml",
};

/** The verbs of the REST client. A target is a ResourceRef or a raw path. */
export interface KubeClient {
  readonly transport: KubeTransport;
  /** Sends a raw request; the response is returned whatever its status. */
  request(path: string, init?: RequestInit): Promise<Response>;
  get<T = KubeObject>(target: ResourceRef | string): Promise<T>;
  list<T = KubeObject>(target: ResourceRef | string, options?: ListOptions): Promise<KubeList<T>>;
  watch<T = KubeObject>(
    target: ResourceRef | string,
    options?: WatchOptions,
  ): AsyncGenerator<WatchEvent<T>>;
  create<T = KubeObject>(
    target: ResourceRef | string,
    body: unknown,
    options?: WriteOptions,
  ): Promise<T>;
  replace<T = KubeObject>(
    target: ResourceRef | string,
    body: unknown,
    options?: WriteOptions,
  ): Promise<T>;
  patch<T = KubeObject>(
    target: ResourceRef | string,
    patch: unknown,
    type: PatchType,
    options?: WriteOptions & { force?: boolean },
  ): Promise<T>;
  delete<T = KubeObject | Status>(
    target: ResourceRef | string,
    options?: DeleteOptions,
  ): Promise<T>;
}

/** Options of DELETE. */
export interface DeleteOptions {
  dryRun?: boolean;
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  /** Deletes only this very object: 409 Conflict if it was replaced meanwhile. */
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** Creates a REST client on a transport. */
export function createKubeClient(transport: KubeTransport): KubeClient {
  const call = async <T>(method: string, path: string, init: RequestInit = {}): Promise<T> => {
    const headers = new Headers(init.headers);
    if (!headers.has("Accept")) headers.set("Accept", "application/json");
    const response = await transport.fetch(path, { ...init, method, headers });
    if (!response.ok) throw await apiErrorFrom(response, `${method} ${pathOnly(path)}`);
    return await response.json() as T;
  };
  const json = (body: unknown, contentType = "application/json") => ({
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "Content-Type": contentType },
  });

  return {
    transport,
    request: (path, init) => transport.fetch(path, init),
    get: (target) => call("GET", pathOf(target)),
    list: (target, options = {}) => call("GET", pathOf(target) + query(options)),
    watch: (target, options = {}) => watchEvents(transport, pathOf(target), options),
    create: (target, body, options = {}) =>
      call("POST", pathOf(target) + query(writeQuery(options)), json(body)),
    replace: (target, body, options = {}) =>
      call("PUT", pathOf(target) + query(writeQuery(options)), json(body)),
    patch: (target, patch, type, options = {}) => {
      // Server-side apply requires a field manager.
      const fieldManager = options.fieldManager ?? (type === "apply" ? "mca" : undefined);
      const params = {
        ...writeQuery({ ...options, ...(fieldManager ? { fieldManager } : {}) }),
        force: options.force,
      };
      return call("PATCH", pathOf(target) + query(params), json(patch, PATCH_CONTENT_TYPE[type]));
    },
    delete: (target, options = {}) => {
      const { dryRun, propagationPolicy, preconditions } = options;
      // With a body, the API server reads the DeleteOptions from it alone and ignores the
      // query: dryRun must be in both.
      const body = propagationPolicy || preconditions
        ? json({
          kind: "DeleteOptions",
          apiVersion: "v1",
          ...(dryRun ? { dryRun: ["All"] } : {}),
          ...(propagationPolicy ? { propagationPolicy } : {}),
          ...(preconditions ? { preconditions } : {}),
        })
        : {};
      return call("DELETE", pathOf(target) + query(options.dryRun ? { dryRun: "All" } : {}), body);
    },
  };
}

async function* watchEvents<T>(
  transport: KubeTransport,
  path: string,
  options: WatchOptions,
): AsyncGenerator<WatchEvent<T>> {
  const { signal, ...params } = options;
  const init: RequestInit = {
    headers: { Accept: "application/json" },
    ...(signal ? { signal } : {}),
  };
  let response: Response;
  try {
    response = await transport.fetch(path + query({ ...params, watch: true }), init);
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  }
  if (!response.ok || !response.body) throw await apiErrorFrom(response, `WATCH ${pathOnly(path)}`);
  try {
    for await (const event of decodeWatchEvents<T>(response.body)) {
      // An ERROR event (410 Gone after compaction, say) ends the watch; the caller relists.
      if (event.type === "ERROR") throw new KubeApiError(event.object as unknown as Status);
      yield event;
    }
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  } finally {
    await response.body.cancel().catch(() => {});
  }
}

function pathOf(target: ResourceRef | string): string {
  return typeof target === "string" ? target : resourcePath(target);
}

function pathOnly(path: string): string {
  const question = path.indexOf("?");
  return question < 0 ? path : path.slice(0, question);
}

function writeQuery(options: WriteOptions): Record<string, string | boolean | number | undefined> {
  return {
    ...(options.dryRun ? { dryRun: "All" } : {}),
    ...(options.fieldManager ? { fieldManager: options.fieldManager } : {}),
  };
}

/** Encodes defined options as a query string ("" when none). */
export function query(params: object): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
