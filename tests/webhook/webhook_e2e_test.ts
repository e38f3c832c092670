/** `mca webhook` against a real kube-apiserver: registration, injection, CA sharing and repair. */
import { assert, assertEquals, assertStringIncludes } from "../_utils/assert.ts";
import { e2eTest, kubectl, kubectlOk, uniqueName } from "../_utils/e2e.ts";
import { mcaCommand } from "../_utils/mca_process.ts";
import { runCommand } from "../_utils/run_command.ts";
import { tempDir } from "../_utils/temp_dir.ts";
import { caBundle, startWebhook, waitReady } from "../_utils/webhook_process.ts";
import { freePort, type ManagedProcess } from "../../src/testenv/mod.ts";
import { waitFor } from "../../src/common/mod.ts";

const MWC = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";

type Configuration = {
  webhooks: { name: string; clientConfig: { caBundle?: string; url?: string } }[];
};
type PodContainer = {
  name: string;
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
};
type Pod = {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    initContainers?: PodContainer[];
    containers: PodContainer[];
    volumes?: { name: string }[];
  };
};

/** The volumes and each container's mounts, as stored: what must not depend on the front end. */
function mountsOf(pod: Pod): { volumes: string[]; mounts: Record<string, string[]> } {
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  return {
    volumes: (pod.spec.volumes ?? []).map((v) => v.name).sort(),
    mounts: Object.fromEntries(
      containers.map((c) => [
        c.name,
        (c.volumeMounts ?? []).map((m) => `${m.name}:${m.mountPath}`).sort(),
      ]),
    ),
  };
}

function labelledPod(
  name: string,
  labels: Record<string, string>,
  extra: Record<string, unknown> = {},
) {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels },
    spec: { containers: [{ name: "app", image: "registry.example/app:1" }], ...extra },
  });
}

