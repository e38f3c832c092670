import { assert, assertEquals } from "../_utils/assert.ts";
import {
  HEALTH_PORT,
  injectPodTemplate,
  type PodTemplate,
  resolveSidecarSettings,
  SERVICE_ACCOUNT_PATH,
  SIDECAR_NAME,
} from "../../src/inject/mod.ts";

const pod = (
  spec: Partial<PodTemplate["spec"]> = {},
  annotations: Record<string, string> = {},
): PodTemplate => ({
  metadata: { name: "p", annotations },
  spec: { containers: [{ name: "app", image: "app:1" }], ...spec },
});

Deno.test("injectPodTemplate() adds a native sidecar first, whose postStart hook waits for the proxy's readiness", () => {
  const result = injectPodTemplate(pod({ initContainers: [{ name: "setup", image: "setup:1" }] }));
  assert(result.injected);
  const [sidecar, setup] = result.template.spec.initContainers!;
  assertEquals(sidecar?.name, SIDECAR_NAME);
  assertEquals(sidecar?.restartPolicy, "Always");
  assertEquals(
    (sidecar?.lifecycle as { postStart: { exec: { command: string[] } } }).postStart.exec.command,
    [
      "/usr/local/bin/mca",
      "proxy",
      "wait",
      `--health-url=http://127.0.0.1:${HEALTH_PORT}/readyz`,
      "--timeout=120s",
    ],
  );
  // The hook holds the app back; a startup probe would only hold it longer.
  assertEquals(sidecar?.startupProbe, undefined);
  assertEquals(setup?.name, "setup");
  // The app's own init container and the app are both pointed at the proxy.
  for (const container of [setup!, result.template.spec.containers[0]!]) {
    assertEquals(
      container.env?.find((e) => e.name === "KUBERNETES_SERVICE_HOST")?.value,
      "127.0.0.1",
    );
    assertEquals(container.env?.find((e) => e.name === "KUBERNETES_SERVICE_PORT")?.value, "6443");
    const mount = container.volumeMounts?.find((m) => m.mountPath === SERVICE_ACCOUNT_PATH);
    assertEquals(mount, {
      name: "mca-app-credentials",
      mountPath: SERVICE_ACCOUNT_PATH,
      readOnly: true,
    });
  }
  // The sidecar is not pointed at itself.
  assertEquals(sidecar?.env?.some((e) => e.name === "KUBERNETES_SERVICE_HOST"), false);
});

Deno.test("injectPodTemplate() gives the sidecar the pod's credentials through an explicit projected volume", () => {
  const result = injectPodTemplate(
    pod({ automountServiceAccountToken: false }, { "mca.k8s.io/inject-without-automount": "true" }),
  );
  assert(result.injected);
  const projected = result.template.spec.volumes?.find((v) => v.name === "mca-pod-credentials")
    ?.projected as {
      sources: Record<string, unknown>[];
    };
  assertEquals(projected.sources.map((s) => Object.keys(s)[0]), [
    "serviceAccountToken",
    "configMap",
    "downwardAPI",
  ]);
});

const skips: [string, PodTemplate, string][] = [
  ["hostNetwork", pod({ hostNetwork: true }), "host-network"],
  ["automount off", pod({ automountServiceAccountToken: false }), "no-automount"],
  ["opt-out annotation", pod({}, { "mca.k8s.io/inject": "false" }), "opted-out"],
  ["a bad quantity", pod({}, { "mca.k8s.io/proxy-cpu-request": "fast" }), "invalid-settings"],
  ["a bad log level", pod({}, { "mca.k8s.io/log-level": "loud" }), "invalid-settings"],
  ["a bad config name", pod({}, { "mca.k8s.io/config": "Not_A_Name" }), "invalid-settings"],
];

for (const [what, template, reason] of skips) {
  Deno.test(`injectPodTemplate() skips a pod with ${what}, saying why, and leaves it unchanged`, () => {
    const result = injectPodTemplate(template);
    assertEquals(result.injected, false);
    if (result.injected) return;
    assertEquals(result.reason, reason);
    assert(result.message.length > 10);
    assertEquals(result.template, template);
  });
}

Deno.test("resolveSidecarSettings() lets annotations override the injector's defaults", () => {
  const settings = resolveSidecarSettings({
    image: "default:1",
    logLevel: "warn",
    memoryLimit: "128Mi",
  }, {
    "mca.k8s.io/proxy-image": "custom:2",
    "mca.k8s.io/proxy-cpu-limit": "500m",
  });
  assertEquals(settings.image, "custom:2");
  assertEquals(settings.logLevel, "warn");
  assertEquals(settings.resources, {
    requests: { cpu: "10m", memory: "64Mi" },
    limits: { cpu: "500m", memory: "128Mi" },
  });
});
