/** Credentials applied to each request, and the providers that produce them. */

/** What a request carries: an Authorization header value and/or a client key pair. */
export interface Credentials {
  authorization?: string;
  certPem?: string;
  keyPem?: string;
}

/** Produces current credentials; told when the server refused them so it can refresh. */
export interface CredentialProvider {
  get(): Promise<Credentials>;
  /** Called after a 401 with the credentials that were refused. */
  invalidate(refused: Credentials): void;
}

/** A provider of fixed credentials (a static token, basic auth, or none). */
export function staticCredentials(credentials: Credentials): CredentialProvider {
  return { get: () => Promise.resolve(credentials), invalidate: () => {} };
}

/** The Authorization value for a bearer token. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** The Authorization value for basic auth (RFC 7617). */
export function basicAuthorization(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}
