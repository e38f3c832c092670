/** The version of mca and of the runtime it runs on. */
import denoJson from "../deno.json" with { type: "json" };

/** mca's own version, from deno.json. */
export const MCA_VERSION: string = denoJson.version;

/** Facts printed by `mca version`. */
export interface VersionInfo {
  mca: string;
  deno: string;
  v8: string;
  typescript: string;
  os: string;
  arch: string;
}

/** Collects version facts from the running process. */
export function versionInfo(): VersionInfo {
  return {
    mca: MCA_VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    os: Deno.build.os,
    arch: Deno.build.arch,
  };
}

/** The User-Agent mca sends, in the style of kubectl's (`kubectl/v1.34.1 (linux/amd64)`). */
export function userAgent(component = "mca"): string {
  return `${component}/v${MCA_VERSION} (${Deno.build.os}/${Deno.build.arch}) deno/${Deno.version.deno}`;
}
