/**
 * Keeps other processes of the pod out of the proxy's memory and files. In a pod with
 * `shareProcessNamespace: true`, an app running as the proxy's user (65532, distroless's
 * `nonroot`, is common) could read the proxy's state, the CA's private key among it, through
 * `/proc/<pid>/root`; found in a real pod by tests/pods/sidecar_pod_e2e_test.ts. A process that
 * is not dumpable (prctl(2) PR_SET_DUMPABLE) has its /proc entries (root, cwd, environ, fd, mem)
 * owned by root and guarded by CAP_SYS_PTRACE, whatever the other process's user (proc(5)).
 */

/** What became of the attempt. */
export type NotDumpableResult =
  | { type: "done" }
  | { type: "skipped"; reason: string }
  | { type: "failed"; reason: string };

const PR_SET_DUMPABLE = 4;
const PR_GET_DUMPABLE = 3;

/** Marks this process not dumpable; on Linux only (elsewhere there is no /proc to guard). */
export function makeNotDumpable(os: string = Deno.build.os): NotDumpableResult {
  if (os !== "linux") return { type: "skipped", reason: `no /proc to guard on ${os}` };
  let libc: Deno.DynamicLibrary<{
    prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"]; result: "i32" };
  }>;
  try {
    // Already loaded by the runtime (glibc): dlopen finds it by its soname.
    libc = Deno.dlopen("libc.so.6", {
      prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
    });
  } catch (error) {
    return { type: "failed", reason: `cannot load libc: ${(error as Error).message}` };
  }
  try {
    if (libc.symbols.prctl(PR_SET_DUMPABLE, 0n, 0n, 0n, 0n) !== 0) {
      return { type: "failed", reason: "prctl(PR_SET_DUMPABLE) failed" };
    }
    const now = libc.symbols.prctl(PR_GET_DUMPABLE, 0n, 0n, 0n, 0n);
    return now === 0 ? { type: "done" } : { type: "failed", reason: `still dumpable (${now})` };
  } finally {
    libc.close();
  }
}
