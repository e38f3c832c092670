import { assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { buildProgram } from "../../main.ts";
import { injectCommand, runProgram } from "../../src/cli/mod.ts";
import { tempDir } from "../_utils/temp_dir.ts";

async function mca(args: string[], stdin = "", stdinIsTerminal = true) {
  let stdout = "";
  let stderr = "";
  const io = { stdout: (t: string) => stdout += t, stderr: (t: string) => stderr += t };
  const program = buildProgram(io);
  // The inject action reads files through the real file system; stdin comes from the test.
  const command = program.commands.find((c) => c.name() === "inject")!;
  command.action((files: string[], options) =>
    injectCommand(files, options, {
      ...io,
      readFile: (p) => Deno.readTextFile(p),
      readStdin: () => Promise.resolve(stdin),
      stdinIsTerminal: () => stdinIsTerminal,
    })
  );
  const code = await runProgram(program, args, io);
  return { code, stdout, stderr };
}

Deno.test("mca inject writes injected YAML to stdout and reports on stderr", async () => {
  const result = await mca(["inject", "-f", "examples/app.yaml", "--image", "mca:test"]);
  assertEquals(result.code, 0);
  assertStringIncludes(result.stdout, "image: mca:test");
  assertStringIncludes(result.stdout, "# two replicas behind one Service");
  assertStringIncludes(
    result.stderr,
    "injected deployment/inventory -n shop (examples/app.yaml, document 1)",
  );
});

Deno.test("mca inject reads stdin with -, answers JSON with JSON, and says why it skipped", async () => {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "h" },
    spec: { hostNetwork: true, containers: [] },
  };
  const result = await mca(["inject", "-"], JSON.stringify(pod));
  assertEquals(result.code, 0);
  assertEquals(JSON.parse(result.stdout), pod);
  assertStringIncludes(
    result.stderr,
    "skipped  pod/h (<stdin>, document 1): hostNetwork pods share the node's network",
  );
});

Deno.test("mca inject on malformed input exits 1 with file, document, line and column, and prints nothing", async () => {
  await using dir = await tempDir();
  const good = await dir.write(
    "good.yaml",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: []}\n",
  );
  const bad = await dir.write("bad.yaml", "kind: ConfigMap\n---\nkind: Pod\n  metadata: x\n");
  const result = await mca(["inject", good, "-f", bad]);
  assertEquals(result.code, 1);
  assertEquals(result.stdout, "");
  assertStringIncludes(
    result.stderr,
    `Cannot parse manifest "${bad}": document 2, line 3, column 7: Nested mappings are not allowed`,
  );
});

Deno.test("mca inject without files reads what is piped into it", async () => {
  const manifest = await Deno.readTextFile("examples/app.yaml");
  const piped = await mca(["inject", "--image", "mca:test"], manifest, false);
  assertEquals(piped.code, 0, piped.stderr);
  assertStringIncludes(piped.stdout, "image: mca:test");
  assertStringIncludes(piped.stderr, "injected deployment/inventory -n shop (<stdin>, document 1)");
});

Deno.test("mca inject, as a process, reads a pipe when given no file", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", "main.ts", "inject", "--image", "mca:test"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(await Deno.readFile("examples/app.yaml"));
  await writer.close();
  const output = await child.output();
  const stderr = new TextDecoder().decode(output.stderr);
  assertEquals(output.code, 0, stderr);
  assertStringIncludes(new TextDecoder().decode(output.stdout), "image: mca:test");
});

Deno.test("mca inject without input is a usage error; a missing file is a clear failure", async () => {
  const none = await mca(["inject"]);
  assertEquals(none.code, 2);
  assertStringIncludes(none.stderr, "No input: pass files with -f");
  const missing = await mca(["inject", "-f", "/nonexistent/x.yaml"]);
  assertEquals(missing.code, 1);
  assertStringIncludes(missing.stderr, `Cannot read "/nonexistent/x.yaml"`);
});
