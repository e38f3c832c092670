/** Minimal JSON Patch (RFC 6902) between two JSON values, and its application (pure). */

/** One JSON Patch operation; only the three a diff needs. */
export type JsonPatchOperation =
  | { op: "add"; path: string; value: unknown }
  | { op: "replace"; path: string; value: unknown }
  | { op: "remove"; path: string };

/** Escapes one path segment (RFC 6901). */
export function escapePointer(segment: string | number): string {
  return String(segment).replaceAll("~", "~0").replaceAll("/", "~1");
}

/**
 * The operations that turn `before` into `after`. Objects are compared key by key; array items
 * are aligned by name (or value), so inserting a container is one `add` and changing one is a
 * few ops inside it.
 */
export function diffJson(before: unknown, after: unknown, path = ""): JsonPatchOperation[] {
  if (deepEqual(before, after)) return [];
  if (isObject(before) && isObject(after)) {
    const ops: JsonPatchOperation[] = [];
    for (const key of Object.keys(before)) {
      if (!(key in after)) ops.push({ op: "remove", path: `${path}/${escapePointer(key)}` });
    }
    for (const [key, value] of Object.entries(after)) {
      const child = `${path}/${escapePointer(key)}`;
      if (!(key in before)) ops.push({ op: "add", path: child, value });
      else ops.push(...diffJson(before[key], value, child));
    }
    return ops;
  }
  if (Array.isArray(before) && Array.isArray(after)) return diffArray(before, after, path);
  return [{ op: "replace", path, value: after }];
}

function diffArray(before: unknown[], after: unknown[], path: string): JsonPatchOperation[] {
  const matches = alignArrays(before.map(identity), after.map(identity));
  const ops: JsonPatchOperation[] = [];
  let i = 0; // position in before
  let j = 0; // position in after
  let k = 0; // position in the array as patched so far
  for (const [matchI, matchJ] of [...matches, [before.length, after.length] as const]) {
    // Items before the next match: old ones go, new ones come, at the current position.
    for (; i < matchI; i++) ops.push({ op: "remove", path: `${path}/${k}` });
    for (; j < matchJ; j++, k++) ops.push({ op: "add", path: `${path}/${k}`, value: after[j] });
    if (matchI < before.length) {
      // Matched items (same name, or equal) are patched in place.
      ops.push(...diffJson(before[i], after[j], `${path}/${k}`));
      i++;
      j++;
      k++;
    }
  }
  return ops;
}

/** What makes two array items "the same item": a name for named objects (containers, env, volumes), else equality. */
function identity(item: unknown): string {
  if (isObject(item) && typeof item.name === "string") return `name:${item.name}`;
  return `value:${JSON.stringify(item)}`;
}

/** Index pairs of a longest common subsequence of two key lists. */
function alignArrays(a: string[], b: string[]): (readonly [number, number])[] {
  const lengths = Array.from(
    { length: a.length + 1 },
    () => new Array<number>(b.length + 1).fill(0),
  );
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lengths[i]![j] = a[i] === b[j]
        ? lengths[i + 1]![j + 1]! + 1
        : Math.max(lengths[i + 1]![j]!, lengths[i]![j + 1]!);
    }
  }
  const pairs: (readonly [number, number])[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) pairs.push([i++, j++] as const);
    else if (lengths[i + 1]![j]! >= lengths[i]![j + 1]!) i++;
    else j++;
  }
  return pairs;
}

/** Deep equality of JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length &&
      keys.every((key) => key in b && deepEqual(a[key], b[key]));
  }
  return false;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Applies operations to a JSON value, returning a new value (used to check diffs and by `mca inject` on JSON). */
export function applyJsonPatch(document: unknown, operations: JsonPatchOperation[]): unknown {
  let result = structuredClone(document);
  for (const operation of operations) {
    const segments = operation.path.split("/").slice(1).map((s) =>
      s.replaceAll("~1", "/").replaceAll("~0", "~")
    );
    if (segments.length === 0) {
      if (operation.op === "remove") throw new Error("Cannot remove the whole document");
      result = structuredClone(operation.value);
      continue;
    }
    const last = segments.pop()!;
    const parent = segments.reduce<unknown>((node, key) => {
      const next = (node as Record<string, unknown>)?.[key];
      if (typeof next !== "object" || next === null) {
        throw new Error(`Invalid patch path "${operation.path}"`);
      }
      return next;
    }, result) as Record<string, unknown> | unknown[];
    if (Array.isArray(parent)) {
      const index = last === "-" ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length) {
        throw new Error(`Invalid array index in patch path "${operation.path}"`);
      }
      if (operation.op === "add") parent.splice(index, 0, structuredClone(operation.value));
      else if (operation.op === "replace") parent[index] = structuredClone(operation.value);
      else parent.splice(index, 1);
    } else if (operation.op === "remove") {
      delete parent[last];
    } else {
      parent[last] = structuredClone(operation.value);
    }
  }
  return result;
}
