/** Assertions for tests (JSR's @std/assert is not reachable; node:assert is built in). */
import nodeAssert from "node:assert/strict";

/** Fails unless the value is truthy. */
export function assert(value: unknown, message?: string): asserts value {
  if (message === undefined) nodeAssert.ok(value);
  else nodeAssert.ok(value, message);
}

/** Deep, strict equality. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  if (message === undefined) nodeAssert.deepStrictEqual(actual, expected);
  else nodeAssert.deepStrictEqual(actual, expected, message);
}

/** Deep inequality. */
export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  if (message === undefined) nodeAssert.notDeepStrictEqual(actual, expected);
  else nodeAssert.notDeepStrictEqual(actual, expected, message);
}

/** Fails unless the text contains the part. */
export function assertStringIncludes(text: string, part: string, message?: string): void {
  nodeAssert.ok(
    text.includes(part),
    message ?? `expected ${JSON.stringify(text)} to contain ${JSON.stringify(part)}`,
  );
}

/** Fails unless fn throws an error of the class whose message contains the text. */
export function assertThrows(
  fn: () => unknown,
  errorClass: abstract new (...args: never[]) => Error = Error,
  includes?: string,
): Error {
  try {
    fn();
  } catch (error) {
    checkError(error, errorClass, includes);
    return error as Error;
  }
  throw new nodeAssert.AssertionError({ message: "expected the function to throw" });
}

/** Fails unless the promise rejects with an error of the class whose message contains the text. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  errorClass: abstract new (...args: never[]) => Error = Error,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    checkError(error, errorClass, includes);
    return error as Error;
  }
  throw new nodeAssert.AssertionError({ message: "expected the promise to reject" });
}

function checkError(
  error: unknown,
  errorClass: abstract new (...args: never[]) => Error,
  includes: string | undefined,
): void {
  nodeAssert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${String(error)}`);
  if (includes !== undefined) {
    const message = (error as Error).message;
    nodeAssert.ok(
      message.includes(includes),
      `expected message to contain ${JSON.stringify(includes)}: ${message}`,
    );
  }
}