e2eTest(
  "mca webhook registers itself, injects opted-in pods, repairs its caBundle, keeps its CA and shares it",
  async (env) => {
    const host = env.cluster("host");
    await using dir = await tempDir();
    const system = uniqueName("mca-system");
    const configuration = uniqueName("mca-e2e");
    const apps = uniqueName("apps");
    const optInNamespace = uniqueName("opted-in");
    await kubectlOk(host, ["create", "namespace", system]);
    for (const ns of [apps, optInNamespace]) {
      await kubectlOk(host, ["create", "namespace", ns]);
      await kubectlOk(host, ["create", "serviceaccount", "default", "-n", ns]);
    }
    await kubectlOk(host, ["label", "namespace", optInNamespace, "mca.k8s.io/inject=enabled"]);
    // kube-system has no default ServiceAccount here (no controller creates it).
    await kubectl(host, ["create", "serviceaccount", "default", "-n", "kube-system"]);
    const portA = freePort();
    let webhookA = await startWebhook(host, {
      dir: dir.path,
      namespace: system,
      configuration,
      port: portA,
    });
    const processes: ManagedProcess[] = [webhookA];
    try {
      await waitReady(host, configuration, portA, webhookA);
      const bundle = await caBundle(host, configuration);

      // A labelled pod is stored with the sidecar; creating it retries until the new configuration is in effect.
      const injected = await waitFor(async () => {
        const name = uniqueName("labelled");
        const out = await kubectlOk(host, ["create", "-n", apps, "-o", "json", "-f", "-"], {
          stdin: labelledPod(name, { "mca.k8s.io/inject": "true" }),
        });
        const pod = JSON.parse(out) as Pod;
        return pod.spec.initContainers?.[0]?.name === "mca-proxy" ? pod : undefined;
      }, { description: "a labelled pod to be injected" });
      const app = injected.spec.containers[0]!;
      assertEquals(app.env?.find((e) => e.name === "KUBERNETES_SERVICE_HOST")?.value, "127.0.0.1");
      assert(injected.metadata.annotations?.["mca.k8s.io/status"]);

      // `mca inject` before admission and the webhook after the ServiceAccount admission plugin
      // store the same pod: no kube-api-access volume, the sidecar's own mounts only.
      const [mca, ...mcaArgs] = mcaCommand();
      const cliInjected = await runCommand(mca!, [
        ...mcaArgs,
        "inject",
        "--image=registry.example/mca:e2e",
        "-",
      ], { stdin: labelledPod(uniqueName("cli"), {}) });
      assertEquals(cliInjected.code, 0, cliInjected.stderr);
      const viaCli = JSON.parse(
        await kubectlOk(host, ["create", "-n", apps, "-o", "json", "-f", "-"], {
          stdin: cliInjected.stdout,
        }),
      ) as Pod;
      assertEquals(mountsOf(viaCli), mountsOf(injected));
      assert(
        !mountsOf(injected).volumes.some((name) => name.startsWith("kube-api-access-")),
        JSON.stringify(mountsOf(injected)),
      );
      assertEquals(
        mountsOf(injected).mounts["app"],
        ["mca-app-credentials:/var/run/secrets/kubernetes.io/serviceaccount"],
      );

      const plain = JSON.parse(
        await kubectlOk(host, ["create", "-n", apps, "-o", "json", "-f", "-"], {
          stdin: labelledPod("plain", {}),
        }),
      ) as Pod;
      assertEquals(plain.spec.initContainers, undefined);

      const system_ = JSON.parse(
        await kubectlOk(host, ["create", "-n", "kube-system", "-o", "json", "-f", "-"], {
          stdin: labelledPod(uniqueName("sys"), { "mca.k8s.io/inject": "true" }),
        }),
      ) as Pod;
      assertEquals(system_.spec.initContainers, undefined, "kube-system is never injected");

      // Namespace opt-in: unlabelled pods are injected there, pods labelled "false" are not.
      const byNamespace = JSON.parse(
        await kubectlOk(host, ["create", "-n", optInNamespace, "-o", "json", "-f", "-"], {
          stdin: labelledPod("ns-pod", {}),
        }),
      ) as Pod;
      assertEquals(byNamespace.spec.initContainers?.[0]?.name, "mca-proxy");
      const optedOut = JSON.parse(
        await kubectlOk(host, ["create", "-n", optInNamespace, "-o", "json", "-f", "-"], {
          stdin: labelledPod("out", { "mca.k8s.io/inject": "false" }),
        }),
      ) as Pod;
      assertEquals(optedOut.spec.initContainers, undefined);

      // An opted-in pod that cannot work is refused with the reason.
      const refused = await kubectl(host, ["create", "-n", apps, "-f", "-"], {
        stdin: labelledPod("host-net", { "mca.k8s.io/inject": "true" }, { hostNetwork: true }),
      });
      assertEquals(refused.code, 1);
      assertStringIncludes(
        refused.stderr,
        'mca cannot inject its sidecar into pod "host-net": hostNetwork pods',
      );

      // Dry-run requests are injected too, and nothing is stored.
      const dryRun = JSON.parse(
        await kubectlOk(host, ["create", "-n", apps, "--dry-run=server", "-o", "json", "-f", "-"], {
          stdin: labelledPod("dry", { "mca.k8s.io/inject": "true" }),
        }),
      ) as Pod;
      assertEquals(dryRun.spec.initContainers?.[0]?.name, "mca-proxy");
      assertEquals((await kubectl(host, ["get", "pod", "dry", "-n", apps])).code, 1);

      // Someone resets the caBundle: the webhook notices through its watch and repairs it.
      await host.client.patch(`${MWC}/${configuration}`, [
        { op: "replace", path: "/webhooks/0/clientConfig/caBundle", value: btoa("garbage") },
      ], "json");
      await waitFor(async () => (await caBundle(host, configuration)) === bundle, {
        description: "the caBundle to be repaired",
      });

      // A restart keeps the CA: the bundle stays the same and pods are still injected.
      await webhookA.stop();
      webhookA = await startWebhook(host, {
        dir: dir.path,
        namespace: system,
        configuration,
        port: portA,
      });
      processes.push(webhookA);
      await waitReady(host, configuration, portA, webhookA);
      assertEquals(await caBundle(host, configuration), bundle);

      // A second replica shares the CA: its certificate is trusted through the same bundle.
      const portB = freePort();
      const webhookB = await startWebhook(host, {
        dir: dir.path,
        namespace: system,
        configuration,
        port: portB,
        urlPort: portA,
      });
      processes.push(webhookB);
      await waitReady(host, configuration, portB, webhookB);
      assertEquals(await caBundle(host, configuration), bundle);
      const afterRestart = JSON.parse(
        await kubectlOk(host, ["create", "-n", apps, "-o", "json", "-f", "-"], {
          stdin: labelledPod(uniqueName("again"), { "mca.k8s.io/inject": "true" }),
        }),
      ) as Pod;
      assertEquals(afterRestart.spec.initContainers?.[0]?.name, "mca-proxy");
    } finally {
      await Promise.all(processes.map((p) => p.stop()));
      await kubectl(host, ["delete", "mutatingwebhookconfiguration", configuration]);
    }
  },
);
