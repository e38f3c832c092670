/**
 * The demo's "single-cluster app": an ordinary Kubernetes client that knows nothing of mca. It
 * loads the in-cluster config (as every client in a pod does), creates three ConfigMaps, lists
 * them, and reads one back by name. Run in a pod injected by mca, its requests reach the
 * sidecar, which decides where each one goes.
 *
 * The only concession to running outside a real pod: the kubelet stand-in puts the pod's
 * files under LOCAL_POD_ROOT instead of "/", so that is the prefix of the in-cluster paths.
 */
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

const config = new KubeConfig();
config.loadFromCluster(Deno.env.get("LOCAL_POD_ROOT") ?? "");
const api = config.makeApiClient(CoreV1Api);
const namespace = config.getContextObject(config.getCurrentContext())?.namespace ?? "default";
const say = (text: string) => console.log(`[app] ${text}`);

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
for (const item of list.items) {
  const cluster = item.metadata?.annotations?.["mca.k8s.io/cluster"] ?? "(not annotated)";
  say(`  ${item.metadata?.name}  from cluster ${cluster}`);
}

const read = await api.readNamespacedConfigMap({ name: "order-1001", namespace });
say(`read ${read.metadata?.name} by name: quantity ${read.data?.quantity}`);
