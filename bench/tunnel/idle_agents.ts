// Simulated idle agents for the hub memory benchmark: N WebSocket + yamux sessions to the hub.
// deno run -A idle_agents.ts HUB_URL CA_FILE CLUSTER TOKEN_FILE N
// @ts-types="npm:@types/ws@8.18.1"
import { WebSocket } from "ws";
import { websocketDuplex } from "../../src/tunnel/mod.ts";
import { YamuxSession } from "../../src/tunnel/mod.ts";

const [hub, caFile, cluster, tokenFile, count] = Deno.args;
const ca = Deno.readTextFileSync(caFile!);
const token = Deno.readTextFileSync(tokenFile!).trim();
const sessions: YamuxSession[] = [];
for (let i = 0; i < Number(count); i++) {
  const ws = new WebSocket(`${hub}/connect`, {
    ca,
    headers: {
      Authorization: `Bearer ${token}`,
      "x-mca-cluster": cluster!,
      "x-mca-agent": `idle-${i}`,
    },
    perMessageDeflate: false,
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  sessions.push(new YamuxSession(websocketDuplex(ws), { client: true, keepAliveIntervalMs: 0 }));
}
console.log(`connected ${sessions.length}`);
for await (const _ of Deno.stdin.readable) { /* idle until stdin closes */ }
Deno.exit(0);
