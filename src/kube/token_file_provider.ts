/** Bearer tokens from a file that is rotated under us (projected service-account tokens, tokenFile). */
import { bearer, type CredentialProvider, type Credentials } from "./credentials.ts";

/** Settings and dependencies of a token file provider. */
export interface TokenFileProviderOptions {
  /** Used until the file yields a token (kubeconfig `token` next to `tokenFile`). */
  initialToken?: string;
  /** How long a read token is trusted before the file is read again; default 60 s, as client-go. */
  reloadAfterMs?: number;
  readTextFile?: (path: string) => Promise<string>;
  now?: () => number;
  /** Told when a re-read fails and the last good token is kept. */
  onReadError?: (error: Error) => void;
}

/** Reads the token when it is older than the reload period or was refused; keeps the last good one if a read fails. */
export function tokenFileProvider(
  path: string,
  options: TokenFileProviderOptions = {},
): CredentialProvider {
  const reloadAfterMs = options.reloadAfterMs ?? 60_000;
  const readTextFile = options.readTextFile ?? Deno.readTextFile;
  const now = options.now ?? Date.now;
  let token = options.initialToken;
  let readAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<string> | undefined;

  const reload = async (): Promise<string> => {
    try {
      const text = (await readTextFile(path)).trim();
      if (!text) throw new Error(`token file "${path}" is empty`);
      token = text;
      readAt = now();
      return text;
    } catch (error) {
      if (token === undefined) {
        throw new Error(`Cannot read token file "${path}": ${(error as Error).message}`);
      }
      options.onReadError?.(error as Error);
      readAt = now();
      return token;
    }
  };

  return {
    async get(): Promise<Credentials> {
      if (token !== undefined && now() - readAt < reloadAfterMs) {
        return { authorization: bearer(token) };
      }
      pending ??= reload().finally(() => pending = undefined);
      return { authorization: bearer(await pending) };
    },
    invalidate(refused: Credentials): void {
      if (token !== undefined && refused.authorization === bearer(token)) {
        readAt = Number.NEGATIVE_INFINITY;
      }
    },
  };
}
