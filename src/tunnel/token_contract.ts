/**
 * The hub–agent contract of agent tokens (pure, apart from randomness and hashing): how an agent
 * with a join token registers, and how it rotates its agent token with an overlap.
 *
 * - `POST /agent/join`, `Authorization: Bearer <join token>`, the cluster in the connect
 *   contract's cluster header: the hub answers `{ "token": "<agent token>" }`, or a Status.
 * - `POST /agent/token`, `Authorization: Bearer <current agent token>`, body
 *   `{ "tokenSha256": "<hash of the next token>" }`: the hub accepts the next token and keeps
 *   the current one for an overlap; it answers `{ "overlapSeconds": n }`. The agent chose the
 *   next token and stored it before asking, so no crash can lose it; the hub sees only its hash.
 * - `DELETE /agent/token/previous` with the next token: the previous one is dropped.
 */
import { toHex } from "../bytes.ts";

/** Where an agent with a join token registers. */
export const AGENT_JOIN_PATH = "/agent/join";
/** Where an agent rotates its token. */
export const AGENT_TOKEN_PATH = "/agent/token";
/** Where an agent drops its previous token after the overlap. */
export const AGENT_PREVIOUS_TOKEN_PATH = "/agent/token/previous";

/** The hub's answer to a join. */
export interface JoinAnswer {
  token: string;
}

/** What an agent sends to rotate. */
export interface RotateRequest {
  tokenSha256: string;
}

/** The hub's answer to a rotation. */
export interface RotateAnswer {
  overlapSeconds: number;
}

/** Hex SHA-256 of a token. */
export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return toHex(digest);
}

/** A new random agent token (32 bytes, hex). */
export function newAgentToken(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** Whether a text is a hex SHA-256 (what a rotation request must carry). */
export function isTokenHash(text: unknown): text is string {
  return typeof text === "string" && /^[0-9a-f]{64}$/.test(text);
}

/** The bearer token of an Authorization header, if any. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
}
