/** `mca version`: what is running, where. */
import { versionInfo } from "../version.ts";

/** Options of `mca version`. */
export interface VersionCommandOptions {
  output?: "text" | "json";
}

const GO_ARCH: Record<string, string> = { x86_64: "amd64", aarch64: "arm64" };

/** Prints version facts as text or JSON. */
export function versionCommand(
  options: VersionCommandOptions,
  write: (text: string) => void,
): void {
  const info = versionInfo();
  if (options.output === "json") {
    write(JSON.stringify(info, null, 2) + "\n");
    return;
  }
  write(
    [
      `mca v${info.mca}`,
      `deno ${info.deno} (v8 ${info.v8}, typescript ${info.typescript})`,
      `platform ${info.os}/${GO_ARCH[info.arch] ?? info.arch}`,
    ].join("\n") + "\n",
  );
}
