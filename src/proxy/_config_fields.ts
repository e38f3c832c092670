/** Reading the fields of a parsed YAML config, each failure naming its field. Pure. */
import { parseDuration } from "../common/mod.ts";

/** Throws the config's error with this message. */
export type Fail = (message: string) => never;

/** The value as a map. */
export function object(
  value: unknown,
  field: string,
  fail: Fail,
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(`${field} must be a map`);
  }
  return value as Record<string, unknown>;
}

/** The value as a list. */
export function array(value: unknown, field: string, fail: Fail): unknown[] {
  if (!Array.isArray(value)) fail(`${field} must be a list`);
  return value as unknown[];
}

/** The value as a non-empty string. */
export function string(value: unknown, field: string, fail: Fail): string {
  if (typeof value !== "string" || value === "") fail(`${field} must be a non-empty string`);
  return value as string;
}

/** The value as a non-empty string, or undefined when absent (or null). */
export function optionalString(
  value: unknown,
  field: string,
  fail: Fail,
): string | undefined {
  return value === undefined || value === null ? undefined : string(value, field, fail);
}

/** The value as a duration ("10s", "1m") in milliseconds. */
export function duration(value: unknown, field: string, fail: Fail): number {
  try {
    return parseDuration(string(value, field, fail), field);
  } catch (error) {
    return fail((error as Error).message);
  }
}

/** The value as true or false. */
export function bool(value: unknown, field: string, fail: Fail): boolean {
  if (typeof value !== "boolean") fail(`${field} must be true or false`);
  return value as boolean;
}
