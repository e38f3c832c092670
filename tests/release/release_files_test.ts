/**
 * The release files agree with each other and with the code: the Dockerfile, .dockerignore,
 * the `compile` task and the workflows name the same binaries, targets, flags and image.
 * (scripts/lint_release_files lints them; this checks what a linter cannot know.)
 */
import { parse } from "yaml";
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { DEFAULT_IMAGE } from "../../src/inject/inject_settings.ts";

const ROOT = new URL("../../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));

const DENO_JSON = JSON.parse(read("deno.json"));
const DOCKERFILE = read("Dockerfile");
const RELEASE = parse(read(".github/workflows/release.yml"));
const CI = parse(read(".github/workflows/ci.yml"));
const ARCHITECTURES = { amd64: "x86_64-unknown-linux-gnu", arm64: "aarch64-unknown-linux-gnu" };

/** One `deno compile` of a command line: its flags, --target and -o. */
interface CompileCall {
  flags: string[];
  target: string;
  output: string;
}

/** The `deno compile` calls in a shell command line (`a && b`), with `$VARIABLES` left as is. */
function compileCalls(commandLine: string): CompileCall[] {
  return commandLine.split("&&").map((part) => part.trim().split(/\s+/))
    .filter((words) => words.includes("compile"))
    .map((words) => {
      const rest = words.slice(words.indexOf("compile") + 1, -1); // drop the entry point
      const take = (flag: string) => {
        const at = rest.indexOf(flag);
        assert(at >= 0, `"${flag}" missing in: ${commandLine}`);
        return rest.splice(at, 2)[1]!.replaceAll('"', "");
      };
      const target = take("--target");
      const output = take("-o");
      return { flags: rest, target, output };
    });
}

/** The release job's steps, by name or by the action they use. */
function releaseStep(nameOrAction: string): Record<string, unknown> {
  const steps = RELEASE.jobs.release.steps as Record<string, unknown>[];
  const step = steps.find((s) => s.name === nameOrAction || s.uses === nameOrAction);
  assert(step, `release.yml has no step "${nameOrAction}"`);
  return step;
}

Deno.test("the compile task builds dist/mca-linux-<arch> for amd64 and arm64", () => {
  const calls = compileCalls(DENO_JSON.tasks.compile);
  assertEquals(
    calls.map(({ target, output }) => [target, output]),
    Object.entries(ARCHITECTURES).map(([arch, target]) => [target, `dist/mca-linux-${arch}`]),
  );
});

Deno.test("the Dockerfile compiles with the compile task's flags and targets", () => {
  const run = DOCKERFILE.match(/RUN case "\$TARGETARCH" in([\s\S]*?)\n\n/);
  assert(run, "the Dockerfile's compile step is missing");
  const [call] = compileCalls(run[1]!.replaceAll("\\\n", " "));
  assertEquals(call?.flags, compileCalls(DENO_JSON.tasks.compile)[0]!.flags);
  for (const [arch, target] of Object.entries(ARCHITECTURES)) {
    assertStringIncludes(run[1]!, `${arch}) target=${target} ;;`);
  }
});

Deno.test("the prebuilt stage copies the compile task's outputs, which .dockerignore lets in", () => {
  assertStringIncludes(DOCKERFILE, "COPY dist/mca-linux-${TARGETARCH} /out/mca");
  const allowed = read(".dockerignore").split("\n").filter((line) => line.startsWith("!"));
  for (const { output } of compileCalls(DENO_JSON.tasks.compile)) {
    assert(allowed.includes(`!${output}`), `.dockerignore leaves out ${output}`);
  }
});

Deno.test("the image is distroless, runs as uid 65532 and starts mca", () => {
  const finalStage = DOCKERFILE.slice(DOCKERFILE.lastIndexOf("\nFROM "));
  assertStringIncludes(finalStage, "FROM gcr.io/distroless/cc-debian12:nonroot\n");
  assertStringIncludes(finalStage, "\nUSER 65532:65532\n");
  assertStringIncludes(finalStage, '\nENTRYPOINT ["/usr/local/bin/mca"]\n');
});

Deno.test("release.yml runs on v* tags and pushes the image the code uses by default", () => {
  assertEquals(RELEASE.on.push.tags, ["v*"]);
  const [repository, tag] = DEFAULT_IMAGE.split(":");
  assertEquals(RELEASE.env.IMAGE, repository);
  assertEquals(tag, `v${DENO_JSON.version}`);
  const build = releaseStep("docker/build-push-action@v6").with as Record<string, unknown>;
  assertEquals(build.tags, "${{ env.IMAGE }}:${{ github.ref_name }}");
  assertEquals(build.platforms, "linux/amd64,linux/arm64");
  assertEquals(build["build-args"], "MCA_BINARY=prebuilt");
  assertEquals(build.context, ".");
});

Deno.test("release.yml compiles with the compile task and publishes its outputs", () => {
  assertEquals(
    releaseStep("Compile dist/mca-linux-amd64 and dist/mca-linux-arm64").run,
    "scripts/deno task compile",
  );
  const publish = releaseStep("GitHub release with the binaries, the charts and SHA256SUMS");
  for (const { output } of compileCalls(DENO_JSON.tasks.compile)) {
    assertStringIncludes(String(publish.run), output);
  }
  assertStringIncludes(String(publish.run), "dist/SHA256SUMS");
  const packaged = String(releaseStep("Package the charts (host and member)").run);
  assertStringIncludes(packaged, "helm package charts/mca ");
  assertStringIncludes(packaged, "helm package charts/mca-agent ");
  assertStringIncludes(String(publish.run), "dist/mca-agent-$VERSION.tgz");
});

Deno.test("the workflows pin every action to a major version", () => {
  for (const workflow of [RELEASE, CI]) {
    for (const job of Object.values(workflow.jobs) as { steps: { uses?: string }[] }[]) {
      for (const { uses } of job.steps.filter((step) => step.uses)) {
        assert(/^[\w-]+\/[\w-]+@v\d+$/.test(uses!), `not pinned to a major version: ${uses}`);
      }
    }
  }
});

for (const [tag, code] of [["v" + DENO_JSON.version, 0], ["v99.0.0", 1]] as const) {
  Deno.test(`release.yml's version check ${code ? "refuses" : "accepts"} the tag ${tag}`, async () => {
    const output = await Deno.makeTempFile();
    try {
      const result = await new Deno.Command("bash", {
        args: ["-e", "-c", String(releaseStep("The tag is deno.json's version").run)],
        cwd: ROOT,
        env: { GITHUB_REF_NAME: tag, GITHUB_OUTPUT: output },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(result.code, code);
      if (code === 0) {
        assertEquals(await Deno.readTextFile(output), `version=${DENO_JSON.version}\n`);
      } else {
        assertStringIncludes(new TextDecoder().decode(result.stdout), '::error::Tag "v99.0.0"');
      }
    } finally {
      await Deno.remove(output);
    }
  });
}

Deno.test("ci.yml runs .ci/run as root with Node 20 and Go", () => {
  const steps = CI.jobs.ci.steps as {
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
  }[];
  assertEquals(steps.find((s) => s.uses === "actions/setup-node@v4")?.with?.["node-version"], 20);
  assert(steps.some((s) => s.uses === "actions/setup-go@v5"), "ci.yml does not set up Go");
  // Root: the tests with real nodes need it (network namespaces, iptables, cgroups, mounts).
  assertEquals(steps.at(-1)?.run, 'sudo -E env "PATH=$PATH" .ci/run');
});
