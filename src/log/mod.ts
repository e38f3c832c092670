/**
 * Structured logging shared by every mode.
 *
 * @module
 */
export * from "./logger.ts";
