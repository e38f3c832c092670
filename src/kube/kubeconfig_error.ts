/** The error for a kubeconfig that cannot be used: it names the file and the field. */
export class KubeconfigError extends Error {
  /** The kubeconfig file, when one is concerned. */
  readonly file: string | undefined;
  /** The field path inside the file, e.g. `users[0].user.client-key`. */
  readonly field: string | undefined;

  constructor(message: string, options: { file?: string; field?: string; cause?: unknown } = {}) {
    const where = options.file ? `Invalid kubeconfig "${options.file}": ` : "Invalid kubeconfig: ";
    super(where + message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KubeconfigError";
    this.file = options.file;
    this.field = options.field;
  }
}
