/** serviceEndpoint(): the Service port's ready endpoint, from EndpointSlices, or why there is none. */
import { assertEquals } from "../_utils/assert.ts";
import { serviceEndpoint } from "../../src/check/service_endpoint.ts";
import { KubeApiError, type KubeClient, statusOf } from "../../src/kube/mod.ts";

function fakeClient(objects: Record<string, unknown>): KubeClient {
  const read = (path: string) => {
    const key = path.split("?")[0]!;
    if (!(key in objects)) {
      return Promise.reject(new KubeApiError(statusOf(404, "NotFound", `${key} not found`)));
    }
    return Promise.resolve(objects[key]);
  };
  return { get: read, list: read } as unknown as KubeClient;
}

const SERVICE = "/api/v1/namespaces/mca-system/services/mca-webhook";
const SLICES = "/apis/discovery.k8s.io/v1/namespaces/mca-system/endpointslices";
const target = { namespace: "mca-system", name: "mca-webhook", port: 443 };

Deno.test("serviceEndpoint() picks a ready address and the target port of the Service port", async () => {
  const client = fakeClient({
    [SERVICE]: { spec: { ports: [{ name: "metrics", port: 9090 }, { name: "https", port: 443 }] } },
    [SLICES]: {
      items: [{
        ports: [{ name: "metrics", port: 9090 }, { name: "https", port: 8443 }],
        endpoints: [
          { addresses: ["10.0.0.4"], conditions: { ready: false } },
          { addresses: ["10.0.0.5"], conditions: { ready: true } },
        ],
      }],
    },
  });
  assertEquals(await serviceEndpoint(client, target), { host: "10.0.0.5", port: 8443 });
});

Deno.test("serviceEndpoint() says why there is no endpoint", async () => {
  assertEquals(
    await serviceEndpoint(fakeClient({}), target),
    { reason: `${SERVICE} not found` },
  );
  const noPort = fakeClient({ [SERVICE]: { spec: { ports: [{ port: 80 }] } } });
  assertEquals(await serviceEndpoint(noPort, target), {
    reason: 'Service "mca-system/mca-webhook" has no port 443',
  });
  const notReady = fakeClient({
    [SERVICE]: { spec: { ports: [{ port: 443 }] } },
    [SLICES]: {
      items: [{
        ports: [{ port: 8443 }],
        endpoints: [{ addresses: ["10.0.0.4"], conditions: { ready: false } }],
      }],
    },
  });
  assertEquals(await serviceEndpoint(notReady, target), {
    reason: 'Service "mca-system/mca-webhook" has no ready endpoint',
  });
});
