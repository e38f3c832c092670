import { assertEquals } from "../_utils/assert.ts";
import { buildProgram } from "../../main.ts";
import { runProgram } from "../../src/cli/mod.ts";

async function run(args: string[]) {
  let stderr = "";
  const io = { stdout: () => {}, stderr: (t: string) => stderr += t };
  const code = await runProgram(buildProgram(io), args, io);
  return { code, stderr };
}

Deno.test("mca agent uninstall names each missing or wrong flag before opening any cluster", async () => {
  const cases: [string[], string][] = [
    [[], "--cluster is required: the member's name on the hub\n"],
    [
      ["--cluster=west"],
      "Name the member cluster with --member-context or --member-kubeconfig " +
      "(without them the agent would be looked for in the host cluster)\n",
    ],
    [
      ["--cluster=west", "--member-context=west", "--wait=soon"],
      'Invalid --wait "soon": use a duration such as "90s", "15m", "12h" or "30d"\n',
    ],
  ];
  for (const [flags, message] of cases) {
    // --kubeconfig names a file that does not exist: reading it would fail differently.
    const result = await run(["agent", "uninstall", "--kubeconfig=/nonexistent", ...flags]);
    assertEquals(result, { code: 2, stderr: message }, flags.join(" "));
  }
});
