/** Temporary folders that remove themselves (`await using`). */

/** A temporary folder with a helper to write files into it. */
export interface TempDir extends AsyncDisposable {
  path: string;
  /** Writes a file (relative to the folder) and returns its absolute path. */
  write(name: string, content: string, mode?: number): Promise<string>;
}

/** Creates a temporary folder, removed on dispose. */
export async function tempDir(prefix = "mca-test-"): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async write(name, content, mode) {
      const file = `${path}/${name}`;
      const parent = file.slice(0, file.lastIndexOf("/"));
      await Deno.mkdir(parent, { recursive: true });
      await Deno.writeTextFile(file, content, mode === undefined ? {} : { mode });
      return file;
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}
