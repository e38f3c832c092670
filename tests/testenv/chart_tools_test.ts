/** Where the chart tools live, and what a missing one says. */
import { assertEquals, assertRejects } from "../_utils/assert.ts";
import {
  chartToolPaths,
  findChartTools,
  HELM_VERSION,
  KUBECONFORM_VERSION,
  KUBERNETES_VERSION,
} from "../../src/testenv/mod.ts";
import { tempDir } from "../_utils/temp_dir.ts";

Deno.test("chartToolPaths() puts each tool in a versioned folder of the mca cache", () => {
  const env = (name: string) => ({ HOME: "/home/dev" } as Record<string, string>)[name];
  const paths = chartToolPaths({ env });
  assertEquals(paths.helm, `/home/dev/.cache/mca/tools/helm-${HELM_VERSION}/helm`);
  assertEquals(
    paths.kubeconform,
    `/home/dev/.cache/mca/tools/kubeconform-${KUBECONFORM_VERSION}/kubeconform`,
  );
  assertEquals(
    chartToolPaths({ env: (name) => name === "XDG_CACHE_HOME" ? "/cache" : undefined })
      .schemaLocation.startsWith(`/cache/mca/tools/kubernetes-json-schema-${KUBERNETES_VERSION}-`),
    true,
  );
});

Deno.test("findChartTools() names every missing tool and the command that builds them", async () => {
  await using cache = await tempDir();
  const error = await assertRejects(
    () => findChartTools({ env: (name) => name === "XDG_CACHE_HOME" ? cache.path : undefined }),
    Error,
    `Build them once with "scripts/deno run --allow-all scripts/chart_tools_build.ts"`,
  );
  for (const tool of ["helm", "kubeconform", "standalone-strict"]) {
    assertEquals(error.message.includes(tool), true, `${tool} in: ${error.message}`);
  }
});
