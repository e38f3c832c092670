/**
 * `mca inject` over text: YAML streams (comments, key order and untouched documents kept as
 * they were) or JSON (answered as JSON). Pure: text in, text and reports out.
 */
import {
  type Document,
  isMap,
  isSeq,
  type Node,
  parseAllDocuments,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";
import type { InjectOptions } from "./inject_settings.ts";
import { jsonErrorOffset } from "./_json_error_position.ts";
import { diffJson, type JsonPatchOperation } from "./json_patch.ts";
import { injectObject, type InjectReport, isKubernetesObject } from "./workloads.ts";

/** A manifest that cannot be parsed: where, and why. */
export class ManifestError extends Error {
  constructor(
    readonly source: string,
    readonly documentIndex: number,
    readonly line: number,
    readonly column: number,
    reason: string,
  ) {
    super(
      `Cannot parse manifest "${source}": document ${documentIndex}, line ${line}, column ${column}: ${reason}`,
    );
    this.name = "ManifestError";
  }
}

/** The injected text and what happened to each pod template. */
export interface ManifestResult {
  output: string;
  reports: (InjectReport & { document: number })[];
}

/** Injects every pod template in the text; throws ManifestError before producing anything if any document is malformed. */
export function injectManifests(
  text: string,
  options: InjectOptions,
  source: string,
): ManifestResult {
  return /^\s*[{[]/.test(text)
    ? injectJson(text, options, source)
    : injectYaml(text, options, source);
}

function injectJson(text: string, options: InjectOptions, source: string): ManifestResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const { line, column } = lineAndColumn(text, jsonErrorOffset(text));
    const reason = (error as Error).message.split(/, "|, \.\.\.|\n/)[0] ?? "invalid JSON";
    throw new ManifestError(source, 1, line, column, `invalid JSON: ${reason}`);
  }
  if (!isKubernetesObject(value)) return { output: text, reports: [] };
  const { object, reports } = injectObject(value, options);
  const changed = reports.some((report) => report.outcome !== "skipped") &&
    diffJson(value, object).length > 0;
  return {
    output: changed ? JSON.stringify(object, null, 2) + "\n" : text,
    reports: reports.map((report) => ({ ...report, document: 1 })),
  };
}

function injectYaml(text: string, options: InjectOptions, source: string): ManifestResult {
  const documents = parseAllDocuments(text, { prettyErrors: false });
  if (!Array.isArray(documents)) return { output: text, reports: [] }; // an empty stream
  documents.forEach((document, index) => {
    const [error] = document.errors;
    if (error) {
      const { line, column } = lineAndColumn(text, error.pos[0]);
      throw new ManifestError(
        source,
        index + 1,
        line,
        column,
        error.message.split("\n")[0] ?? "invalid YAML",
      );
    }
  });
  const indentSeq = !/^( *)[^\s#-][^\n]*:[ \t]*\n\1- /m.test(text);
  const reports: ManifestResult["reports"] = [];
  let output = "";
  let end = 0;
  documents.forEach((document, index) => {
    const [start, , nodeEnd] = document.range;
    const value = document.toJS();
    let ops: JsonPatchOperation[] = [];
    if (isKubernetesObject(value)) {
      const result = injectObject(value, options);
      reports.push(...result.reports.map((report) => ({ ...report, document: index + 1 })));
      ops = diffJson(value, result.object);
    }
    if (ops.length === 0) {
      output += text.slice(end, nodeEnd);
    } else {
      const prefix = text.slice(end, start);
      // Comments before the document are in the prefix already; printing them again would duplicate them.
      if (prefix.trim() !== "") clearLeadingComments(document);
      for (const op of ops) applyToDocument(document, op);
      output += prefix + document.toString({ lineWidth: 0, indentSeq });
    }
    end = nodeEnd;
  });
  return { output: output + text.slice(end), reports };
}

/** Forgets the comments above a document's first line; the parser may attach them to the document, its map or its first key. */
function clearLeadingComments(document: Document): void {
  document.commentBefore = null;
  const contents = document.contents;
  if (!isMap(contents)) return;
  contents.commentBefore = null;
  const firstKey = (contents as YAMLMap<unknown, unknown>).items[0]?.key;
  if (firstKey && typeof firstKey === "object" && "commentBefore" in firstKey) {
    (firstKey as { commentBefore?: string | null }).commentBefore = null;
  }
}

/** Applies one JSON Patch operation to a YAML document, creating nodes in the document's style. */
function applyToDocument(document: Document, op: JsonPatchOperation): void {
  const segments = op.path.split("/").slice(1).map((s) =>
    s.replaceAll("~1", "/").replaceAll("~0", "~")
  );
  const last = segments.pop();
  if (last === undefined) throw new Error("Cannot replace a whole document");
  let parent: unknown = document.contents;
  for (const segment of segments) parent = child(parent, segment);
  if (isSeq(parent)) {
    const seq = parent as YAMLSeq<unknown>;
    const index = last === "-" ? seq.items.length : Number(last);
    if (op.op === "remove") seq.items.splice(index, 1);
    else if (op.op === "add") seq.items.splice(index, 0, document.createNode(op.value));
    else seq.items[index] = document.createNode(op.value);
  } else if (isMap(parent)) {
    const map = parent as YAMLMap<unknown, unknown>;
    if (op.op === "remove") map.delete(last);
    else map.set(last, document.createNode(op.value));
  } else {
    throw new Error(`Cannot apply "${op.path}": its parent is not a map or a list`);
  }
}

function child(node: unknown, segment: string): Node | unknown {
  if (isSeq(node)) return (node as YAMLSeq<unknown>).items[Number(segment)];
  if (isMap(node)) return (node as YAMLMap<unknown, unknown>).get(segment, true);
  throw new Error(`Cannot follow "${segment}": not a map or a list`);
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}
