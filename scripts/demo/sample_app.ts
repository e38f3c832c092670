/**
 * The demo's "single-cluster app": an ordinary Kubernetes client that knows nothing of mca. It
 * loads the in-cluster config (as every client in a pod does), creates three ConfigMaps, lists
 * them, and reads one back by name. Run in a pod injected by mca, its requests reach the
 * sidecar, which decides where each one goes.
 *
 * With INVENTORY_WATCH=true it then stays up like a long-running app, reporting every change to
 * the ConfigMaps of its namespace, until it is stopped (SIGTERM).
 */
import { CoreV1Api, KubeConfig, type V1ConfigMap, Watch } from "@kubernetes/client-node";

const config = new KubeConfig();
config.loadFromCluster();
const api = config.makeApiClient(CoreV1Api);
const namespace = config.getContextObject(config.getCurrentContext())?.namespace ?? "default";
const say = (text: string) => console.log(`[app] ${text}`);
const clusterOf = (item: V1ConfigMap) =>
  item.metadata?.annotations?.["mca.k8s.io/cluster"] ?? "(not annotated)";

say(`API server: ${config.getCurrentCluster()?.server}, namespace "${namespace}"`);
const orders = [
  { name: "order-1001", labels: { app: "inventory", region: "east" } },
  { name: "order-1002", labels: { app: "inventory", region: "west" } },
  { name: "order-1003", labels: { app: "inventory" } },
];
for (const order of orders) {
  await api.createNamespacedConfigMap({
    namespace,
    body: { metadata: order, data: { item: "widget", quantity: "3" } },
  });
  say(`created ConfigMap ${order.name} (labels ${JSON.stringify(order.labels)})`);
}

const list = await api.listNamespacedConfigMap({ namespace, labelSelector: "app=inventory" });
say(`listed ${list.items.length} ConfigMaps with app=inventory:`);
for (const item of list.items) say(`  ${item.metadata?.name}  from cluster ${clusterOf(item)}`);

const read = await api.readNamespacedConfigMap({ name: "order-1001", namespace });
say(`read ${read.metadata?.name} by name: quantity ${read.data?.quantity}`);

if (Deno.env.get("INVENTORY_WATCH") === "true") {
  await watchConfigMaps(list.metadata?.resourceVersion);
}

/** Reports ConfigMap changes from `resourceVersion` on, resuming where a closed watch ended. */
async function watchConfigMaps(resourceVersion: string | undefined): Promise<never> {
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  say(`watching ConfigMaps in "${namespace}" (changes in any cluster show up here)`);
  const watch = new Watch(config);
  let from = resourceVersion;
  const restart = (reason: string) => {
    say(`watch failed (${reason}); watching again`);
    from = undefined;
  };
  while (true) {
    await new Promise<void>((resolve) => {
      watch.watch(
        `/api/v1/namespaces/${namespace}/configmaps`,
        from ? { resourceVersion: from, allowWatchBookmarks: true } : {},
        (type: string, item: V1ConfigMap) => {
          from = item.metadata?.resourceVersion ?? from;
          if (type !== "BOOKMARK") {
            say(`${type} ConfigMap ${item.metadata?.name} in cluster ${clusterOf(item)}`);
          }
        },
        (error?: unknown) => {
          // A clean end (the server's timeout) resumes; after an error, start over from now.
          if (error) restart(String((error as Error).message ?? error));
          resolve();
        },
      ).catch((error: Error) => {
        restart(error.message);
        resolve();
      });
    });
    await new Promise((wait) => setTimeout(wait, 1_000));
  }
}
