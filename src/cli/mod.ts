/**
 * Command-line plumbing: exit codes, error output, and the commands' entry points.
 *
 * @module
 */
export * from "./run_program.ts";
export * from "./version_command.ts";
export * from "./inject_command.ts";
export * from "./webhook_command.ts";
export * from "./proxy_command.ts";
export * from "../common/duration.ts";
export * from "./completion.ts";
export * from "./completion_command.ts";
