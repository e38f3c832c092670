/** Golden files for every workload kind and skip case, and idempotency over all of them. */
import { assert, assertEquals, assertThrows } from "../_utils/assert.ts";
import { injectManifests, ManifestError } from "../../src/inject/mod.ts";

const FIXTURES = new URL("../fixtures/inject/", import.meta.url);
const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";
// The image is fixed so that golden files do not change with every release.
const OPTIONS = { image: "ghcr.io/mca-k8s/mca:v0.0.0-test" };

const inputs = [...Deno.readDirSync(FIXTURES)]
  .map((entry) => entry.name)
  .filter((name) => !name.includes(".golden.") && /\.(ya?ml|json)$/.test(name))
  .sort();

for (const name of inputs) {
  Deno.test(`injectManifests() matches the golden file for ${name}`, async () => {
    const text = await Deno.readTextFile(new URL(name, FIXTURES));
    const golden = new URL(name.replace(/\.(\w+)$/, ".golden.$1"), FIXTURES);
    const { output } = injectManifests(text, OPTIONS, name);
    if (UPDATE) await Deno.writeTextFile(golden, output);
    assertEquals(output, await Deno.readTextFile(golden));
  });

  Deno.test(`injectManifests() is idempotent on ${name}`, async () => {
    const text = await Deno.readTextFile(new URL(name, FIXTURES));
    const once = injectManifests(text, OPTIONS, name).output;
    const twice = injectManifests(once, OPTIONS, name);
    assertEquals(twice.output, once);
    assert(
      twice.reports.every((report) => report.outcome !== "injected"),
      "a second pass injects nothing new",
    );
  });
}

Deno.test("injectManifests() reports each object's outcome and skip reason", async () => {
  const text = await Deno.readTextFile(new URL("list.yaml", FIXTURES));
  const { reports } = injectManifests(text, OPTIONS, "list.yaml");
  assertEquals(reports.map((r) => [r.kind, r.name, r.path, r.outcome, r.reason]), [
    ["Pod", "listed-pod", "items[1]", "injected", undefined],
    ["Deployment", "listed-deployment", "items[2]", "skipped", "host-network"],
  ]);
  const old = injectManifests(
    await Deno.readTextFile(new URL("old-sidecar.yaml", FIXTURES)),
    OPTIONS,
    "old",
  );
  assertEquals(old.reports[0]?.outcome, "updated");
});

Deno.test("injectManifests() keeps documents it does not change byte for byte", async () => {
  const text = await Deno.readTextFile(new URL("stream.yaml", FIXTURES));
  const { output } = injectManifests(text, OPTIONS, "stream.yaml");
  const untouched = text.split("---\n");
  const result = output.split("---\n");
  assertEquals(result[0], untouched[0]);
  assertEquals(result[1], untouched[1]);
  assertEquals(result[3], untouched[3]);
  assert(result[2] !== untouched[2]);
});

const malformed: [string, string, number, number, number][] = [
  // Lines count from the top of the file, not of the document.
  ["bad-indent", "apiVersion: v1\nkind: Pod\n---\nmetadata:\n  name: x\n bad: indent\n", 2, 6, 1],
  ["unclosed flow", "kind: Pod\nspec: {containers: [\n", 1, 3, 1],
  ["json", '{\n  "kind": "Pod",\n  "spec": }\n', 1, 3, 11],
];

for (const [what, text, document, line, column] of malformed) {
  Deno.test(`injectManifests() locates malformed input (${what}) by document, line and column`, () => {
    const error = assertThrows(
      () => injectManifests(text, OPTIONS, "bad.yaml"),
      ManifestError,
    ) as ManifestError;
    assertEquals([error.documentIndex, error.line, error.column], [document, line, column]);
    assert(
      error.message.startsWith(
        `Cannot parse manifest "bad.yaml": document ${document}, line ${line}`,
      ),
    );
  });
}

Deno.test("injectManifests() passes non-Kubernetes text through unchanged", () => {
  for (const text of ["", "# only a comment\n", "just: data\n", "[1, 2]\n", '{"no": "kind"}']) {
    assertEquals(injectManifests(text, OPTIONS, "x").output, text);
  }
});
