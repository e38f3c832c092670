/**
 * yamux multiplexing (hashicorp/yamux spec), wire-compatible with github.com/hashicorp/yamux.
 *
 * @module
 */
export * from "./frame.ts";
export * from "./stream.ts";
export * from "./session.ts";
