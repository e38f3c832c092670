/** Typed reads of untrusted parsed YAML/JSON, with errors that name the field path. */

/** Thrown by the readers; callers wrap it with the file name. */
export class FieldError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field} ${message}`);
    this.name = "FieldError";
  }
}

/** A plain object or undefined; anything else is an error. */
export function optionalObject(value: unknown, field: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new FieldError(field, "must be an object");
  }
  return value as Record<string, unknown>;
}

/** A list or undefined (YAML null counts as absent). */
export function optionalArray(value: unknown, field: string): unknown[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new FieldError(field, "must be a list");
  return value;
}

/** A string or undefined. */
export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new FieldError(field, "must be a string");
  return value;
}

/** A required non-empty string. */
export function requiredString(value: unknown, field: string): string {
  const text = optionalString(value, field);
  if (text === undefined || text === "") throw new FieldError(field, "is required");
  return text;
}

/** A boolean or undefined. */
export function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw new FieldError(field, "must be true or false");
  return value;
}

/** A list of strings or undefined. */
export function optionalStringList(value: unknown, field: string): string[] | undefined {
  return optionalArray(value, field)?.map((item, i) => requiredString(item, `${field}[${i}]`));
}

/** Decodes base64 text (whitespace allowed) to a UTF-8 string. */
export function decodeBase64Field(value: unknown, field: string): string | undefined {
  const text = optionalString(value, field);
  if (text === undefined) return undefined;
  try {
    const bytes = Uint8Array.from(atob(text.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  } catch {
    throw new FieldError(field, "is not valid base64");
  }
}
