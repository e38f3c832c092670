import { servePlainHttp1 } from "../_utils/plain_http1.ts";
import { rawHttpExchange } from "../_utils/raw_http.ts";
import { runUpgradeCases, type UpgradePath } from "../forward/upgrade_cases.ts";
import { silentLogger } from "../../src/log/mod.ts";
import { createMetricsRegistry } from "../../src/metrics/mod.ts";
import {
  createProxyHandler,
  createProxyMetrics,
  defaultProxyConfig,
  OwnerIndex,
} from "../../src/proxy/mod.ts";

// The sidecar's upgrade, through its exported handler only: everything to the home cluster.
runUpgradeCases("the sidecar", "home", async (member): Promise<UpgradePath> => {
  const handler = createProxyHandler({
    config: defaultProxyConfig,
    upstream: (cluster) => cluster === "home" ? member : undefined,
    token: "the-pod-token",
    index: new OwnerIndex(),
    metrics: createProxyMetrics(createMetricsRegistry()),
    logger: silentLogger,
    maxBodyBytes: 1024 * 1024,
  });
  const server = await servePlainHttp1({
    request: (req, res) => handler.handleRequest(req, res),
    upgrade: (req, socket, head) => handler.handleUpgrade(req, socket, head),
  });
  return {
    open: async (early) =>
      await rawHttpExchange(
        await server.connect(),
        "GET /api/v1/namespaces/default/pods/p/exec?command=sh HTTP/1.1\r\n" +
          "Host: proxy\r\nAuthorization: Bearer the-pod-token\r\nConnection: Upgrade\r\n" +
          "Upgrade: websocket\r\n\r\n" + early,
      ),
    close: () => server.close(),
  };
});
