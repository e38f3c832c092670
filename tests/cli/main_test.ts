import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { buildProgram } from "../../main.ts";
import { runProgram } from "../../src/cli/mod.ts";

async function run(args: string[]) {
  let stdout = "";
  let stderr = "";
  const io = { stdout: (t: string) => stdout += t, stderr: (t: string) => stderr += t };
  const code = await runProgram(buildProgram(io), args, io);
  return { code, stdout, stderr };
}

Deno.test("mca version prints mca, Deno and platform; -o json is machine-readable", async () => {
  const text = await run(["version"]);
  assertEquals(text.code, 0);
  assert(
    /^mca v\d+\.\d+\.\d+\ndeno \d+\.\d+\.\d+ \(v8 .*\)\nplatform linux\/(amd64|arm64)\n$/.test(
      text.stdout,
    ),
    text.stdout,
  );
  const json = JSON.parse((await run(["version", "-o", "json"])).stdout);
  assertEquals(json.deno, Deno.version.deno);
  assertEquals(Object.keys(json), ["mca", "deno", "v8", "typescript", "os", "arch"]);
});

Deno.test("mca --help and mca <command> --help explain, exit 0", async () => {
  const help = await run(["--help"]);
  assertEquals(help.code, 0);
  assertStringIncludes(help.stdout, "Usage: mca [options] [command]");
  assertStringIncludes(help.stdout, "version");
  const versionHelp = await run(["version", "--help"]);
  assertEquals(versionHelp.code, 0);
  assertStringIncludes(versionHelp.stdout, "--output <format>");
  const bare = await run([]);
  assertEquals(bare.code, 0);
  assertStringIncludes(bare.stdout, "Usage: mca");
});

const usageErrors: [string[], string][] = [
  [["bogus"], "Unknown command 'bogus'"],
  [["version", "--bad"], "Unknown option '--bad'"],
  [["version", "-o", "yaml"], "argument 'yaml' is invalid. Allowed choices are text, json"],
  [["version", "extra"], "Too many arguments for 'version'"],
  [
    ["agent", "install", "--hub=https://hub:9443", "--cluster=east"],
    "Name the member cluster with --member-context or --member-kubeconfig",
  ],
  [["agent", "token", "create", "--hub=https://hub:9443"], "--cluster is required"],
  [["agent", "token", "create", "--cluster=East"], 'Invalid --cluster "East"'],
  [["agent", "token", "create", "--cluster=east"], "--hub is required"],
  [
    ["agent", "token", "create", "--cluster=east", "--hub=https://hub:9443", "--ttl=soon"],
    'Invalid --ttl "soon"',
  ],
  [
    [
      "agent",
      "manifest",
      "--hub=https://hub:9443",
      "--cluster=east",
      "--hub-ca-file=/dev/null",
      "--join-token=not-a-token",
    ],
    "Invalid --join-token: expected <id>.<secret>",
  ],
];

for (const [args, message] of usageErrors) {
  Deno.test(`mca ${args.join(" ")} is a usage error: one line on stderr, exit code 2`, async () => {
    const result = await run(args);
    assertEquals(result.code, 2);
    assertEquals(result.stdout, "");
    assertStringIncludes(result.stderr, message);
    assertEquals(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
  });
}

Deno.test("the mca process exits 2 on a usage error and 0 on version", async () => {
  const mca = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", new URL("../../main.ts", import.meta.url).pathname, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const bad = await mca(["nope"]);
  assertEquals(bad.code, 2);
  assertStringIncludes(new TextDecoder().decode(bad.stderr), "Unknown command 'nope'");
  const ok = await mca(["version"]);
  assertEquals(ok.code, 0);
  assertStringIncludes(new TextDecoder().decode(ok.stdout), "mca v");
});

Deno.test("main.ts loads no Node or npm module, and no Kubernetes client, before it parses the command line", async () => {
  // The sidecar's postStart hook runs main.ts beside every starting proxy and is answered
  // before commander loads: what main.ts imports statically is loaded for it too.
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../../main.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "null",
  }).output();
  assertEquals(info.code, 0);
  const graph = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    roots: string[];
    modules: Array<{
      specifier: string;
      dependencies?: Array<{ code?: { specifier: string }; isDynamic?: boolean }>;
    }>;
  };
  const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
  const loaded = new Set<string>();
  const visit = (specifier: string) => {
    if (loaded.has(specifier)) return;
    loaded.add(specifier);
    for (const dependency of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (dependency.code && !dependency.isDynamic) visit(dependency.code.specifier);
    }
  };
  graph.roots.forEach(visit);
  const heavy = [...loaded].filter((s) =>
    s.startsWith("node:") || s.startsWith("npm:") || s.includes("/src/kube/")
  );
  assertEquals(heavy, []);
});
